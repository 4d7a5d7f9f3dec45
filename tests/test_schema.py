"""The published contract (``jacli schema``): a valid draft 2020-12 schema that every JSON
jacli writes matches (results of each command, errors of each kind, batch lines, the
many-points JSON Lines), that names every key ``to_dict()`` writes, and that refuses what
breaks the contract (so the suite-wide validation in conftest.py can fail)."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from conftest import validate
from jacli.errors import ExitCode
from jacli.result.schema import JSON_SCHEMA, part

WHOLE = Draft202012Validator(JSON_SCHEMA)
PIECE = {name: Draft202012Validator(part(name))
         for name in ("result", "error", "batch_line", "many_header", "many_row")}


def _one_of(document, name: str) -> None:
    """Valid against its own part, and against the whole schema (``oneOf``: exactly one)."""
    PIECE[name].validate(document)
    WHOLE.validate(document)


def test_the_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(JSON_SCHEMA)
    assert JSON_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for name in PIECE:
        Draft202012Validator.check_schema(part(name))
    with pytest.raises(KeyError):
        part("nothing")


def test_jacli_schema_prints_it_without_torch_or_sympy():
    code = ("import sys, io; from jacli.cli import main; sys.stdout = io.StringIO(); "
            "rc = main(['schema']); out = sys.stdout.getvalue(); sys.stdout = sys.__stdout__; "
            "print(rc, [m for m in ('torch', 'sympy') if m in sys.modules]); print(out)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    first, printed = proc.stdout.split("\n", 1)
    assert first == "0 []", (first, proc.stderr)
    assert json.loads(printed) == JSON_SCHEMA
    assert printed.startswith('{\n  "$schema"')  # indent=2, as documented


COMMANDS = [
    ("jacobian", "x1**2+2*x2, x1*x2", ["--at", "1,2"]),
    ("vjp", "y = 2*x; y.view(2,2)", ["--at", "x=[1,2,3,4]", "--v", "[[1,0.1],[0.01,0.001]]"]),
    ("grad", "sum(x**2 + 2)", ["--at", "x=[1,2,3]"]),
    ("jvp", "sin(x1)*x2, x1**2", ["--at", "1,2", "--u", "1,0"]),
    ("hessian", "sum(x**3)", ["--at", "x=[1,2,3]", "--v", "1,0,0"]),
    ("check", "sin(x1)*x2, x1**2", ["--at", "1,2"]),
    ("graph", "y = x + 2; z = y*y*3; z.mean()", ["--at", "x=[[1,1],[1,1]]"]),
]


@pytest.mark.parametrize("command, expr, options", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_result_of_each_command_matches(cli_json, command, expr, options):
    d = cli_json(command, expr, *options)
    _one_of(d, "result")
    assert d["command"] == command
    key = {"jacobian": "jacobian", "vjp": "vjp", "grad": "vjp", "jvp": "jvp",
           "hessian": "hessian", "check": "check", "graph": "graph"}[command]
    assert d[key] is not None  # the command's own part is there, and was validated
    if command == "hessian":
        assert d["hessian"]["hvp"]["v"] == [1.0, 0.0, 0.0]


def test_formulas_only_and_non_finite_numbers_match(cli_json):
    """No --at: point and numbers are null; a pole: "Infinity" strings where floats go."""
    d = cli_json("jacobian", "sin(x)*y, exp(x*y)")
    _one_of(d, "result")
    assert d["point"] is None and d["jacobian"]["numeric"] is None
    d = cli_json("jacobian", "log(x)", "--at", "x=0")
    _one_of(d, "result")
    assert d["jacobian"]["numeric"] == [["Infinity"]] and d["value"]["numeric"] == ["-Infinity"]


ERRORS = [  # (kind, exit code, argv)
    ("parse", ExitCode.BAD_INPUT, ["jacobian", "x1 +", "--at", "1"]),
    ("name", ExitCode.BAD_INPUT, ["jacobian", "foo(x)", "--at", "x=1"]),
    ("shape", ExitCode.BAD_INPUT, ["vjp", "x1*x2, x1+x2", "--at", "1,2"]),
    ("value", ExitCode.BAD_INPUT, ["jacobian", "x**2", "--at", "x=abc"]),
    ("usage", ExitCode.BAD_INPUT, ["jacobian", "x**2", "--at", "x=1", "--bogus"]),
    ("usage", ExitCode.BAD_INPUT, ["jacobian", "x**2", "--at", "x=1", "--emit", "torch"]),
    ("limit", ExitCode.LIMIT, ["jacobian", "x.repeat(10**7)", "--at", "x=[1,2]"]),
]


@pytest.mark.parametrize("kind, code, argv", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_of_each_kind_match(cli, kind, code, argv):
    r = cli(*argv, "--json")
    assert r.code == code, r.err
    d = r.json
    _one_of(d, "error")
    assert d["error"]["kind"] == kind and d["error"]["message"] in r.err


def test_a_device_error_matches(cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is no error here")
    r = cli("jacobian", "x**2", "--at", "x=1", "--device", "cuda", "--json")
    assert r.code == ExitCode.BAD_INPUT and r.json["error"]["kind"] == "device"
    _one_of(r.json, "error")


def test_batch_lines_match_results_and_errors_with_their_id(cli, monkeypatch):
    lines = [json.dumps({"command": "vjp", "expr": "x1*x2, x1+x2", "at": "1,2", "v": "1,1",
                         "id": 7}),
             json.dumps({"expr": "x1 +", "id": "b"}),
             "not json",
             json.dumps({"expr": "x**2", "at": "x=1", "id": {"nested": [1, None]}}),
             json.dumps({"expr": "x**2", "at": "x=abc", "id": 3.5})]
    r = cli("batch", stdin=("\n".join(lines) + "\n").encode())
    answers = [json.loads(line) for line in r.out.splitlines()]
    assert r.code == 0 and len(answers) == 5
    for answer in answers:
        _one_of(answer, "batch_line")
    assert [a.get("id") for a in answers] == [7, "b", None, {"nested": [1, None]}, 3.5]
    assert ["error" in a for a in answers] == [False, True, True, False, True]
    assert answers[0]["vjp"]["numeric"] == [3.0, 2.0]


def test_a_batch_internal_error_matches(cli, monkeypatch):
    def boom(problem):
        raise RuntimeError("a bug")

    monkeypatch.setattr("jacli.analysis.compute.compute", boom)
    r = cli("batch", stdin=b'{"expr": "x**2", "at": "x=1", "id": 1}\n')
    answer = json.loads(r.out)
    _one_of(answer, "batch_line")
    assert answer["error"]["kind"] == "internal" and answer["id"] == 1


def _stream(text: str) -> list[dict]:
    rows = [json.loads(line) for line in text.splitlines()]
    _one_of(rows[0], "many_header")
    for row in rows[1:]:
        _one_of(row, "many_row")
    return rows


def test_many_points_from_a_file_match(cli, tmp_path):
    points = tmp_path / "points.jsonl"
    points.write_text("".join(json.dumps({"x": [i, i + 1], "s": i / 2}) + "\n"
                              for i in range(5)))
    r = cli("jacobian", "x * s, sum(x**2)", "--at-file", str(points))
    assert r.code == 0, r.err
    rows = _stream(r.out)
    assert rows[0]["points"] == 5 and [row["index"] for row in rows[1:]] == list(range(5))
    assert all("jacobian" in row for row in rows[1:])
    assert [("check" in row) for row in rows[1:]] == [True] * 3 + [False] * 2


def test_many_points_from_several_at_values_match(cli):
    r = cli("vjp", "x**2, sin(x)", "--at", "x=1", "--at", "x=2", "--at", "x=0.5", "--v", "1,2")
    assert r.code == 0, r.err
    rows = _stream(r.out)
    assert rows[0]["command"] == "vjp" and len(rows) == 4
    assert all(len(row["vjp"]) == 1 and "jacobian" not in row for row in rows[1:])


def test_a_non_finite_many_points_row_matches(cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x\n1\n0\n")
    rows = _stream(cli("grad", "log(x)", "--at-file", str(points)).out)
    assert rows[2]["vjp"] == ["Infinity"] and rows[2]["value"] == ["-Infinity"]


@functools.lru_cache(maxsize=1)
def _results() -> tuple[dict, ...]:
    """Results that between them carry every key to_dict() can write (read-only: the
    refusal tests copy before breaking one)."""
    from jacli import Problem, compute

    problems = [Problem(source, command=command, at=at, v=v, u=u, emit=emit, latex=latex)
                for source, command, at, v, u, emit, latex in [
                    ("x1**2+2*x2, x1*x2", "jacobian", ("1,2",), None, None, None, True),
                    ("import torch\nx**2", "vjp", ("x=3",), "2", None, "torch", False),
                    ("sin(x1)*x2, x1**2", "jvp", ("1,2",), None, "1,0", None, False),
                    ("sum(x**3)", "hessian", ("x=[1,2]",), "1,0", None, None, False),
                    ("relu(x)", "check", ("x=0",), None, None, None, False),
                    ("x1*x2", "graph", ("1,2",), None, None, None, False),
                    ("x1*x2", "grad", (), None, None, None, False)]]
    return tuple(compute(p).to_dict() for p in problems)


def test_every_top_level_key_of_a_result_is_declared():
    declared = set(PIECE["result"].schema["$defs"]["result"]["properties"])
    results = _results()
    written = set().union(*results)
    assert written <= declared, f"keys the schema does not declare: {written - declared}"
    for key in ("torch_script", "latex", "ignored", "hessian", "jvp", "graph", "check"):
        assert key in written  # the cases above do reach every optional key
    for d in results:
        validate(d, "result")


def test_every_key_of_an_error_and_a_stream_is_declared():
    from jacli import Problem
    from jacli.errors import ParseError
    from jacli.many.stream import evaluate_many
    from jacli.request.points import read_points

    defs = JSON_SCHEMA["$defs"]
    error = ParseError("bad", hint="h", line=1, column=2, where="expression").to_dict()
    assert set(error) <= set(defs["error"]["properties"]["error"]["properties"])
    header, *rows = evaluate_many(Problem("x**2", command="vjp", v="1"),
                                  read_points('{"x": 1}\n{"x": 2}\n', "--at-file"))
    assert set(header) <= set(defs["many_header"]["properties"])
    assert set().union(*rows) <= set(defs["many_row"]["properties"])


def _broken(d: dict, path: list, value) -> dict:
    d = copy.deepcopy(d)
    target = d
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize("path, value", [
    (["jacobian"], KeyError),  # a required key missing
    (["jacobian", "numeric", 0, 0], "nan"),  # only "NaN", "Infinity", "-Infinity"
    (["jacobian", "numeric", 0, 0], None),
    (["value", "exact", 0], 5),  # exact values are strings
    (["command"], "jacobain"),
    (["schema"], "jacli/2"),
    (["variables", 0, "shape"], [-1]),
    (["check", "agree"], "yes"),
    (["vjp", "grad"], [1.0]),
])
def test_the_schema_refuses_a_broken_result(path, value):
    good = _results()[1]  # vjp: jacobian, vjp, check, structure
    _one_of(good, "result")
    bad = _broken(good, path, value)
    assert not PIECE["result"].is_valid(bad) and not WHOLE.is_valid(bad)


def test_the_schema_refuses_broken_errors_and_rows():
    error = {"schema": "jacli/1", "error": {"kind": "parse", "message": "m", "line": 1,
                                            "column": 0, "hint": None, "where": None}}
    assert not WHOLE.is_valid(error)  # columns are 1-based
    error["error"]["column"] = 1
    assert WHOLE.is_valid(error)
    assert not WHOLE.is_valid(_broken(error, ["error", "kind"], "oops"))
    assert not WHOLE.is_valid(_broken(error, ["error", "hint"], KeyError))
    row = {"index": 0, "value": [1.0], "vjp": [2.0], "check": True}
    assert WHOLE.is_valid(row) and not WHOLE.is_valid(_broken(row, ["index"], "0"))
    assert not WHOLE.is_valid(_broken(row, ["vjp"], [[2.0]]))
    assert WHOLE.is_valid({**row, "later": "a key added by a later version"})  # keys grow
