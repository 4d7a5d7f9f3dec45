"""Many points (``--at-file``): the batched numbers against the one-point path, every batching
plan against the others, the fast reader against the exact one, the fast writer against
``json.dumps(strict(row))``, and the progress bar's terminal/pipe behaviour."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction

import pytest
import torch

from jacli.backends.tensors import TorchBackend
from jacli.many import batched as core
from jacli import Problem, compute
from jacli.analysis.prepare import prepare
from jacli.errors import JacliError
from jacli.many.stream import evaluate_many, json_lines
from jacli.request.points import read_points
from jacli.result import strict

SEED = "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3"
# (source, command, v, points): pointwise without statements (per-output plan), with
# statements (joint output), with a constant and an unused variable, and programs that
# need vmap (tensor variables, reductions, indexing, subscript assignment)
CASES = [
    (SEED, "jacobian", None, [{"x1": 1, "x2": 2, "x3": 3}, {"x1": -0.5, "x2": 0.25, "x3": 2}]),
    (SEED, "vjp", "1,2,3", [{"x1": 1, "x2": 2, "x3": 3}, {"x1": -0.5, "x2": 0.25, "x3": 2}]),
    ("y = sin(x1)*x2; z = exp(y/4); z + y, z*x2", "jacobian", None,
     [{"x1": 0.3, "x2": 2}, {"x1": -1, "x2": 0.5}, {"x1": 2, "x2": -1}]),
    ("y = sin(x1)*x2; z = exp(y/4); z + y, z*x2", "vjp", "2,-1",
     [{"x1": 0.3, "x2": 2}, {"x1": -1, "x2": 0.5}]),
    ("x1**2, 7, sigmoid(x1) + pi + detach(x2)", "jacobian", None, [{"x1": 1, "x2": 5}, {"x1": -2, "x2": 1}]),
    ("x1**2, 7, sigmoid(x1) + pi + detach(x2)", "vjp", "1,1,1", [{"x1": 1, "x2": 5}, {"x1": -2, "x2": 1}]),
    ("x1*x2 + relu(x2) + detach(x1**3)", "grad", None, [{"x1": 2, "x2": -1}, {"x1": 0.5, "x2": 3}]),
    ("x1*x2 + sin(x1)**x2", "jacobian", None, [{"x1": 2, "x2": -1}, {"x1": 0.5, "x2": 3}]),
    ("tanh(W @ x)", "jacobian", None,
     [{"W": [[1, 2], [0.5, -1], [0, 3]], "x": [0.1, -0.2]},
      {"W": [[0, 1], [1, 0], [2, 2]], "x": [1, 2]}]),
    ("sum(x**2) * x[0], x[1] - x[0]", "vjp", "1,3",
     [{"x": [1, 2, 3]}, {"x": [-1, 0.5, 2]}, {"x": [0, 0, 1]}]),
    ("b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + 2*a[0,0]; 2*b",
     "jacobian", None, [{"a": [[2, 4]]}, {"a": [[1, 1]]}]),
]


def _at(point: dict) -> str:
    return ",".join(f"{k}={json.dumps(v)}" for k, v in point.items())


def _one_point(source, command, v, point):
    """The one-point path's numbers: value, and J or vᵀJ (flat)."""
    r = compute(Problem(source, command=command, at=(_at(point),), v=v, symbolic="never"))
    numbers = r.jacobian.numeric if command == "jacobian" else r.vjp.numeric
    return r.value_numeric, numbers


def _batched(source, command, v, points, p=None, strategy=core.STRATEGY, size=None):
    setup = prepare(Problem(source, command=command, at=(_at(points[0]),), v=v))
    p = p or core.plan(setup.program, setup.shapes, setup.wrt)
    B = TorchBackend("float64", "cpu")
    X = {n: torch.tensor([pt[n] for pt in points], dtype=torch.float64)
         for n in setup.variables}
    vec = B.tensor(setup.v if setup.v is not None else [Fraction(1)]) \
        if command != "jacobian" else None
    parts = list(core.chunks(p, B, X, command, vec, size or len(points), strategy))
    key = "jacobian" if command == "jacobian" else "vjp"
    return (torch.cat([o["value"] for _, o in parts]), torch.cat([o[key] for _, o in parts]),
            p)


