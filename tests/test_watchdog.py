"""The watchdog's thread ends a budget overrun by its grace, and only that: budgets that close
in time never fire it, an earlier budget opened while it sleeps to a later one wakes it, and
``open``/``close`` (which take no lock unless they must wake it) lose no budget when many
come and go while it looks (``Watchdog.open`` says why). The callback here records instead of
ending the process."""

from __future__ import annotations

import threading
import time

from jacli.watchdog import Watchdog


def _watchdog(grace: float = 0.02):
    fired: list[tuple[str, float]] = []
    done = threading.Event()

    def expire(stage: str, seconds: float) -> None:
        fired.append((stage, seconds))
        done.set()

    return Watchdog(expire, grace=grace), fired, done


def test_an_overrun_budget_fires_after_its_grace_and_a_closed_one_never():
    dog, fired, done = _watchdog()
    dog.close(dog.open(0.01, "closed in time"))
    time.sleep(0.1)
    assert fired == []
    start = time.monotonic()
    dog.open(0.05, "numeric stage")
    assert done.wait(5)
    assert fired == [("numeric stage", 0.05)]
    assert time.monotonic() - start >= 0.05 + 0.02 - 0.005


def test_an_earlier_budget_wakes_a_thread_sleeping_to_a_later_one():
    dog, fired, done = _watchdog()
    dog.open(30.0, "long")
    time.sleep(0.05)  # the thread now sleeps to 30 s from here
    start = time.monotonic()
    dog.open(0.05, "short")
    assert done.wait(5) and fired == [("short", 0.05)]
    assert time.monotonic() - start < 3


def test_budgets_coming_and_going_while_it_looks_lose_none():
    """Each trial opens ever earlier budgets (each one wakes the thread, so it looks while
    more are written), closes them, and leaves one short budget open: it must fire."""
    for trial in range(40):
        dog, fired, done = _watchdog(grace=0.005)
        tokens = [dog.open(2.0 - k * 0.01, f"b{k}") for k in range(60)]
        last = dog.open(0.01, "last")
        for token in tokens:
            dog.close(token)
        assert done.wait(5), f"trial {trial}: the short budget never fired"
        assert fired == [("last", 0.01)]
        dog.close(last)


def test_many_threads_open_and_close_without_a_false_alarm():
    dog, fired, done = _watchdog(grace=0.01)
    tokens: list[int] = []

    def work() -> None:
        for _ in range(2000):
            token = dog.open(5.0, "stage")
            tokens.append(token)
            dog.close(token)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == len(tokens) == 8000  # no two budgets share a token
    time.sleep(0.05)
    assert fired == [] and not dog._open
    dog.open(0.01, "after")
    assert done.wait(5) and fired == [("after", 0.01)]


class _Racing(Watchdog):
    """A watchdog whose thread, once asked (``inject``), sees a budget written just after it
    read the entries and before it set the time it sleeps to: the window ``open`` leaves
    without the lock, made to happen every time."""

    inject = False

    def _earliest(self):
        found = super()._earliest()
        if self.inject and threading.current_thread().name == "jacli-watchdog":
            self.inject = False
            self.open(0.05, "written meanwhile")  # reads the old time: no wake
        return found


def test_a_budget_written_between_the_threads_read_and_its_sleep_is_watched():
    fired: list[tuple[str, float]] = []
    done = threading.Event()
    dog = _Racing(lambda stage, s: (fired.append((stage, s)), done.set()), grace=0.02)
    dog.close(dog.open(0.05, "closed"))  # the thread sleeps to its deadline, then looks
    dog.inject = True
    assert done.wait(5), "the budget written meanwhile was never watched"
    assert fired == [("written meanwhile", 0.05)]
