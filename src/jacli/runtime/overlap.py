"""Two stages at once: one in a forked child process, the other here.

In CPython two threads cannot import torch and SymPy side by side (the GIL is held while a
module runs and while a library is loaded), so a one-shot command that needs both pays them
one after the other. ``in_child(fn, *args)`` forks; the child runs ``fn(*args)`` and sends
its answer back, pickled, through a pipe; the parent works meanwhile and reads it with
``Pending.result``. Only plain data may travel: a torch object reaching the pipe goes as its
``tolist()``, so the parent never imports torch to read an answer.

``usable()`` says whether forking is safe and can pay: Linux, inside ``one_shot()`` (a
process that answers once and exits: never the Python API or ``batch``), torch not yet
imported (or imported and not yet run: ``usable(torch_loaded=True)``), no thread but the
main one and jacli's watchdog (the child drops it: a thread does not survive a fork), and
not switched off by ``JACLI_OVERLAP=0``. Imports no torch.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager

from jacli.bounds import OutOfTime, install_watchdog
from jacli.watchdog import GRACE
from jacli.errors import JacliError, internal_error
from jacli.runtime.wire import (HEAD, dumps, packed, plain, read_frame, send,  # noqa: F401
                               unpacked)  # (plain: read as overlap.plain)

START = 30.0  # seconds a child may take to reach ``started()``: importing torch, under load
_ONE_SHOT = False
_MEANWHILE: list = []  # ``one_shot``'s work for a parent that waits
_CHILD_FD: int | None = None  # in the child: the pipe to the parent
_INBOX_FD: int | None = None  # in a child started with an inbox: the pipe from the parent


@contextmanager
def one_shot(yes: bool = True):
    """Inside: this process answers one request and exits (the console script), so a torch
    import that only a child pays (the parent never shares it) costs nothing later;
    ``one_shot(False)``: it answers many (``jacli batch``). On leaving, the children that
    answered are reaped."""
    global _ONE_SHOT
    before, _ONE_SHOT = _ONE_SHOT, yes
    try:
        yield
    finally:
        _ONE_SHOT = before
        _MEANWHILE.clear()
        reap()


def meanwhile(fn) -> None:
    """Inside ``one_shot``: ``fn`` is worth running while the parent waits for a child
    (importing what it will print with). One that fails is left for the real call to meet
    again. Outside: nothing."""
    if _ONE_SHOT:
        _MEANWHILE.append(fn)


def may_fork() -> bool:
    """Whether jacli may fork at all: Linux, and not switched off by ``JACLI_OVERLAP=0``."""
    return (os.environ.get("JACLI_OVERLAP", "1") != "0" and sys.platform.startswith("linux")
            and hasattr(os, "fork"))


def usable(torch_loaded: bool = False) -> bool:
    """Whether ``in_child`` may be used now (see the module's docstring). ``torch_loaded``:
    the caller has imported torch but run nothing on it yet, so no native thread of torch's
    exists to be lost in the fork, and the child computes on one thread (``--at-file``'s
    checked points: ``many.stream``)."""
    return (_ONE_SHOT and may_fork() and (torch_loaded or "torch" not in sys.modules) and all(
                t is threading.main_thread() or t.name == "jacli-watchdog"
                for t in threading.enumerate()))


def started() -> None:
    """In a child: its budgeted work starts now; the parent then allows it the ``seconds``
    of ``Pending.result`` from here (before, ``START`` for its imports). Elsewhere: nothing."""
    if _CHILD_FD is not None:
        send(_CHILD_FD, b"s", b"")


def part(value) -> None:
    """In a child: send ``value`` to the parent now, ahead of the answer (``Pending.part``)."""
    send(_CHILD_FD, b"p", dumps(value))


def receive():
    """In a child started with an inbox: the parent's next value (``Pending.send``), waited
    for (a parent that ends first takes this process with it: ``_die_with``)."""
    import pickle

    kind, payload = read_frame(_INBOX_FD)
    if kind != b"m":
        os._exit(0)  # the parent closed the inbox: it wants no answer
    return pickle.loads(payload)


def in_child(fn, *args, inbox: bool = False) -> Pending:
    """Fork; the child runs ``fn(*args)``, sends its value (or its ``JacliError``; any other
    exception as an internal error) and exits without running the parent's cleanup.
    ``inbox``: the parent may also send it values (``Pending.send``, ``receive``)."""
    global _CHILD_FD, _INBOX_FD
    read, write = os.pipe()
    inbox_read, inbox_write = os.pipe() if inbox else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()  # nothing buffered before the fork is written twice
    parent = os.getpid()
    with warnings.catch_warnings():  # Python 3.12+ warns of fork() beside a thread: the one
        warnings.simplefilter("ignore", DeprecationWarning)  # here, the watchdog, holds no
        pid = os.fork()  # lock the child takes (the child drops it)
    if pid:
        os.close(write)
        if inbox:
            os.close(inbox_read)
        return Pending(pid, read, inbox_write)
    try:  # the child: it never returns from here
        os.close(read)
        if inbox:
            os.close(inbox_write)
        _CHILD_FD, _INBOX_FD = write, inbox_read
        _die_with(parent)
        install_watchdog(None)  # its thread stayed with the parent, whose wait holds us
        send(write, *_answer(fn, args))
        os.close(write)  # the parent goes on now, not after this process has unmapped torch
        sys.stderr.flush()
    finally:
        os._exit(0)


def _die_with(parent: int) -> None:
    """Be killed when the parent ends first (its watchdog's exit, a kill): no orphan
    computes on. Linux's ``prctl(PR_SET_PDEATHSIG)``; ctypes is loaded already (NumPy)."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before prctl took effect
        os._exit(0)


def _answer(fn, args) -> tuple[bytes, bytes]:
    try:
        return b"r", dumps(fn(*args))
    except KeyboardInterrupt:
        return b"i", b""
    except BaseException as e:  # noqa: BLE001 - every failure goes to the parent
        return b"e", sendable(e)


def sendable(e: BaseException) -> bytes:
    """An error, pickled to travel (``wire.packed``): a ``JacliError`` as it is, any other
    as an internal error; one that cannot be pickled, said plainly."""
    err = e if isinstance(e, JacliError) else internal_error(e)
    try:
        return dumps(packed(err))
    except Exception as bad:  # noqa: BLE001 - an error that cannot travel, said plainly
        return dumps(packed(internal_error(RuntimeError(f"{err} (unsendable: {bad})"))))


class Pending:
    """A child's answer, to come. ``result`` waits for it; ``part`` for a part sent before
    it (``overlap.part``); ``send`` writes to a child started with an inbox; ``cancel`` ends
    the child."""

    def __init__(self, pid: int, fd: int, out: int | None = None) -> None:
        self.pid, self.fd, self.out, self.status, self.answered = pid, fd, out, None, False
        self.data, self.started = bytearray(), False

    def result(self, seconds: float, stage: str):
        """The child's value, or its error raised here. Runs ``one_shot``'s ``meanwhile``
        work first. Waits at most ``START`` for the child to start, then ``seconds`` plus
        ``watchdog.GRACE`` (the watchdog's rule); past that the child is killed and
        ``OutOfTime(stage, seconds)`` raised (``OutOfTime("start of the " + stage, START)``
        before it started). A child that ends without an answer is an internal error. An answered
        child is reaped by ``reap`` (its exit, unmapping torch, takes 15–30 ms)."""
        while _MEANWHILE:
            try:
                _MEANWHILE.pop(0)()
            except Exception:  # noqa: BLE001 - met again, and reported, where it is needed
                pass
        try:
            kind, payload = self._read(seconds, stage)
            self.answered = kind is not None and kind != b"p"
        finally:
            self.cancel()  # killed and reaped unless it answered
        _LEFT.append(self)
        return self._value(kind, payload, stage)

    def part(self, seconds: float, stage: str):
        """The child's next part (sent by ``overlap.part``), waited for as ``result`` waits;
        its error (or an answer that came instead) raised here, the child then ended."""
        kind, payload = self._read(seconds, stage)
        if kind == b"p":
            import pickle

            return pickle.loads(payload)
        self.answered = kind is not None
        self.cancel()
        _LEFT.append(self)
        if kind == b"r":
            raise internal_error(RuntimeError(f"the {stage}'s process answered too soon"))
        return self._value(kind, payload, stage)

    def send(self, value) -> None:
        """``value`` to the child (``overlap.receive``), a torch object as its ``tolist()``;
        nothing if the child has ended (its answer, read next, says why)."""
        try:
            send(self.out, b"m", dumps(value))
        except OSError:  # a closed pipe: the child answered (an error) or died
            pass

    def _value(self, kind: bytes | None, payload: bytes, stage: str):
        import pickle

        if kind == b"r":
            return pickle.loads(payload)
        if kind == b"i":
            raise KeyboardInterrupt
        if kind == b"e":
            raise unpacked(pickle.loads(payload))
        raise internal_error(RuntimeError(f"the {stage}'s process ended without an answer "
                                          f"({_ending(self.status)})"))

    def _read(self, seconds: float, stage: str) -> tuple[bytes | None, bytes]:
        """Frames until a part or the answer (``(None, b"")``: the child closed the pipe
        without). Before the child started: ``START``; after: ``seconds`` plus ``GRACE``."""
        import select

        wait, late = (seconds + GRACE, OutOfTime(stage, seconds)) if self.started else (
            START, OutOfTime(f"start of the {stage}", START))
        deadline, data = time.monotonic() + wait, self.data
        while True:
            while len(data) >= HEAD.size:
                kind, size = HEAD.unpack_from(data)
                if len(data) < HEAD.size + size:
                    break
                payload = bytes(data[HEAD.size:HEAD.size + size])
                del data[:HEAD.size + size]
                if kind != b"s":
                    return kind, payload
                self.started = True  # the stage's budget from here
                deadline, late = time.monotonic() + seconds + GRACE, OutOfTime(stage, seconds)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise late
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None, b""
            data += chunk

    def cancel(self) -> None:
        """End the child: killed unless it answered, then reaped (an answered one by
        ``reap``); its pipes closed. Idempotent."""
        for name in ("fd", "out"):
            if getattr(self, name) is not None:
                os.close(getattr(self, name))
                setattr(self, name, None)
        if not self.answered and self.status is None:
            os.kill(self.pid, signal.SIGKILL)  # a zombie takes it too
            self.status = os.waitpid(self.pid, 0)[1]


_LEFT: list[Pending] = []  # answered children, reaped by ``reap``


def reap() -> None:
    """Wait for the children that answered (``one_shot`` does, on leaving)."""
    while _LEFT:
        child = _LEFT.pop()
        if child.status is None:
            child.status = os.waitpid(child.pid, 0)[1]


def _ending(status: int | None) -> str:
    if status is not None and os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status or 0)}"
