"""Bounds: the size limits that keep untrusted input small, and the wall-clock budgets that
keep work from hanging. Every limit is documented in the README.

Size limits are checked before any heavy work, so an oversized input costs milliseconds, not
memory. Time budgets interrupt long SymPy work cleanly: SymPy and mpmath are Python code, so a
SIGALRM raised as an exception stops them at the next bytecode (measured:
``exp(exp(exp(exp(E)))).evalf()`` runs forever and stops within milliseconds of the alarm).
Budgets nest: an inner ``within`` gets at most what the outer one has left, and the outer timer
is restored afterwards. Off the main thread (signals are not available there) budgets are not
enforced. Imports nothing of jacli.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

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
        _, stage, seconds = min(_deadlines)
        raise OutOfTime(stage, seconds)


def _enabled() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


def _arm() -> None:
    if _deadlines:
        remaining = max(min(d for d, _, _ in _deadlines) - time.monotonic(), 1e-3)
        signal.setitimer(signal.ITIMER_REAL, remaining)
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def within(seconds: float | None, stage: str):
    """Run the block with at most ``seconds`` (``None``: no limit); raise ``OutOfTime``."""
    if seconds is None or not _enabled():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    entry = (time.monotonic() + seconds, stage, seconds)
    _deadlines.append(entry)
    try:
        _arm()
        yield
    finally:
        _deadlines.remove(entry)
        _arm()
        if not _deadlines:
            signal.signal(signal.SIGALRM, previous)
