"""Inputs a fuzzing session found mishandled, each now refused cleanly or answered as
PyTorch answers: one clear error and a documented exit code, never an internal error."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from jacli import bounds

JACLI = [sys.executable, "-m", "jacli"]


@pytest.fixture
def run(cli):
    """``run(argv, stdin)``: the console's ``main`` in this process (``cli``), as a
    finished process reads: ``returncode``, ``stdout``, ``stderr``."""
    def go(args: list[str], stdin: str | None = None) -> SimpleNamespace:
        r = cli(*args, stdin=None if stdin is None else stdin.encode())
        return SimpleNamespace(returncode=r.code, stdout=r.out, stderr=r.err)
    return go


# -- budgets --------------------------------------------------------------------------------
def test_an_alarm_as_a_budget_closes_leaves_no_budget_armed():
    """The alarm of an overrun budget can land as ``within`` starts to close it (the body
    swallowed its OutOfTime, as SymPy's own ``except Exception`` may). Raised there, it left
    the budget armed: OutOfTime went on firing into the printing (exit 4, tracebacks) and
    into the next ``jacli batch`` request."""
    closing = bounds.within.__exit__.__code__

    def alarm_on_closing(frame, event, arg):
        if event == "call" and frame.f_code is closing:
            bounds._on_alarm(signal.SIGALRM, frame)  # the signal, landing right there
        return None

    with bounds.within(0.05, "test stage"):
        end = time.monotonic() + 0.2
        while time.monotonic() < end:  # past the budget, every OutOfTime swallowed
            try:
                time.sleep(0.01)
            except bounds.OutOfTime:
                pass
        sys.settrace(alarm_on_closing)
    sys.settrace(None)
    assert bounds._deadlines == []
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    time.sleep(0.15)  # nothing left to fire


def test_an_early_alarm_does_not_end_a_budget_before_its_time():
    with bounds.within(5.0, "test stage"):
        bounds._on_alarm(signal.SIGALRM, sys._getframe())  # a retry's wake-up, say
    assert bounds._deadlines == []


# -- exact values ---------------------------------------------------------------------------
@pytest.mark.parametrize("expr", ["abs(atan2(x, y))", "relu(atan2(x, y))",
                                  "maximum(atan2(x, y), x)", "sign(atan2(x, y))"])
def test_a_function_of_an_undefined_value_is_undefined_not_an_internal_error(expr, run):
    """atan2(0, 0) is nan in SymPy (PyTorch says 0): a function of it is nan, and the
    disagreement is a notice with exit 1."""
    out = run(["jacobian", expr, "--at", "0,0", "--json"])
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    assert result["value"]["exact"] == ["nan"] and result["value"]["numeric"] == [0.0]
    assert "the value (e.g. atan2(0, 0)) is undefined" in result["notices"][0]


# -- points files ---------------------------------------------------------------------------
@pytest.mark.parametrize("line, message", [
    ('{"x1": null, "x2": 2}', "point 1: x1 is not a number or a list of numbers"),
    ('{"x1": "1", "x2": 2}', "point 1: x1 is not a number or a list of numbers"),
    ('{"x1": 1, "x2": 2}\n{"x1": 3, "x2": null}',
     "point 2: x2 is not a number or a list of numbers"),
    ('{"x1": ' + "[" * 100_000 + "]" * 100_000 + ', "x2": 1}', "line 1: lists nest too deep"),
])
def test_a_points_line_that_holds_no_number_is_refused(tmp_path, line, message, run):
    path = tmp_path / "p.jsonl"
    path.write_text(line + "\n")
    out = run(["jacobian", "x1*x2", "--at-file", str(path)])
    assert out.returncode == 2 and out.stderr.startswith("error: --at-file " + message), \
        out.stderr
    assert "internal" not in out.stderr


# -- batch ----------------------------------------------------------------------------------
@pytest.mark.parametrize("request_, where", [
    ({"at": 1}, '"at" must be a text'), ({"at": True}, '"at" must be a text'),
    ({"at": "1", "vars": 5}, '"vars" must be'), ({"at": "1", "wrt": 5}, '"wrt" must be'),
    ({"at": "1", "output": ["y"]}, '"output" must be a name'),
    ({"at": "1", "command": 5}, '"command" must be'),
])
def test_a_batch_key_of_the_wrong_type_is_a_usage_error(request_, where, run):
    out = run(["batch"], json.dumps({"expr": "x", **request_}) + "\n")
    error = json.loads(out.stdout)["error"]
    assert error["kind"] == "usage" and error["message"].startswith(where), error


def test_a_batch_line_nested_too_deep_is_a_usage_error_and_the_stream_goes_on(run):
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    out = run(["batch"], deep + "\n" + json.dumps({"expr": "x**2", "at": "3"}) + "\n")
    first, second = map(json.loads, out.stdout.splitlines())
    assert first["error"]["kind"] == "usage" and "nests too deep" in first["error"]["message"]
    assert second["jacobian"]["numeric"] == [[6.0]]


# -- scripts --------------------------------------------------------------------------------
@pytest.mark.parametrize("line", ["x.register_hook(print)", "f = print\nf(x)",
                                  "list(map(print, [1, 2]))"])
def test_print_handed_on_as_a_value_writes_nothing(line, run):
    script = f"import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n{line}\n" \
             "(x * x).sum().backward()\n"
    out = run(["vjp", "-", "--json"], script)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["vjp"]["numeric"] == [2.0, 4.0]  # stdout: the JSON alone


# -- sizes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, what", [
    ("F.pad(x, (10**9, 0))", "pad(...) would make a tensor of 1e+09 elements"),
    ("x.repeat(10**7)", "repeat(...) would make a tensor of 4e+07 elements"),
    ("torch.kron(x, ones(10**7))", "kron(...) would make a tensor of 4e+07 elements"),
    ("torch.outer(x.repeat(10**4), x.repeat(10**4)).sum()", "outer(...) would make a tensor"),
])
def test_a_typed_program_that_grows_a_tensor_past_the_limit_is_refused_first(expr, what, run):
    """Refused before torch allocates it (F.pad's 8 GB took the machine's memory, then
    SymPy's object arrays the rest: the process was killed)."""
    out = run(["jacobian", expr, "--at", "x=[1,2,3,4]"])
    assert out.returncode == 3 and out.stderr.startswith("error: " + what), out.stderr


@pytest.mark.parametrize("expr", ["F.pad(x, (1, 2))", "x.repeat(3)", "torch.outer(x, x)"])
def test_growing_functions_within_the_limit_give_pytorchs_numbers(expr):
    import torch

    import jacli

    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    f = {"F.pad(x, (1, 2))": lambda x: torch.nn.functional.pad(x, (1, 2)),
         "x.repeat(3)": lambda x: x.repeat(3), "torch.outer(x, x)": lambda x: torch.outer(x, x)}
    got = jacli.jacobian(expr, at={"x": x}, symbolic="never").jacobian.numeric
    want = torch.func.jacrev(f[expr])(x).reshape(-1, 4)
    assert torch.equal(torch.tensor(got, dtype=torch.float64), want)


@pytest.mark.parametrize("script, message", [
    ("x = torch.ones(5000, requires_grad=True)\ny = torch.outer(x, x)\ny.sum().backward()",
     "outer(...) would make a tensor of 2.5e+07 elements"),
    ("x = torch.ones(5, requires_grad=True)\ny = F.pad(x, (10**9, 0))\ny.sum().backward()",
     "pad(...) would make a tensor of 1e+09 elements"),
    ("m = nn.Linear(10**6, 10**6)", "out of memory"),
])
def test_a_script_that_grows_a_tensor_past_the_limit_is_a_limit(script, message, run):
    source = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n" + script
    out = run(["vjp", "-"], source + "\n")
    # (pasted PyTorch runs as PyTorch does, so the call is named as written: torch.outer)
    assert out.returncode == 3 and out.stderr.startswith("error: "), out.stderr
    assert message in out.stderr.splitlines()[0], out.stderr


def test_a_python_float_past_the_range_says_so(run):
    out = run(["vjp", "-"], "import torch\nx = 10.0 ** 400\n")
    assert out.returncode == 2
    assert out.stderr.startswith("error: a number past float64's range"), out.stderr


# -- options --------------------------------------------------------------------------------
@pytest.mark.parametrize("at", ["x=1", "1"])
def test_an_output_the_program_lacks_is_named(at, run):
    out = run(["jacobian", "a = x*2; b = a+1", "--at", at, "--output", "zz"])
    assert out.returncode == 2
    assert out.stderr.startswith("error: --output 'zz' is not a name in the program"), out.stderr


def test_a_script_refuses_output_instead_of_ignoring_it(run):
    script = "import torch\nx = torch.tensor(2.0, requires_grad=True)\nfor i in range(2):\n" \
             "    x = x * 2\nx.backward()\n"
    out = run(["grad", "-", "--output", "x"], script)
    assert out.returncode == 2 and out.stderr.startswith("error: --output picks"), out.stderr


def test_symbolic_never_without_a_point_is_a_usage_error(run):
    out = run(["jacobian", "x1*x2", "--symbolic", "never"])
    assert out.returncode == 2 and "leaves nothing to compute" in out.stderr


@pytest.mark.parametrize("name, text", [("p.jsonl", '{"x1": 1, "x2": 2}\n{"x1": 3, "x2": 4}\n'),
                                        ("p.csv", "x1,x2\n1,2\n3,4\n")])
def test_a_points_file_with_a_byte_order_mark_reads_as_without(tmp_path, name, text, run):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    out = run(["jacobian", "x1*x2", "--at-file", str(path)])
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()[1:]]
    assert [r["jacobian"] for r in rows] == [[[2.0, 1.0]], [[4.0, 3.0]]]


# -- negative zero --------------------------------------------------------------------------
def test_a_leaf_at_negative_zero_gives_pytorchs_own_numbers(run):
    """torch.tensor(-0.0) keeps its sign (1/x is -inf, sqrt'(x) is -inf); an exact point
    reads it as 0, so the event's numbers are the run's own, with a notice."""
    import torch

    script = "import torch\nx = torch.tensor([-0.0, 4.0], requires_grad=True)\n" \
             "y = (1 / x).sum() + torch.sqrt(x).sum()\ny.backward()\n"
    out = run(["grad", "-", "--json"], script)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    x = torch.tensor([-0.0, 4.0], dtype=torch.float64, requires_grad=True)
    y = (1 / x).sum() + torch.sqrt(x).sum()
    y.backward()
    as_json = lambda v: "-Infinity" if v == -math.inf else v  # noqa: E731 - the contract's
    assert float(y.detach()) == -math.inf
    assert result["value"]["numeric"] == [as_json(float(y.detach()))]
    assert result["vjp"]["numeric"] == [as_json(g) for g in x.grad.tolist()]
    assert any("-0.0" in n for n in result["notices"])


# -- warnings -------------------------------------------------------------------------------
@pytest.mark.parametrize("overlap", ["1", "0"])
@pytest.mark.parametrize("expr, at, said", [
    ("x.std()", "x=[1]", "PyTorch warns: std(): degrees of freedom is <= 0"),
    ("F.mse_loss(x, y)", "x=[1,2],y=[[1],[2]]", "PyTorch warns: Using a target size"),
])
def test_pytorchs_warnings_are_notices_not_stderr_with_jaclis_paths(expr, at, said, overlap):
    import os

    out = subprocess.run(JACLI + ["jacobian", expr, "--at", at, "--json"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "JACLI_OVERLAP": overlap})
    assert out.stderr == ""
    notices = json.loads(out.stdout)["notices"]
    assert any(n.startswith(said) and "Triggered internally" not in n for n in notices), notices


# -- torch.func calls that are not transforms -----------------------------------------------
@pytest.mark.parametrize("lines", [
    "_, t = jvp(torch.sin, (x,), (torch.ones(2),))\nt.sum().backward()",
    "_, t = jvp(lambda a: torch.sin(a) * a, (x,), (torch.ones(2),))\nt.sum().backward()",
    "out, f = vjp(torch.sin, x)\n(g,) = f(torch.ones(2))\ng.sum().backward()",
])
def test_func_jvp_and_vjp_are_calls_with_pytorchs_grad(lines, run):
    """torch.func.jvp returns (f(x), J u) and torch.func.vjp (f(x), the pullback) at once;
    they were taken for transforms (which return a function) and failed on valid code."""
    head = "import torch\nfrom torch.func import jvp, vjp\n" \
           "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
    out = run(["vjp", "-", "--json"], head + lines + "\n")
    assert out.returncode == 0, out.stderr
    ns = {}
    exec(head + lines, ns)  # our own text above, run by PyTorch itself
    assert json.loads(out.stdout)["grad_at_end"]["x"] == ns["x"].grad.tolist()
