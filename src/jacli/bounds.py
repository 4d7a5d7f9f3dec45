"""Bounds: the size limits that keep untrusted input small, and the wall-clock budgets that
keep work from hanging. Every limit is documented in the README.

Size limits are checked before any heavy work, so an oversized input costs milliseconds, not
memory. Time budgets interrupt long SymPy work cleanly: SymPy and mpmath are Python code, so a
SIGALRM raised as an exception stops them at the next bytecode (measured:
``exp(exp(exp(exp(E)))).evalf()`` runs forever and stops within milliseconds of the alarm).
Budgets nest: an inner ``within`` gets at most what the outer one has left, and the outer timer
is restored afterwards. A signal neither interrupts a long C call (torch, BLAS: it is handled
when the call returns) nor reaches another thread, so the command line also runs a
``Watchdog``: a thread that ends the process (exit 3, one error line) when a budget is overrun
by ``GRACE`` seconds, on any thread. Imports nothing of jacli.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

try:  # signal's own functions, without the enum conversions of the ``signal`` wrappers
    import _signal
except ImportError:  # pragma: no cover - not CPython
    _signal = signal

# Python's recursion limit while SymPy walks trees up to ``Limits.depth`` deep (and while its
# printers turn them to text): one number for every stage that needs it.
RECURSION = 8000

# -- size limits --------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """Bounds on input size and work. ``Limits()`` holds the defaults."""

    source_chars: int = 20_000  # expression / program text
    value_chars: int = 4_000_000  # one --at / --v / --u text (parsed within the time budget)
    nodes: int = 5_000  # syntax-tree nodes in the program
    depth: int = 100  # nesting depth of the program (parentheses, calls, operators)
    digits: int = 400  # digits in one number literal
    exponent: int = 10_000  # |n| of a constant exponent the symbolic side will expand
    static_int: int = 10**12  # largest shape/dim argument (e.g. ones(10**5, 10**5))
    tensor_elements: int = 10_000_000  # elements in one tensor (program or --at)
    jacobian_entries: int = 1_000_000  # numeric Jacobian m*n: 1000×1000 (≈ 20 MB of JSON)
    symbolic_entries: int = 10_000  # symbolic Jacobian m*n before it is skipped with a notice
    timeout: float = 10.0  # seconds per stage: input parsing, autograd, SymPy (each its own)


DEFAULT_LIMITS = Limits()


# -- time budgets -------------------------------------------------------------------------

class OutOfTime(Exception):
    """Raised inside the budgeted block when its time is up; ``stage`` names the block."""

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(f"{stage} ran out of time ({seconds:g} s)")
        self.stage = stage
        self.seconds = seconds


_deadlines: list[tuple[float, str, float]] = []  # (deadline, stage, seconds), innermost last


def _on_alarm(signum, frame):
    if _deadlines:
        if _importing(frame) or _in_budgets(frame):  # raised inside a module's first import,
            # the exception would leave it half made for the rest of the process
            # (torch._dynamo, seconds under load); inside ``within``'s own bookkeeping, it
            # would leave the budget armed for the rest of the run: raise after it
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        deadline, stage, seconds = min(_deadlines)
        if time.monotonic() < deadline:  # an early wake (a retry's): sleep to the deadline
            _arm()
            return
        # raised inside a finalizer or a gc callback, the exception is printed and dropped
        # ("Exception ignored in"): ask again shortly; leaving the budget disarms it
        _signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise OutOfTime(stage, seconds)


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _in_budgets(frame) -> bool:
    """Whether ``frame`` (or its caller) is ``within`` entering or leaving a budget."""
    for _ in range(2):
        if frame is None:
            return False
        if frame.f_code in _BOOKKEEPING:
            return True
        frame = frame.f_back
    return False


def _enabled() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def _arm() -> None:
    if _deadlines:
        remaining = max(min(d for d, _, _ in _deadlines) - time.monotonic(), 1e-3)
        _signal.setitimer(signal.ITIMER_REAL, remaining)
    else:
        _signal.setitimer(signal.ITIMER_REAL, 0)


class within:
    """``with within(seconds, stage):`` runs the block with at most ``seconds`` (``None``: no
    limit) and raises ``OutOfTime`` (on the main thread; the watchdog, when one runs, holds
    every thread to it). A class, not a generator: exact evaluation opens one per value, and
    the two generator-based managers it replaced cost 18 µs a block, this one ~5."""

    __slots__ = ("seconds", "stage", "entry", "previous", "dog", "token", "depth")

    def __init__(self, seconds: float | None, stage: str) -> None:
        self.seconds, self.stage = seconds, stage

    def __enter__(self) -> "within":
        if self.seconds is None:
            return self
        # the watchdog holds a thread's outermost budget only: an inner one (0.5 s for one
        # exact value) is a soft limit whose overrun skips that value, not the run's end
        self.dog, self.depth = _watchdog, getattr(_depth, "n", 0)
        self.token = (self.dog.open(self.seconds, self.stage)
                      if self.dog is not None and self.depth == 0 else None)
        _depth.n = self.depth + 1
        self.entry = None
        if _enabled():
            # the handler is installed by the outermost budget and restored when it closes
            self.previous = _signal.signal(signal.SIGALRM, _on_alarm) if not _deadlines else None
            self.entry = (time.monotonic() + self.seconds, self.stage, self.seconds)
            _deadlines.append(self.entry)
            _arm()
        return self

    def __exit__(self, *exc) -> bool:
        if self.seconds is None:
            return False
        if self.entry is not None:
            _deadlines.remove(self.entry)
            _arm()
            if not _deadlines:
                _signal.signal(signal.SIGALRM, self.previous)
        _depth.n = self.depth
        if self.token is not None:
            self.dog.close(self.token)
        return False


_BOOKKEEPING = {within.__enter__.__code__, within.__exit__.__code__, _arm.__code__}


# -- the watchdog -------------------------------------------------------------------------

GRACE = 2.0  # seconds past a budget before the watchdog acts: time for a C call to return


def overrun(stage: str, seconds: float) -> str:
    """What a budget overrun by ``GRACE`` is called (a long C call, which a signal cannot
    stop), by the watchdog or by a parent waiting for a child process."""
    return (f"the {stage} ran out of time ({seconds:g} s) and did not stop within {GRACE:g} s "
            "more (a long call inside torch or SymPy); jacli stopped it")


class Watchdog:
    """A daemon thread holding the process to its budgets where a signal cannot: past the
    earliest open budget plus ``grace`` (or past the whole run's limit, when one is set) it
    calls ``expire(stage, seconds)``, which must end the process (the CLI's writes one
    error line and calls ``os._exit(3)``). Only a process that may die this way installs
    one (the command line; never the Python API inside someone's notebook).

    A C call that holds the GIL throughout (Python's own big-integer arithmetic) keeps this
    thread from running until it returns; torch and BLAS release the GIL."""

    def __init__(self, expire, grace: float = GRACE, run_limit: float | None = None) -> None:
        self.expire, self.grace, self.run_limit = expire, grace, run_limit
        self._open: dict[int, tuple[float, str, float]] = {}  # token -> (deadline, stage, s)
        self._run: tuple[float, str, float] | None = None  # the whole run's deadline
        self._token = 0
        self._until: float | None = None  # when the thread wakes next (None: when woken)
        self._wake = threading.Condition()
        threading.Thread(target=self._watch, name="jacli-watchdog", daemon=True).start()

    def open(self, seconds: float, stage: str) -> int:
        """A budget begins; the first one also starts the whole run's clock. The thread is
        woken only when this budget ends before the time it sleeps to: waking it for every
        stage cost a batch request 0.2 ms of thread switches."""
        with self._wake:
            now = time.monotonic()
            if self._run is None and self.run_limit is not None:
                self._run = (now + self.run_limit, "run", self.run_limit)
            self._token += 1
            self._open[self._token] = (now + seconds, stage, seconds)
            if self._until is None or now + seconds + self.grace < self._until:
                self._wake.notify()
            return self._token

    def close(self, token: int) -> None:
        """A budget ends. Nothing to wake for: the thread, sleeping to the earliest deadline,
        finds it gone when it wakes and sleeps on."""
        with self._wake:
            self._open.pop(token, None)

    def _watch(self) -> None:
        with self._wake:
            while True:
                due = min([*self._open.values(), *([self._run] if self._run else [])],
                          default=None)
                self._until = None if due is None else due[0] + self.grace
                wait = None if due is None else self._until - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                self._wake.wait(wait)
        self.expire(due[1], due[2])


_watchdog: Watchdog | None = None
_depth = threading.local()  # budgets open on this thread: the watchdog holds the outermost


def install_watchdog(watchdog: Watchdog | None) -> None:
    """Hold every later budget to ``watchdog`` (``None``: none; the default)."""
    global _watchdog
    _watchdog = watchdog


@contextmanager
def gc_paused():
    """Hold off the cyclic garbage collector while millions of small lists and dicts are
    built: reference counting frees them, and collections that walk torch's large heap cost
    ~10× the work itself (measured: ``tolist`` of 10⁵×9 floats 0.57 s with them, 0.06 s
    without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
