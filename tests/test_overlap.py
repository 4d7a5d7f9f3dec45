"""The one-shot command line in two processes (``runtime.overlap``, ``analysis.split``).

The console script forks: a child imports torch and computes the numbers while the parent
derives the formulas with SymPy. pytest has torch imported (where the split never happens),
so the command line runs here in fresh interpreters, through a driver that reports, at the
parent's exit, whether the parent imported torch (and SymPy) and whether a child is left
unreaped. Each
output is compared, byte for byte, with the one process's (``JACLI_OVERLAP=0``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from jacli.watchdog import GRACE

DRIVER = """
import atexit, json, os, sys

def audit():
    try:
        os.waitpid(-1, os.WNOHANG)
        left = True  # a child not yet reaped
    except ChildProcessError:
        left = False
    with open(os.environ["JACLI_AUDIT"], "w") as f:
        json.dump({"torch": "torch" in sys.modules, "children": left,
                   "sympy": "sympy" in sys.modules}, f)

atexit.register(audit)
sys.argv = ["jacli"] + json.loads(os.environ["JACLI_ARGS"])
from jacli.cli.console import run
run()
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str
    audit: dict | None  # None: the process ended without its atexit (the watchdog's exit)
    seconds: float


def jacli(tmp_path, args: list[str], overlap: bool = True, patch: str = "",
          stdin: str = "") -> Ran:
    """The console script in a fresh interpreter; ``patch``: test code run first (both
    processes have it: the child is a fork)."""
    audit = tmp_path / f"audit-{overlap}-{time.monotonic_ns()}.json"
    env = {**os.environ, "JACLI_OVERLAP": "1" if overlap else "0", "JACLI_AUDIT": str(audit),
           "JACLI_ARGS": json.dumps(args)}
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", patch + DRIVER], capture_output=True, text=True,
                       env=env, timeout=120, input=stdin)
    seen = json.loads(audit.read_text()) if audit.exists() else None
    return Ran(r.returncode, r.stdout, r.stderr, seen, time.monotonic() - t0)


def both(tmp_path, args: list[str], patch: str = "") -> tuple[Ran, Ran]:
    split, serial = jacli(tmp_path, args, True, patch), jacli(tmp_path, args, False, patch)
    assert (split.code, split.out, split.err) == (serial.code, serial.out, serial.err)
    return split, serial


@pytest.mark.parametrize("args", [
    ["vjp", "x1**2+2*x2, x1*x2", "--at", "1,2", "--v", "1,1", "--format", "json"],
    ["jacobian", "sin(x1)*x2, x1**2*exp(x2), abs(x1 - 1)", "--at", "1,2", "--explain"],
    ["jvp", "x1*x2, x1+x2", "--at", "1,2", "--u", "1,0", "--format", "markdown"],
    ["hessian", "x1**2*x2 + exp(x2)", "--at", "1,2", "--v", "1,0", "--format", "json"],
    ["vjp", "y = 2*x; z = y.view(2,2)", "--at", "x=[1,2,3,4]", "--v", "[[1,0.1],[0.01,0.001]]",
     "--symbolic", "always", "--dtype", "float32", "--format", "html"],
])
def test_the_numbers_come_from_a_child_and_the_parent_never_imports_torch(tmp_path, args):
    split, serial = both(tmp_path, args)
    assert split.code == 0 and split.out, split.err
    assert split.audit == {"torch": False, "children": False, "sympy": True}
    assert serial.audit == {"torch": True, "children": False, "sympy": True}  # the audit can tell


@pytest.mark.parametrize("args", [
    ["vjp", "x1*x2", "--at", "1,2", "--emit", "torch"],
    ["jacobian", "x1*x2", "--at", "1,2", "--symbolic", "never"],
    ["check", "x1*x2", "--at", "1,2"],
    ["jacobian", "x @ x", "--at", "x=[1,2]"],  # the output's size needs the numbers first
])
def test_one_process_where_a_child_cannot_pay(tmp_path, args):
    r = jacli(tmp_path, args)
    assert r.code == 0, r.err
    assert r.audit["torch"] is True


