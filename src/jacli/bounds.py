"""Bounds: the size limits that keep untrusted input small, and the wall-clock budgets that
keep work from hanging. Every limit is documented in the README.

Size limits are checked before any heavy work, so an oversized input costs milliseconds, not
memory. Time budgets interrupt long SymPy work cleanly: SymPy and mpmath are Python code, so a
SIGALRM raised as an exception stops them at the next bytecode (measured:
``exp(exp(exp(exp(E)))).evalf()`` runs forever and stops within milliseconds of the alarm).
Budgets nest: an inner ``within`` gets at most what the outer one has left, and the outer timer
is restored afterwards. A signal neither interrupts a long C call (torch, BLAS: it is handled
when the call returns) nor reaches another thread, so the command line also runs a
``Watchdog`` (``jacli.watchdog``): a thread that ends the process (exit 3, one error line)
when a budget is overrun by ``GRACE`` seconds, on any thread. Imports nothing else of jacli.
"""

from __future__ import annotations

import _thread
import gc
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields

from jacli.watchdog import Watchdog

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

    def __post_init__(self) -> None:
        # hashed once: limits are part of the keys a request looks its program and its
        # derivation up by, three hashes of eleven fields each (~1 µs) otherwise
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f.name)
                                                     for f in fields(self))))

    def __hash__(self) -> int:
        return self._hash


DEFAULT_LIMITS = Limits()


# -- time budgets -------------------------------------------------------------------------

class OutOfTime(Exception):
    """Raised inside the budgeted block when its time is up; ``stage`` names the block."""

    def __init__(self, stage: str, seconds: float) -> None:
        super().__init__(f"{stage} ran out of time ({seconds:g} s)")
        self.stage = stage
        self.seconds = seconds


_deadlines: list[tuple[float, str, float]] = []  # (deadline, stage, seconds), innermost last
# A process jacli owns (the console script, ``own_alarm``) keeps the handler installed and
# the alarm armed between budgets: ``_armed_at`` is when the armed alarm fires (monotonic),
# ``None`` when none is armed.
_owned = False
_armed_at: float | None = None


def own_alarm() -> None:
    """For the console script, which owns its process: SIGALRM's handler is installed once
    and stays, and budgets arm the alarm only for a deadline nearer than the one armed, and
    never disarm it; a wake before any deadline re-arms for the nearest one (or, with no
    budget open, for none). A ``jacli batch`` request's four stages then make no system
    call for their budgets (their eight ``setitimer``/``sigaction`` calls were ~5% of a small
    request), and a stage's alarm fires at worst once per ``--timeout`` early. The Python
    API never calls this: a library leaves its caller's signals as it found them."""
    global _owned
    if _enabled():
        _signal.signal(signal.SIGALRM, _on_alarm)
        _owned = True


def _forgotten_in_child() -> None:
    global _armed_at  # a forked child starts with no timer armed (POSIX): arm afresh
    _armed_at = None
    _main_again()  # (threading's own handler, registered first, has named the main thread)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forgotten_in_child)


def _retry(seconds: float) -> None:
    global _armed_at
    _signal.setitimer(signal.ITIMER_REAL, seconds)
    _armed_at = time.monotonic() + seconds


def _on_alarm(signum, frame):
    global _armed_at
    _armed_at = None  # a one-shot timer: nothing is armed once it fired
    if _deadlines:
        if _importing(frame) or _in_budgets(frame):  # raised inside a module's first import,
            # the exception would leave it half made for the rest of the process
            # (torch._dynamo, seconds under load); inside ``within``'s own bookkeeping, it
            # would leave the budget armed for the rest of the run: raise after it
            _retry(0.05)
            return
        deadline, stage, seconds = min(_deadlines)
        if time.monotonic() < deadline:  # an early wake (a retry's, or an owned alarm's)
            _arm()
            return
        # raised inside a finalizer or a gc callback, the exception is printed and dropped
        # ("Exception ignored in"): ask again shortly; leaving the budget disarms it
        _retry(0.05)
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


_HAS_TIMER = hasattr(signal, "setitimer")


def _enabled() -> bool:
    """Whether a budget may use the alarm: on the main thread (the one signals reach), where
    there is one. ``get_ident`` against the main thread's: a quarter of a budget's entry
    went to ``current_thread()``'s lookup, and ``main_thread()``'s is read once (again in a
    forked child, whose main thread is the one that forked)."""
    return _HAS_TIMER and _thread.get_ident() == _MAIN[0]


_MAIN = [threading.main_thread().ident]


def _main_again() -> None:
    _MAIN[0] = threading.main_thread().ident


def _arm() -> None:
    """The alarm for the nearest deadline; none when no budget is open. Owned (``own_alarm``),
    an alarm already due at or before the nearest deadline is left as it is (it re-arms when
    it wakes), and none is ever disarmed."""
    global _armed_at
    if _deadlines:
        nearest = min(_deadlines)[0]  # (the earliest deadline: tuples compare it first)
        if _owned and _armed_at is not None and _armed_at <= nearest:
            return
        _signal.setitimer(signal.ITIMER_REAL, max(nearest - time.monotonic(), 1e-3))
        # what is armed now, read back: the alarm may have come (and its handler re-armed)
        # between the two calls
        left = _signal.getitimer(signal.ITIMER_REAL)[0]
        _armed_at = time.monotonic() + left if left > 0 else None
    elif not _owned:
        _signal.setitimer(signal.ITIMER_REAL, 0)
        _armed_at = None


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
            self.previous = _signal.signal(signal.SIGALRM, _on_alarm) \
                if not _deadlines and not _owned else None
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
            if not _deadlines and not _owned:
                _signal.signal(signal.SIGALRM, self.previous)
        _depth.n = self.depth
        if self.token is not None:
            self.dog.close(self.token)
        return False


_BOOKKEEPING = {within.__enter__.__code__, within.__exit__.__code__, _arm.__code__}


# -- the watchdog (``watchdog``): its budgets are these ----------------------------------

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
