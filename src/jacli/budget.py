"""Wall-clock budgets: interrupt long SymPy work cleanly instead of hanging.

SymPy and mpmath are Python code, so a SIGALRM raised as an exception stops them at the next
bytecode (measured: ``exp(exp(exp(exp(E)))).evalf()`` runs forever and stops within
milliseconds of the alarm). Budgets nest: an inner ``within`` gets at most what the outer one
has left, and the outer timer is restored afterwards. Off the main thread (signals are not
available there) budgets are not enforced.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager


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
