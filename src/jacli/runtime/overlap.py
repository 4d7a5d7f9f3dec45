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

import io
import os
import signal
import struct
import sys
import threading
import time
import warnings
from contextlib import contextmanager

from jacli.bounds import GRACE, OutOfTime, install_watchdog
from jacli.errors import JacliError, internal_error

START = 30.0  # seconds a child may take to reach ``started()``: importing torch, under load
_HEAD = struct.Struct("<cQ")  # a frame: its kind (s: started, r/e/i: the answer), its length
_ONE_SHOT = False
_MEANWHILE: list = []  # ``one_shot``'s work for a parent that waits
_CHILD_FD: int | None = None  # in the child: the pipe to the parent


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
        _send(_CHILD_FD, b"s", b"")


def in_child(fn, *args) -> Pending:
    """Fork; the child runs ``fn(*args)``, sends its value (or its ``JacliError``; any other
    exception as an internal error) and exits without running the parent's cleanup."""
    global _CHILD_FD
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()  # nothing buffered before the fork is written twice
    parent = os.getpid()
    with warnings.catch_warnings():  # Python 3.12+ warns of fork() beside a thread: the one
        warnings.simplefilter("ignore", DeprecationWarning)  # here, the watchdog, holds no
        pid = os.fork()  # lock the child takes (the child drops it)
    if pid:
        os.close(write)
        return Pending(pid, read)
    try:  # the child: it never returns from here
        os.close(read)
        _CHILD_FD = write
        _die_with(parent)
        install_watchdog(None)  # its thread stayed with the parent, whose wait holds us
        _send(write, *_answer(fn, args))
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
        return b"r", _dumps(fn(*args))
    except KeyboardInterrupt:
        return b"i", b""
    except BaseException as e:  # noqa: BLE001 - every failure goes to the parent
        err = e if isinstance(e, JacliError) else internal_error(e)
        try:
            return b"e", _dumps((type(err), err.args, vars(err)))
        except Exception as bad:  # noqa: BLE001 - an error that cannot travel, said plainly
            err = internal_error(RuntimeError(f"{err} (unsendable: {bad})"))
            return b"e", _dumps((type(err), err.args, vars(err)))


_ATOMS = (float, int, bool, str, type(None))


def plain(x):
    """``x`` with every object that has ``tolist()`` (a tensor, an array, a wrapper of one)
    made its ``tolist()``, inside lists, tuples and dicts; other objects as they are."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = x if all(type(i) in _ATOMS for i in x) else [plain(i) for i in x]
        if all(a is b for a, b in zip(items, x)):
            return x  # nothing to change (a named tuple stays one)
        return type(x)._make(items) if hasattr(x, "_make") else type(x)(items)
    return x.tolist() if hasattr(x, "tolist") else x


def _dumps(value) -> bytes:
    """``value`` pickled, a torch object in it (a tensor, a wrapper of one) as its
    ``tolist()``: the parent never imports torch to read it."""
    import pickle

    class Plain(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj).__module__.partition(".")[0] != "torch":
                return NotImplemented
            if not hasattr(obj, "tolist"):
                raise TypeError(f"a {type(obj).__name__} cannot be sent without torch")
            return _same, (obj.tolist(),)

    out = io.BytesIO()
    Plain(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _same(x):
    return x


def _send(fd: int, kind: bytes, payload: bytes) -> None:
    view = memoryview(_HEAD.pack(kind, len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


class Pending:
    """A child's answer, to come. ``result`` waits for it; ``cancel`` ends the child."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd, self.status, self.answered = pid, fd, None, False

    def result(self, seconds: float, stage: str):
        """The child's value, or its error raised here. Runs ``one_shot``'s ``meanwhile``
        work first. Waits at most ``START`` for the child to start, then ``seconds`` plus
        ``bounds.GRACE`` (the watchdog's rule); past that the child is killed and
        ``OutOfTime(stage, seconds)`` raised (``OutOfTime("start of the " + stage, START)``
        before it started). A child that ends without an answer is an internal error. An answered
        child is reaped by ``reap`` (its exit, unmapping torch, takes 15–30 ms)."""
        while _MEANWHILE:
            try:
                _MEANWHILE.pop(0)()
            except Exception:  # noqa: BLE001 - met again, and reported, where it is needed
                pass
        import pickle

        try:
            kind, payload = self._read(seconds, stage)
        finally:
            self.cancel()  # killed and reaped unless it answered
        _LEFT.append(self)
        if kind == b"r":
            return pickle.loads(payload)
        if kind == b"i":
            raise KeyboardInterrupt
        if kind == b"e":
            cls, args, state = pickle.loads(payload)
            err = cls.__new__(cls, *args)  # its own __init__ may want other arguments
            err.__dict__.update(state)
            raise err
        raise internal_error(RuntimeError(f"the {stage}'s process ended without an answer "
                                          f"({_ending(self.status)})"))

    def _read(self, seconds: float, stage: str) -> tuple[bytes | None, bytes]:
        """Frames until the answer (``(None, b"")``: the child closed the pipe without)."""
        import select

        data, deadline = bytearray(), time.monotonic() + START
        late = OutOfTime(f"start of the {stage}", START)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise late
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None, b""
            data += chunk
            while len(data) >= _HEAD.size:
                kind, size = _HEAD.unpack_from(data)
                if len(data) < _HEAD.size + size:
                    break
                if kind != b"s":
                    self.answered = True
                    return kind, bytes(data[_HEAD.size:_HEAD.size + size])
                deadline = time.monotonic() + seconds + GRACE  # started: the stage's budget
                late = OutOfTime(stage, seconds)
                del data[:_HEAD.size]

    def cancel(self) -> None:
        """End the child: killed unless it answered, then reaped (an answered one by
        ``reap``); its pipe closed. Idempotent."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
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
