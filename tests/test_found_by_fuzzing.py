"""Inputs a fuzzing session found mishandled, each now refused cleanly or answered as
PyTorch answers: one clear error and a documented exit code, never an internal error."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from jacli import bounds

JACLI = [sys.executable, "-m", "jacli"]


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(JACLI + args, input=stdin, capture_output=True, text=True,
                          timeout=120)


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
def test_a_function_of_an_undefined_value_is_undefined_not_an_internal_error(expr):
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
def test_a_points_line_that_holds_no_number_is_refused(tmp_path, line, message):
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
def test_a_batch_key_of_the_wrong_type_is_a_usage_error(request_, where):
    out = run(["batch"], json.dumps({"expr": "x", **request_}) + "\n")
    error = json.loads(out.stdout)["error"]
    assert error["kind"] == "usage" and error["message"].startswith(where), error


def test_a_batch_line_nested_too_deep_is_a_usage_error_and_the_stream_goes_on():
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    out = run(["batch"], deep + "\n" + json.dumps({"expr": "x**2", "at": "3"}) + "\n")
    first, second = map(json.loads, out.stdout.splitlines())
    assert first["error"]["kind"] == "usage" and "nests too deep" in first["error"]["message"]
    assert second["jacobian"]["numeric"] == [[6.0]]


# -- scripts --------------------------------------------------------------------------------
@pytest.mark.parametrize("line", ["x.register_hook(print)", "f = print\nf(x)",
                                  "list(map(print, [1, 2]))"])
def test_print_handed_on_as_a_value_writes_nothing(line):
    script = f"import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n{line}\n" \
             "(x * x).sum().backward()\n"
    out = run(["vjp", "-", "--json"], script)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["vjp"]["numeric"] == [2.0, 4.0]  # stdout: the JSON alone
