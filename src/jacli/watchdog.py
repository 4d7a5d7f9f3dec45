"""The watchdog: a thread that ends the process when a time budget is overrun where a
signal cannot stop it (a long C call, another thread). ``bounds`` opens and closes its
budgets on it; only the command line installs one. Imports nothing of jacli.
"""

from __future__ import annotations

import itertools
import threading
import time

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
        self._tokens = itertools.count(1)  # (``next`` on it is one step: no two alike)
        self._until: float | None = None  # when the thread wakes next (None: when woken)
        self._wake = threading.Condition()
        threading.Thread(target=self._watch, name="jacli-watchdog", daemon=True).start()

    def open(self, seconds: float, stage: str) -> int:
        """A budget begins; the first one also starts the whole run's clock. The thread is
        woken only when this budget ends before the time it sleeps to: waking it for every
        stage cost a batch request 0.2 ms of thread switches. Without the lock unless it
        wakes the thread (a batch request opens four budgets; the lock cost each ~1 µs):
        the entry is written in one dictionary step, then the time the thread sleeps to is
        read. The thread (``_watch``) sets that time, then reads the entries again: an entry
        written before that second read is seen there; one written after it is checked
        here against the time just set, and wakes the thread if earlier (the notify waits
        for the lock, which the thread holds until it sleeps)."""
        now = time.monotonic()
        if self._run is None and self.run_limit is not None:
            with self._wake:  # (once: the run's clock, set by the first budget)
                if self._run is None:
                    self._run = (now + self.run_limit, "run", self.run_limit)
        token = next(self._tokens)
        self._open[token] = (now + seconds, stage, seconds)
        until = self._until
        if until is None or now + seconds + self.grace < until:
            with self._wake:
                self._wake.notify()
        return token

    def close(self, token: int) -> None:
        """A budget ends. Nothing to wake for: the thread, sleeping to the earliest deadline,
        finds it gone when it wakes and sleeps on."""
        self._open.pop(token, None)

    def _earliest(self) -> tuple[float, str, float] | None:
        """The earliest open deadline (the entries read in one step: ``open`` and ``close``
        write them without the lock)."""
        return min([*self._open.values(), *([self._run] if self._run else [])], default=None)

    def _watch(self) -> None:
        with self._wake:
            while True:
                due = self._earliest()
                self._until = None if due is None else due[0] + self.grace
                if self._earliest() != due:  # a budget came or went meanwhile: see ``open``
                    continue
                wait = None if due is None else self._until - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                self._wake.wait(wait)
        self.expire(due[1], due[2])