@pytest.mark.parametrize("source, command, v, points", CASES)
def test_batched_matches_one_point_path(source, command, v, points):
    value, numbers, _ = _batched(source, command, v, points)
    for i, point in enumerate(points):
        one_value, one_numbers = _one_point(source, command, v, point)
        assert torch.allclose(value[i], torch.tensor(one_value, dtype=torch.float64),
                              rtol=1e-12, atol=1e-15)
        assert torch.allclose(numbers[i], torch.tensor(one_numbers, dtype=torch.float64),
                              rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("source, command, v, points", CASES)
def test_every_plan_and_chunking_agree(source, command, v, points):
    value, numbers, p = _batched(source, command, v, points)
    others = [replace(p, outputs=None), replace(p, direct=False, outputs=None)]
    for other in others:
        for strategy in ("rows", "isgb"):
            for size in (1, 2, len(points)):
                v2, n2, _ = _batched(source, command, v, points, other, strategy, size)
                assert torch.allclose(v2, value, rtol=1e-12, atol=1e-15)
                assert torch.allclose(n2, numbers, rtol=1e-12, atol=1e-15)


def test_plans_are_chosen_from_the_program():
    def plan_of(source, at):
        setup = prepare(Problem(source, at=(at,)))
        return core.plan(setup.program, setup.shapes, setup.wrt)

    seed = plan_of(SEED, "1,2,3")
    assert seed.direct and seed.outputs is not None and len(seed.outputs) == 3
    joint = plan_of("y = x1*x2; y, y**2", "1,2")
    assert joint.direct and joint.outputs is None
    for source, at in [("sum(x**2)", "x=[1,2]"), ("x1*x2 + x1", "1,2")]:
        p = plan_of(source, at)
        assert p.direct == (source == "x1*x2 + x1")


def _run_lines(source, command, v, text):
    problem = Problem(source, command=command, v=v)
    fast = "".join(b.text for b in json_lines(problem, read_points(text, "--at-file")))
    slow = "".join(json.dumps(strict(row), allow_nan=False) + "\n"
                   for row in evaluate_many(problem, read_points(text, "--at-file")))
    return fast, slow


@pytest.mark.parametrize("source, command, v", [
    (SEED, "jacobian", None), (SEED, "vjp", "1,2,3"),
    ("log(x1) * x2, sqrt(x2), 1/x1", "jacobian", None),  # non-finite rows
    ("sum(x**2) * x[0], x[1] - x[0]", "vjp", "1,3"),
])
def test_json_lines_is_byte_for_byte_what_json_dumps_gives(source, command, v, monkeypatch):
    monkeypatch.setattr(core, "MAX_CHUNK", 2)  # several chunks, checked rows across two
    if "x[0]" in source:
        text = "".join(json.dumps({"x": [i / 3, -i, 0.5]}) + "\n" for i in range(5))
    elif "log" in source:
        text = "".join(json.dumps({"x1": i / 7 + 0.2, "x2": 2 - i / 3}) + "\n"
                       for i in range(5)) + '{"x1": 0, "x2": -1}\n'
    else:
        text = "".join(json.dumps({"x1": i / 7 - 0.2, "x2": 2 - i, "x3": i}) + "\n"
                       for i in range(5))
    fast, slow = _run_lines(source, command, v, text)
    assert fast == slow
    rows = [json.loads(line) for line in fast.splitlines()]
    assert [r["index"] for r in rows[1:]] == list(range(len(rows) - 1))
    assert [r.get("check") for r in rows[1:4]] == [True, True, True]
    if "log" in source:
        assert rows[-1]["value"] == ["Infinity", "NaN", "Infinity"]  # log(0)*(-1), sqrt(-1), 1/0


def test_reader_rounds_like_the_exact_reader():
    """The fast reader's floats are float(Fraction(text)): "-0.0" is 0 but "-1e-400" is
    -0.0, integers beyond int64 round once, 1/3 in a CSV is read exactly."""
    big = 123456789012345678901234567890
    text = (f'{{"x1": -0.0, "x2": 1e-5, "x3": {big}}}\n'
            '{"x1": -1e-400, "x2": 0.1, "x3": -0}\n')
    rows = list(evaluate_many(Problem("1/x1, x2, x3"), read_points(text, "f")))[1:]
    assert rows[0]["value"] == [math.inf, 1e-5, float(big)]
    assert rows[1]["value"] == [-math.inf, 0.1, 0.0]
    csv_rows = list(evaluate_many(Problem("x1 * 3, 1/x1"), read_points("x1\n1/3\n-0\n", "f")))
    assert csv_rows[1]["value"] == [1.0, 3.0]
    assert csv_rows[2]["value"][1] == math.inf  # 1/0 at +0, not -inf at -0.0


@pytest.mark.parametrize("text, needle", [
    ('{"x": true}\n', "not a number"),
    ('{"x": 1, "y": 2}\n{"x": 2, "y": 3}\n', "'y' is not a variable"),
    ('{"x": 1}\n{"x": 1, "z": 0}\n', "point 2: 'z' is not a variable"),
    ('{"x": 1}, {"x": 2}\n', "line 1"),
    ('{"x": 1}\n{"x": "2"}\n', "point 2: x is not a number"),
    ("x,y\n1,2\n", "'y' is not a variable"),
    ("x\nnan\n", "line 2: not all numbers"),
    ('{"x": 1}\n{"x": 1e400}\n', "point 2: x is outside float64's range"),
    ("x\n1\n-1e400\n", "point 2: x is outside float64's range"),
])
def test_bad_points_are_refused_naming_the_point(text, needle):
    with pytest.raises(JacliError) as e:
        list(evaluate_many(Problem("x**2"), read_points(text, "--at-file")))
    assert needle in e.value.message


def _jacli_at_file(tmp_path, stderr):
    points = tmp_path / "pts.jsonl"
    points.write_text("".join(json.dumps({"x1": i / 10, "x2": 1}) + "\n" for i in range(25_000)))
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "jacli", "jacobian", "x1*x2, x1**2", "--at-file", str(points),
            "--format", "json"]
    with open(out, "w") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=stderr, close_fds=True)
        return proc, out


def test_no_progress_bar_when_stderr_is_piped(tmp_path):
    proc, out = _jacli_at_file(tmp_path, subprocess.PIPE)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == b""
    assert len(out.read_text().splitlines()) == 25_001


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_and_the_data_still_on_stdout(tmp_path):
    master, slave = os.openpty()
    proc, out = _jacli_at_file(tmp_path, slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # the other side closed
            break
        if not data:
            break
        seen += data[:4096] if len(seen) < 4096 else b""
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    assert b"points" in seen  # the bar's label, drawn on the terminal
    assert len(out.read_text().splitlines()) == 25_001


# -- through the CLI: --at-file and several --at values --------------------------------------
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