def test_batch_imports_torch_once_in_its_own_process(tmp_path):
    request = {"command": "jacobian", "expr": "x1**2+2*x2, x1*x2", "at": "1,2"}
    r = jacli(tmp_path, ["batch"], stdin=json.dumps(request) + "\n" + json.dumps(request))
    assert r.code == 0, r.err
    assert [json.loads(line)["jacobian"]["numeric"] for line in r.out.splitlines()] == [
        [[2.0, 2.0], [2.0, 1.0]]] * 2
    assert r.audit["torch"] is True


def test_a_child_in_the_symbolic_budget_only(tmp_path):
    """40×300 = 12,000 entries exceed the symbolic budget (10,000): the numbers come first,
    in this process, and the notice says the formulas were skipped."""
    names = [f"x{i}" for i in range(1, 301)]
    src = ", ".join(f"x{i}*x{i % 300 + 1}" for i in range(1, 41))
    r = jacli(tmp_path, ["jacobian", src, "--at", ",".join("1" * 300), "--vars",
                         ",".join(names), "--format", "json"])
    assert r.code == 0, r.err
    assert r.audit["torch"] is True
    assert json.loads(r.out)["notices"][0].startswith("symbolic Jacobian skipped")


REFUSE = """
import jacli.analysis.assemble as A, jacli.analysis.split as S
from jacli.errors import ShapeError

def refuse(problem, setup):
    raise ShapeError("v has shape (3,) but y has shape (2,)", hint="v needs shape (2,)",
                     where="--v", line=1, column=4, source="x1, x2")

A.numeric = S.numeric = refuse
"""


def test_the_childs_error_reads_as_in_one_process(tmp_path):
    split, _ = both(tmp_path, ["jacobian", "x1, x2", "--at", "1,2", "--json"], REFUSE)
    assert split.code == 2
    error = json.loads(split.out)["error"]
    assert (error["kind"], error["where"], error["column"]) == ("shape", "--v", 4)
    assert split.err.splitlines()[-1] == "hint: v needs shape (2,)"
    assert split.audit["torch"] is False


SLOW = """
import time
import jacli.analysis.assemble as A, jacli.analysis.split as S

def slow(problem, setup):
    time.sleep(60)  # interruptible, as Python code is: the stage's alarm stops it

A.numeric = S.numeric = slow
"""


def test_the_childs_numeric_stage_runs_out_of_time_as_in_one_process(tmp_path):
    split, _ = both(tmp_path, ["jacobian", "x1*x2", "--at", "1,2", "--timeout", "1"], SLOW)
    assert split.code == 3
    assert split.err.startswith("error: the numeric stage ran out of time (1 s)")
    assert split.audit == {"torch": False, "children": False, "sympy": True}
    assert split.seconds < 40


def test_a_pytorch_error_reads_as_in_one_process(tmp_path):
    split, _ = both(tmp_path, ["jacobian", "a @ b", "--at", "a=[[1,2]], b=[[1,2]]",
                               "--symbolic", "always"])
    assert split.code == 2
    assert "mat1 and mat2 shapes cannot be multiplied (1x2 and 1x2)" in split.err
    assert split.audit["torch"] is False


STUCK = """
import signal, time
import jacli.analysis.assemble as A, jacli.analysis.split as S

def stuck(problem, setup):
    # a long C call: the alarm cannot interrupt it (here it is never delivered)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(120)

A.numeric = S.numeric = stuck
"""


def test_a_stuck_child_is_stopped_as_the_watchdog_stops_one_process(tmp_path):
    args = ["jacobian", "x1*x2", "--at", "1,2", "--timeout", "1", "--json"]
    split, serial = both(tmp_path, args, STUCK)
    assert split.code == 3
    assert split.err.startswith("error: the numeric stage ran out of time (1 s) and did not "
                                "stop within"), split.err
    assert serial.audit is None  # the watchdog ended that one at once
    assert split.audit == {"torch": False, "children": False, "sympy": True}  # killed and reaped
    assert split.seconds < 1 + GRACE + 40


KILLED = """
import os, signal
import jacli.analysis.split as S

S.numbers = lambda problem, setup: os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_child_that_dies_without_an_answer_is_an_internal_error(tmp_path):
    r = jacli(tmp_path, ["jacobian", "x1*x2", "--at", "1,2"], patch=KILLED)
    assert r.code == 4
    assert r.err.startswith("error: internal error: RuntimeError: the numeric stage's process "
                            "ended without an answer (killed by SIGKILL)"), r.err
    assert r.audit == {"torch": False, "children": False, "sympy": True}
    assert r.seconds < 40


SLOW_FORMULAS = """
import time
import jacli.analysis.formulas as F, jacli.analysis.split as S

