"""The CLI contract: input forms, options, errors and exit codes, strict JSON, start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jacli.errors import ExitCode


def test_variables_in_natural_order_and_named_in_output(cli_json):
    d = cli_json("jacobian", "x10 + x2**2 + x1", "--at", "1,2,3")
    assert d["inputs"] == ["x1", "x2", "x10"]
    assert d["point"] == {"x1": 1, "x2": 2, "x10": 3}
    assert d["jacobian"]["numeric"] == [[1.0, 4.0, 1.0]]


def test_vars_fixes_the_order_and_wrt_restricts_columns(cli_json):
    d = cli_json("jacobian", "x1**2 + 3*x2", "--vars", "x2,x1", "--at", "2,1")
    assert d["inputs"] == ["x2", "x1"] and d["point"] == {"x2": 2, "x1": 1}
    assert d["jacobian"]["numeric"] == [[3.0, 2.0]]
    d = cli_json("jacobian", "x1**2 + 3*x2", "--wrt", "x2", "--at", "1,2")
    assert d["inputs"] == ["x2"] and d["jacobian"]["numeric"] == [[3.0]]


def test_caret_is_power(cli_json):
    d = cli_json("jacobian", "x^2 + 1", "--at", "x=3")  # not XOR, and not x ^ (2 + 1)
    assert d["jacobian"]["numeric"] == [[6.0]]


def test_exact_numbers(cli_json):
    d = cli_json("jacobian", "0.1*x", "--at", "x=1/3")
    assert d["jacobian"]["exact"] == [["1/10"]]
    assert d["value"]["exact"] == ["1/30"]


def test_stdin_and_file(cli_json, tmp_path):
    d = cli_json("jacobian", "-", "--at", "1,2", stdin=b"x1**2 + x2\n")
    assert d["jacobian"]["numeric"] == [[2.0, 1.0]]
    f = tmp_path / "f.txt"
    f.write_text("y = x1*x2\ny + x1\n")
    d = cli_json("jacobian", "--file", str(f), "--at", "3,4")
    assert d["jacobian"]["numeric"] == [[5.0, 3.0]]


@pytest.mark.parametrize("argv, code, needle", [
    (["jacobian", "x +"], 2, "column 4"),
    (["jacobian", "2x"], 2, "write * for multiplication"),
    (["jacobian", "foo(x)"], 2, "unknown function 'foo'"),
    (["jacobian", "sinn(x)"], 2, "did you mean 'sin'"),
    (["vjp", "x1, x2", "--at", "1,2"], 2, "give --v with shape (2,)"),
    (["vjp", "x1, x2", "--at", "1,2", "--v", "1,2,3"], 2, "v has shape (3,) but y has shape (2,)"),
    (["grad", "x1, x2", "--at", "1,2"], 2, "grad needs a scalar output"),
    (["jacobian", "x", "--at", "y=1"], 2, "'y' is not a variable"),
    (["jacobian", "x*y", "--at", "1"], 2, "1 value(s) for 2 variable(s)"),
    (["jacobian", "x", "--at", "x=nan"], 2, "the point must be finite"),
    (["jacobian", "a @ b", "--at", "a=[1,2]", "--at", "b=[1,2,3]"], 2,
     "matmul of shapes (2,) and (3,)"),
    # cuda:99: no such device here, nor on a one-GPU machine (scripts/check_cuda.py runs there)
    (["jacobian", "x", "--device", "cuda:99", "--at", "1"], 2, "no CUDA device"),
    (["jacobian", "x", "--device", "cuda:x", "--at", "1"], 2, "not a device jacli knows"),
    (["jacobian", "x", "--device", "tpu", "--at", "1"], 2, "not a device jacli knows"),
    (["jacobian", "x", "--dtype", "int8", "--at", "1"], 2, "--dtype"),
    (["jacobian", "ones(100000, 100000) * x", "--at", "1"], 3, "the limit is"),
    (["jacobian", "x", "--bogus"], 2, "No such option"),
    (["frobnicate"], 2, "No such command"),
])
def test_errors_are_one_clear_message_and_a_documented_code(cli, argv, code, needle):
    r = cli(*argv)
    assert r.code == code, r.err
    assert needle in r.err
    assert "Traceback" not in r.err + r.out
    assert r.err.startswith("error: ")


def test_device_cuda_runs_where_there_is_one_and_fails_cleanly_where_not(cli):
    import torch

    r = cli("vjp", "x1**2, x1*x2", "--at", "1,2", "--v", "1,1", "--device", "cuda", "--json")
    if torch.cuda.is_available():  # a GPU machine: scripts/check_cuda.py compares it with cpu
        assert r.code == 0 and json.loads(r.out)["device"] == "cuda", r.err
        assert json.loads(r.out)["vjp"]["numeric"] == [4.0, 1.0]
    else:
        assert r.code == ExitCode.BAD_INPUT and "no CUDA device" in r.err, r.err
        assert r.err.startswith("error: ") and "Traceback" not in r.err


def test_json_errors_are_json_on_stdout_and_text_on_stderr(cli):
    r = cli("jacobian", "x +", "--json")
    assert r.code == ExitCode.BAD_INPUT
    err = json.loads(r.out)["error"]
    assert err["kind"] == "parse" and err["line"] == 1 and err["column"] == 4 and err["hint"]
    assert "syntax error" in r.err
    r = cli("jacobian", "x", "--bogus", "--json")  # usage errors too
    assert json.loads(r.out)["error"]["kind"] == "usage"


def test_disagreement_exits_1_and_json_stays_strict(cli):
    r = cli("jacobian", "x/x", "--at", "x=0", "--json")
    assert r.code == ExitCode.DISAGREE
    d = json.loads(r.out, parse_constant=lambda t: pytest.fail(f"non-strict JSON {t}"))
    assert d["jacobian"]["numeric"] == [["NaN"]]
    assert d["check"]["agree"] is False


def test_json_has_the_contract_keys(cli_json):
    d = cli_json("vjp", "x1*x2, x1+x2", "--at", "1,2", "--v", "1,1")
    for key in ("schema", "command", "variables", "inputs", "outputs", "output_shape", "point",
                "value", "jacobian", "vjp", "check", "notices"):
        assert key in d
    assert d["schema"] == "jacli/1" and d["command"] == "vjp"
    assert d["variables"] == [{"name": "x1", "shape": []}, {"name": "x2", "shape": []}]
    assert set(d["vjp"]) >= {"v", "exact", "numeric", "grad"}


def test_dtype_float32_shows_pytorchs_default(cli_json):
    d = cli_json("jacobian", "x**2", "--at", "x=10000.1", "--dtype", "float32")
    assert d["dtype"] == "float32"
    assert d["jacobian"]["numeric"][0][0] == pytest.approx(20000.2, rel=1e-6)


def test_symbolic_only_has_formulas_and_no_numbers(cli_json):
    d = cli_json("jacobian", "sin(x)*y, exp(x*y)")
    assert d["jacobian"]["symbolic"] == [["y*cos(x)", "sin(x)"], ["y*exp(x*y)", "x*exp(x*y)"]]
    assert d["jacobian"]["numeric"] is None and d["point"] is None


def test_symbolic_vjp_without_a_point(cli_json):
    d = cli_json("vjp", "x1*x2, x1+x2", "--v", "1,2")
    assert d["vjp"]["symbolic"] == ["x2 + 2", "x1 + 2"]


def test_program_with_output_option(cli_json):
    d = cli_json("jacobian", "y = x**2; z = y + 1; z*3", "--output", "y", "--at", "x=2")
    assert d["outputs"] == ["y"] and d["jacobian"]["numeric"] == [[4.0]]


def test_symbolic_never_and_budget_notice(cli_json):
    d = cli_json("jacobian", "x**2", "--at", "x=[1,2]", "--symbolic", "never")
    assert d["jacobian"]["symbolic"] is None and d["jacobian"]["numeric"] == [[2, 0], [0, 4]]
    d = cli_json("jacobian", "x**2", "--at", "x=[" + ",".join(["1"] * 101) + "]")
    assert any("symbolic Jacobian skipped" in n for n in d["notices"])


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("jacli ")


def _modules_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(m for m in ('torch', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    return set(out.stdout.split())


def test_help_imports_neither_torch_nor_sympy():
    code = ("from jacli.cli import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help']); main(['vjp', '--help']); main(['--version'])")
    assert _modules_after(code) == set()


def test_symbolic_only_path_never_imports_torch():
    code = ("from jacli.cli import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['jacobian', 'sin(x)*y, exp(x*y)']) == 0")
    assert _modules_after(code) == {"sympy"}


def test_console_script_and_python_m():
    script = str(Path(sys.executable).with_name("jacli"))  # the venv's console script
    for cmd in ([script], [sys.executable, "-m", "jacli"]):
        out = subprocess.run(cmd + ["jacobian", "x1**2+2*x2", "--at", "1,2", "--json"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["jacobian"]["numeric"] == [[2.0, 2.0]]


def test_help_shows_examples(cli):
    r = cli("vjp", "--help")
    assert r.code == 0
    assert 'jacli vjp "2*x1+x2**2, x1**2+2*x2**3" --at 1,2 --v 1,2' in r.out


def test_broken_pipe_is_quiet():
    out = subprocess.run(f"{sys.executable} -m jacli jacobian 'x**2' --at 'x=["
                         + ",".join(["1"] * 90) + "]' --symbolic never | head -c 10",
                         shell=True, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr


def test_ctrl_c_exits_130_quietly():
    import signal
    import time

    # started as a terminal starts it: a shell's background job inherits Ctrl-C ignored
    proc = subprocess.Popen([sys.executable, "-m", "jacli", "batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc.stdin.write('{"expr": "x**2", "at": "1"}\n')
    proc.stdin.flush()
    assert proc.stdout.readline().startswith('{"schema"')  # it is running and answering
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == ""  # quiet: no traceback, no noise


def test_a_ctrl_c_dropped_inside_a_finalizer_is_kept(capsys):
    """A Ctrl-C that lands in a finalizer is dropped by Python ("Exception ignored in"): the
    batch loop's guard keeps it quiet and raises it again between requests."""
    import os
    import signal
    import time

    from jacli.cli.runner import interrupts_kept

    class Interrupted:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            until = time.monotonic() + 0.2
            while time.monotonic() < until:  # the KeyboardInterrupt is raised, and dropped,
                pass  # in here

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # CI may ignore it
    try:
        with interrupts_kept() as kept:
            Interrupted()  # its finalizer runs now
            assert kept.seen
            with pytest.raises(KeyboardInterrupt):
                kept.check()
        assert "KeyboardInterrupt" not in capsys.readouterr().err
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, before)


def test_invalid_utf8_and_nul_on_stdin(cli):
    r = cli("jacobian", "-", "--at", "1", stdin=b"x\xff+1")
    assert r.code == 2 and "not valid UTF-8" in r.err
    r = cli("jacobian", "-", "--at", "1", stdin=b"x\x00+1")
    assert r.code == 2 and "NUL" in r.err
    r = cli("jacobian", "-", stdin=b"")
    assert r.code == 2 and "empty" in r.err


def test_internal_errors_say_so_and_point_to_debug(cli, monkeypatch):
    import jacli.analysis.compute

    def broken(problem):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(jacli.analysis.compute, "compute", broken)
    r = cli("jacobian", "x", "--at", "1")
    assert r.code == 4 and "internal error" in r.err and "--debug" in r.err
    assert "Traceback" not in r.err
