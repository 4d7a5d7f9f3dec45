"""Strategy choice, many points (--at-file) and many requests (batch)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("m, n, tensors, warm, expected", [
    (3, 1, False, False, ("rev", "af_rev")),  # scalar systems: batched VJPs, tall included
    (1000, 20, False, True, ("rev", "af_rev")),
    (16, 16, True, False, ("rev", "af_rev")),  # few outputs
    (16, 16, True, True, ("rev", "vjp_vmap")),
    (64, 64, True, False, ("fwd", "jvp_vmap")),  # cold: torch.func's reverse mode not paid
    (64, 64, True, True, ("rev", "vjp_vmap")),
    (1024, 16, True, True, ("fwd", "jvp_vmap")),
    (128, 1024, True, False, ("rev", "af_rev")),
    (40, 25_000, True, False, ("rev", "af_rev")),  # never an n×n basis for a wide J
    (300, 25_000, True, False, ("rev", "vjp_vmap")),
    (128, 1024, True, True, ("rev", "vjp_vmap")),
])
def test_mode_auto_follows_the_benchmark(m, n, tensors, warm, expected):
    from jacli.analysis.structure import choose_mode

    assert choose_mode(m, n, "auto", tensors, warm)[:2] == expected


def test_forced_reverse_mode_on_a_cold_process_avoids_dynamo_until_it_pays():
    from jacli.analysis.structure import COLD_REV_MAX, choose_mode

    assert choose_mode(COLD_REV_MAX, 10, "rev", True, False)[1] == "af_rev"
    assert choose_mode(COLD_REV_MAX + 1, 10, "rev", True, False)[1] == "vjp_vmap"
    assert choose_mode(10, 10, "fwd", False, True)[1] == "af_fwd"


@pytest.mark.parametrize("warm", [False, True])
def test_the_cli_says_which_strategy_and_why(cli_json, monkeypatch, warm):
    monkeypatch.setattr("jacli.analysis.structure.warm_process", lambda: warm)
    tall = cli_json("jacobian", "x**2, x**3, x", "--at", "x=2")
    assert tall["strategy"].startswith("reverse mode (torch.autograd.functional")
    assert "system of scalar variables" in tall["strategy"]
    x = "[" + ",".join(["0.1"] * 100) + "]"
    W = "[" + ",".join([x] * 100) + "]"
    d = cli_json("jacobian", "tanh(W @ x)", "--at", f"W={W}", "--at", f"x={x}", "--wrt", "x",
                 "--symbolic", "never")
    if warm:
        assert d["strategy"].startswith("reverse mode (torch.vmap over torch.func.vjp)")
    else:
        assert d["strategy"].startswith("forward mode (torch.vmap over torch.func.jvp)")
        assert "would import torch._dynamo" in d["strategy"]
    d = cli_json("jacobian", "tanh(W @ x)[:8]", "--at", f"W={W}", "--at", f"x={x}",
                 "--symbolic", "never")
    assert d["strategy"].startswith("reverse mode (torch.vmap over torch.func.vjp)" if warm else
                                     "reverse mode (torch.autograd.functional")


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_forced_modes_agree(cli_json, mode):
    src = "b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + 2*a[0,0]; 2*b"
    d = cli_json("jacobian", src, "--at", "a=[[2,4]]", "--mode", mode)
    assert d["jacobian"]["numeric"] == [[8.0, 2.0], [4.0, 96.0]]
    assert f"--mode {mode}" in d["strategy"]


def _lines(text: str) -> list[dict]:
    return [json.loads(line, parse_constant=lambda t: pytest.fail(t)) for line in text.splitlines()]


def test_at_file_jsonl_streams_one_object_per_point(cli, tmp_path):
    f = tmp_path / "points.jsonl"
    f.write_text("\n".join(json.dumps({"x1": i, "x2": i + 1}) for i in range(10)) + "\n")
    r = cli("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at-file", str(f), "--v", "1,2")
    assert r.code == 0, r.err
    header, *rows = _lines(r.out)
    assert header["points"] == 10 and header["jacobian_symbolic"] == [["2", "2*x2"],
                                                                     ["2*x1", "6*x2**2"]]
    assert len(rows) == 10 and rows[1]["vjp"] == [6.0, 52.0]  # S17 at (1, 2)
    for i, row in enumerate(rows):  # vᵀJ = [2 + 4*x1, 2*x2 + 12*x2**2] at x1 = i, x2 = i + 1
        assert row["vjp"] == [2 + 4 * i, 2 * (i + 1) + 12 * (i + 1) ** 2]
    assert [row.get("check") for row in rows[:3]] == [True, True, True]


def test_at_file_csv_and_tensor_points(cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("x1,x2\n1,2\n3,4\n")
    rows = _lines(cli("jacobian", "x1*x2", "--at-file", str(f)).out)[1:]
    assert [r["jacobian"] for r in rows] == [[[2.0, 1.0]], [[4.0, 3.0]]]
    g = tmp_path / "p.jsonl"
    g.write_text('{"a": [[2, 4]]}\n{"a": [[1, 1]]}\n')
    src = "b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + 2*a[0,0]; 2*b"
    rows = _lines(cli("jacobian", src, "--at-file", str(g)).out)[1:]
    assert rows[0]["jacobian"] == [[8.0, 2.0], [4.0, 96.0]]
    assert rows[1]["jacobian"] == [[4.0, 2.0], [4.0, 6.0]]


@pytest.mark.parametrize("content, needle", [
    ('{"x": NaN}\n', "not a finite number"),
    ('{"x": 1}\n{"y": 2}\n', "point 2 has no value for 'x'"),
    ('{"x": 1}\n{"x": [1, 2]}\n', "point 2: x has shape"),
    ("x\nabc\n", "not all numbers"),
    ("", "no points"),
])
def test_at_file_errors(cli, tmp_path, content, needle):
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    r = cli("jacobian", "x**2", "--at-file", str(f))
    assert r.code == 2 and needle in r.err


def test_batch_answers_every_line_and_survives_bad_ones():
    requests = [
        {"command": "vjp", "expr": "x1*x2, x1+x2", "at": "1,2", "v": "1,1", "id": "a"},
        "not json",
        {"expr": "x +", "id": "b"},
        {"command": "grad", "expr": "sum(x**2)", "at": ["x=[1,2]"], "id": "c"},
        {"command": "jacobian", "expr": "x", "bogus": 1},
        {"command": "hessian", "expr": "x1**2*x2", "at": "1,2"},
    ]
    stdin = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n"
    out = subprocess.run([sys.executable, "-m", "jacli", "batch"], input=stdin,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    answers = _lines(out.stdout)
    assert len(answers) == len(requests)
    assert answers[0]["id"] == "a" and answers[0]["vjp"]["numeric"] == [3.0, 2.0]
    assert "error" in answers[1] and answers[2]["error"]["kind"] == "parse"
    assert answers[2]["id"] == "b"
    assert answers[3]["vjp"]["grad"]["x"] == [2.0, 4.0]
    assert "unknown key" in answers[4]["error"]["message"]
    assert answers[5]["hessian"]["numeric"] == [[4.0, 2.0], [2.0, 0.0]]


def test_a_one_shot_tensor_run_never_imports_torch_dynamo():
    """torch.func's reverse mode imports torch._dynamo (0.6–0.9 s): a cold process picks the
    strategies that do not, for tall, square and wide tensor programs alike."""
    probe = ("import sys; from jacli.cli import main; "
             "codes = [main(['jacobian', 'tanh(W @ x)', '--at', 'W=' + W, '--at', 'x=' + x, "
             "'--wrt', wrt, '--symbolic', 'never', '--json']) for wrt in ('x', 'W')]; "
             "print(codes, 'torch._dynamo' in sys.modules, file=sys.stderr)")
    x = "[" + ",".join(["0.1"] * 64) + "]"
    W = "[" + ",".join([x] * 64) + "]"
    out = subprocess.run([sys.executable, "-c", f"W = {W!r}; x = {x!r}; " + probe],
                         capture_output=True, text=True, timeout=120)
    assert out.stderr.strip().splitlines()[-1] == "[0, 0] False", out.stderr[-2000:]


def test_several_at_values_per_variable_are_many_points(cli):
    """``--at x1=1 --at x1=2 --at x2=2``: point i takes the i-th value of each repeated
    variable; one given once holds at every point. Same stream as --at-file."""
    r = cli("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "x1=1", "--at", "x1=2,x2=2",
            "--at", "x1=3", "--v", "1,2")
    assert r.code == 0, r.err
    header, *rows = _lines(r.out)
    assert header["points"] == 3
    assert [row["vjp"] for row in rows] == [[2 + 4 * x1, 52.0] for x1 in (1, 2, 3)]
    assert all(row["check"] is True for row in rows)


@pytest.mark.parametrize("argv, needle", [
    (["jacobian", "x1*x2", "--at", "x1=1", "--at", "x1=2", "--at", "x2=1", "--at", "x2=2",
      "--at", "x2=3"], "same number of values (given: x1 2, x2 3)"),
    (["hessian", "x1*x2", "--at", "x1=1", "--at", "x1=2", "--at", "x2=1"],
     "many points work with jacobian, vjp and grad"),
])
def test_several_at_values_errors(cli, argv, needle):
    r = cli(*argv)
    assert r.code == 2 and needle in r.err


def test_batch_answers_do_not_depend_on_the_lines_before(cli):
    """jacli batch uses one rule set for every request (the warm rules), so a request gets
    the same strategy and the same numbers alone or after a request that loaded torch.func."""
    x = "[" + ",".join(str(i % 7 + 1) for i in range(100)) + "]"
    line = json.dumps({"command": "jacobian", "expr": "sin(x[:40])*exp(x/50).sum()/7",
                       "at": f"x={x}", "symbolic": "never"}) + "\n"
    big = json.dumps({"command": "jacobian", "expr": "sin(x)*exp(x/50).sum()", "mode": "rev",
                      "at": "x=[" + ",".join(["0.5"] * 300) + "]", "symbolic": "never"}) + "\n"
    alone = _lines(cli("batch", stdin=line.encode()).out)[0]
    after = _lines(cli("batch", stdin=(big + line).encode()).out)[1]
    assert alone["strategy"] == after["strategy"]
    assert alone["jacobian"]["numeric"] == after["jacobian"]["numeric"]


def test_a_bug_on_one_batch_line_does_not_stop_the_stream(cli, monkeypatch):
    import jacli.analysis.compute

    calls = []

    def flaky(problem):
        calls.append(problem)
        if len(calls) == 1:
            raise ZeroDivisionError("simulated bug")
        return real(problem)

    real = jacli.analysis.compute.compute
    monkeypatch.setattr(jacli.analysis.compute, "compute", flaky)
    lines = b'{"command": "grad", "expr": "x**2", "at": "3", "id": 1}\n' \
            b'{"command": "grad", "expr": "x**2", "at": "3", "id": 2}\n'
    r = cli("batch", stdin=lines)
    first, second = _lines(r.out)
    assert first["error"]["kind"] == "internal" and first["id"] == 1
    assert second["vjp"]["numeric"] == [6.0] and second["id"] == 2


@pytest.mark.parametrize("argv, code", [
    (["jacobian", "2**1000*x", "--at", "x=[1,2,3]"], 0),  # |det| past float range: inf
    (["jacobian", "exp(exp(exp(exp(exp(x)))))", "--at", "2"], 0),  # exact value: not compared
])
def test_overflow_in_exact_or_structure_is_reported_not_a_crash(cli, argv, code):
    r = cli(*argv)
    assert r.code == code and "internal error" not in r.err, r.err
