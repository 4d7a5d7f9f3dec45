"""``jacli batch``'s request lines from stdin, read without a sleeping reader's wake-up.

A client in a loop of round trips (write a request, read its answer, write the next) sends
its next line within microseconds of reading an answer. A reader blocked in ``read`` has gone
to sleep by then, and the kernel's wake-up — often on the other core, its caches cold — cost
~60 µs of a ~570 µs small request on 2 cores (bench/ ``batch`` row, measured with and
without). So after each answer the reader polls the pipe for up to ``SPIN_S`` before it
sleeps in ``read``: a bounded busy wait, none while lines are already waiting (a file piped
in), only while the client's last request came within ``SPIN_S`` (a slower client costs
one ``SPIN_S`` of CPU, then none), and only where a second CPU can run the client
meanwhile. The lines are those ``for line in sys.stdin`` gives on POSIX: the stream's
encoding and error handler, split after each ``"\n"`` only (Python's stdin translates no
other newline there). Elsewhere (no ``select`` on pipes), the stream's own iteration.
"""

from __future__ import annotations

import codecs
import os
import select
import time
from typing import Iterator, TextIO

SPIN_S = 0.002  # how long an idle reader polls before it sleeps (a client's next request
# comes within ~50 µs of its answer; one thinking longer wakes a sleeper, as before)
CHUNK = 1 << 16


def request_lines(stream: TextIO) -> Iterator[str]:
    """The lines of ``stream`` (each with its ``"\\n"``, the last one possibly without), as
    iterating ``stream`` gives them; polled before each blocking read where that pays
    (``spins``), else ``stream``'s own iteration."""
    fd = _fd(stream)
    if fd is None or not spins():
        yield from stream
        return
    decoder = codecs.getincrementaldecoder(stream.encoding)(stream.errors or "strict")
    # a line's start, read in earlier chunks (a long line is joined once, when its end
    # comes: no quadratic re-scan)
    pending: list[str] = []
    spin = True
    while True:
        start = time.perf_counter()
        if spin:
            _wait_briefly(fd)
        chunk = _read(fd)
        # poll next time only if input came soon this time: a client that takes longer
        # between requests costs one SPIN_S of CPU, then none until it is quick again
        spin = time.perf_counter() - start <= SPIN_S
        text = decoder.decode(chunk, final=not chunk)
        *complete, tail = text.split("\n")
        if complete:
            complete[0] = "".join(pending) + complete[0]
            pending = []
            yield from (line + "\n" for line in complete)
        pending.append(tail)
        if not chunk:
            rest = "".join(pending)
            if rest:
                yield rest
            return


def spins() -> bool:
    """Whether polling pays: a second CPU this process may run beside (one CPU: the client
    could not send its request while the reader spins)."""
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):  # (no affinity call on this platform)
        return (os.cpu_count() or 1) >= 2


def _fd(stream: TextIO) -> int | None:
    """The stream's file descriptor, read directly (``batch`` is its first reader: nothing
    is buffered in Python yet), or ``None`` (an in-memory stream, as tests give)."""
    if os.name != "posix":
        return None
    try:
        return stream.fileno() if stream.encoding else None
    except (AttributeError, OSError, ValueError):
        return None


def _read(fd: int) -> bytes:
    """``os.read``, waiting in ``select`` while a non-blocking descriptor (a parent may have
    set O_NONBLOCK on the pipe it gave) has nothing yet."""
    while True:
        try:
            return os.read(fd, CHUNK)
        except BlockingIOError:
            select.select([fd], [], [])


def _wait_briefly(fd: int) -> None:
    """Poll ``fd`` until it is readable or ``SPIN_S`` has passed."""
    end = time.perf_counter() + SPIN_S
    while not select.select([fd], [], [], 0)[0] and time.perf_counter() < end:
        pass
