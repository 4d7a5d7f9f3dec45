"""The watchdog: a thread that ends the process when a time budget is overrun where a
signal cannot stop it (a long C call, another thread). ``bounds`` opens and closes its
budgets on it; only the command line installs one. Imports nothing of jacli.
"""

from __future__ import annotations

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
