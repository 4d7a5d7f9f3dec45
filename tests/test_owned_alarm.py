"""The console script owns its process's SIGALRM (``bounds.own_alarm``): budgets keep the
handler installed and the alarm armed between them, and arm it only for a nearer deadline.
Each budget must still end on time: after a longer one, after an early wake, in a forked
child (whose timer POSIX does not inherit), and an alarm with no budget open is harmless.
Each case runs in a fresh interpreter: owning the alarm is for the rest of a process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import os, time
from jacli import bounds
from jacli.bounds import OutOfTime, within
calls = []
real = bounds._signal.setitimer
bounds._signal.setitimer = lambda which, s: (calls.append(s), real(which, s))[1]
bounds.own_alarm()

def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

def ends_after(budget, work):
    start = time.monotonic()
    try:
        with within(budget, "stage"):
            spin(work)
    except OutOfTime:
        return time.monotonic() - start
    return None
"""


def _run(body: str) -> str:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_budgets_one_after_another_arm_the_alarm_once():
    out = _run("""
        for _ in range(200):
            with within(5.0, "stage"):
                pass
        print(len(calls))
    """)
    assert int(out) == 1


def test_a_budget_ends_on_time_after_a_longer_one_and_after_an_early_wake():
    out = _run("""
        with within(30.0, "long"):
            pass
        late = ends_after(0.3, 3.0)       # a nearer deadline than the armed one: armed
        with within(0.2, "short"):
            pass
        woken = ends_after(1.0, 3.0)      # the 0.2 s alarm wakes early, re-arms for 1.0
        print(late, woken)
    """)
    late, woken = map(float, out.split())
    assert 0.25 <= late < 1.5 and 0.95 <= woken < 2.5


def test_inner_budgets_end_on_time_and_the_outer_goes_on():
    out = _run("""
        with within(20.0, "outer"):
            inner = [ends_after(0.2, 2.0) for _ in range(3)]
            outer_alive = ends_after(5.0, 0.5)
        print(*inner, outer_alive)
    """)
    *inner, outer = out.split()
    assert all(0.15 <= float(t) < 1.2 for t in inner) and outer == "None"


def test_a_forked_child_arms_its_own_alarm():
    out = _run("""
        with within(0.3, "short"):        # the parent's alarm: armed 0.3 s ahead
            pass
        pid = os.fork()
        if pid == 0:                      # a later deadline than the parent's, which the
            t = ends_after(0.6, 4.0)      # child's (unarmed) timer will never bring
            os._exit(0 if t is not None and t < 2.0 else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    assert out.strip() == "0"


def test_an_alarm_with_no_budget_open_is_harmless():
    out = _run("""
        with within(0.2, "stage"):
            pass
        spin(0.6)                         # the armed alarm fires here: nothing is open
        print("alive", ends_after(0.2, 2.0) is not None)
    """)
    assert out.split() == ["alive", "True"]