def slow(problem, setup, num):
    time.sleep(60)

F.symbolic = S.symbolic = slow
"""


def test_numbers_stand_alone_when_the_formulas_run_out_of_time(tmp_path):
    split, _ = both(tmp_path, ["vjp", "x1**2+2*x2, x1*x2", "--at", "1,2", "--v", "1,1",
                               "--timeout", "1", "--json"], SLOW_FORMULAS)
    assert split.code == 0
    result = json.loads(split.out)
    assert result["vjp"]["numeric"] == [4.0, 3.0]
    assert result["notices"][0].startswith("symbolic side skipped: the symbolic stage ran out")
    assert split.audit["torch"] is False


# -- the module itself, in a fresh interpreter (no torch, no thread) ------------------------

def _fresh(code: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env={k: v for k, v in os.environ.items()
                                         if k != "JACLI_OVERLAP"})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_a_child_sends_tensors_as_plain_lists_and_its_errors_as_themselves():
    got = _fresh("""
import json, os, sys
from jacli.errors import ShapeError
from jacli.runtime import overlap

def numbers():
    import torch
    return {"J": torch.tensor([[1.0, 2.0]]), "s": torch.tensor(3.0), "n": [torch.tensor(4.0)]}

def refuse():
    raise ShapeError("bad", hint="h", where="--v", line=2, column=3)

def bug():
    raise ValueError("boom")

out = {"value": overlap.in_child(numbers).result(60, "numeric stage")}
for fn in (refuse, bug):
    try:
        overlap.in_child(fn).result(60, "numeric stage")
    except Exception as e:
        out[fn.__name__] = [type(e).__name__, str(e), e.hint, e.where, e.line, e.column,
                            int(e.exit_code)]
overlap.reap()
try:
    os.waitpid(-1, os.WNOHANG)
    out["children"] = True
except ChildProcessError:
    out["children"] = False
out["torch"] = "torch" in sys.modules
print(json.dumps(out))
""")
    assert got["value"] == {"J": [[1.0, 2.0]], "s": 3.0, "n": [4.0]}
    assert got["refuse"] == ["ShapeError", "bad", "h", "--v", 2, 3, 2]
    assert got["bug"][:2] == ["JacliError", "internal error: ValueError: boom"]
    assert got["bug"][-1] == 4
    assert got["children"] is False and got["torch"] is False


def test_a_child_is_used_only_where_it_is_safe():
    got = _fresh("""
import json, os, threading
from jacli.runtime import overlap

seen = {"outside": overlap.usable()}
with overlap.one_shot():
    seen["inside"] = overlap.usable()
    os.environ["JACLI_OVERLAP"] = "0"
    seen["switched off"] = overlap.usable()
    del os.environ["JACLI_OVERLAP"]
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    seen["a thread"] = overlap.usable()
    stop.set()
    t.join()
    import torch
    seen["torch loaded"] = overlap.usable()
print(json.dumps(seen))
""")
    assert got == {"outside": False, "inside": True, "switched off": False, "a thread": False,
                   "torch loaded": False}


def test_plain_turns_what_has_tolist_into_lists():
    from collections import namedtuple

    from jacli.analysis.modes import choose_mode
    from jacli.runtime.overlap import plain

    class Lazy:  # a wrapper around a tensor, as a numeric stage may hand out
        def tolist(self):
            return [[1.0, 2.0]]

    Pair = namedtuple("Pair", "a b")
    assert plain({"J": Lazy(), "rows": [Lazy(), 3.0], "t": Pair(1, Lazy())}) == {
        "J": [[1.0, 2.0]], "rows": [[[1.0, 2.0]], 3.0], "t": Pair(1, [[1.0, 2.0]])}
    floats = [[1.0, 2.0], [3.0, 4.0]]
    assert plain(floats)[0] is floats[0]  # nothing to change: the same lists
    choice = choose_mode(2, 2)
    assert plain(choice) is choice


def test_the_mode_choice_survives_pickling():
    import pickle

    from jacli.analysis.modes import choose_mode

    reason = choose_mode(2, 2)[2]
    again = pickle.loads(pickle.dumps(reason))
    assert (str(again), again.rule) == (str(reason), reason.rule)
