"""``jacli batch``: one JSON answer per request line, each independent of the lines before,
and a bad or buggy line never stops the stream."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _lines(text: str) -> list[dict]:
    return [json.loads(line, parse_constant=lambda t: pytest.fail(t)) for line in text.splitlines()]


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


@pytest.mark.parametrize("line", [
    '{"expr": "x**2", "bogus": 1, "id": 3}',  # an unknown key
    '{"at": "1", "id": 3}',  # no expression
])
def test_a_refused_request_still_echoes_its_id(cli, line):
    answer = json.loads(cli("batch", stdin=line.encode()).out)
    assert answer["error"]["kind"] == "usage" and answer["id"] == 3


@pytest.mark.parametrize("request_line", [
    '{"command": "jacobian", "expr": "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", '
    '"at": "1.125,1.25,1.375"}',
    '{"command": "vjp", "expr": "sin(x1)*x2, x1**2", "at": "0.5,2", "v": "1,1", "id": 7}',
    '{"command": "jacobian", "expr": "log(x1), 1/x2", "at": "0,0"}',  # -inf, zoo: strict
    '{"command": "jacobian", "expr": "exp(x1)", "at": "1000"}',  # overflow: inf
    '{"command": "hessian", "expr": "x1**3*x2", "at": "1,2", "v": "1,0"}',
    '{"command": "nope", "expr": "x1"}',  # an error answer
    'not json',
])
def test_the_written_line_is_the_strict_answer(request_line):
    """``answer_line`` writes the answer as held and falls back on ``strict`` only for a
    NaN or an infinity: the text must be exactly ``json.dumps`` of the strict answer."""
    from jacli.cli.batch import answer, answer_line

    assert answer_line(request_line) == json.dumps(answer(request_line), allow_nan=False)


def test_an_answer_kept_for_later_freeing_is_the_same_line():
    """``answer_line(line, kept)`` (what ``jacli batch`` writes before it frees the answer's
    objects) is the line ``answer_line(line)`` gives, and ``kept`` holds the Result."""
    from jacli.cli.batch import answer_line
    from jacli.result import Result

    for request in ({"command": "vjp", "expr": "sin(x1)*x2, x1**2", "at": "0.5,2", "v": "1,1"},
                    {"expr": "x +"}, {"expr": "log(x)", "at": "-1"}):
        line = json.dumps(request)
        kept: list = []
        assert answer_line(line, kept) == answer_line(line)
        assert any(isinstance(k, Result) for k in kept) == ("+" not in request["expr"])


def test_requests_that_differ_only_in_their_point_share_checked_options():
    """A request like an earlier one but for ``at`` copies its checked ``Problem``
    (``batch._problem``): each gets its own point, and an option is still checked as the
    request gives it — ``true`` equals ``1`` in Python, but only ``1`` is a timeout."""
    from jacli.cli import batch
    from jacli.request.problem import build

    base = {"command": "vjp", "expr": "x1*x2, x1+x2", "v": "1,1", "timeout": 1}
    for point in ("1,2", "3,4", ["x1=5", "x2=6"]):
        got = batch._problem({**base, "at": point, "id": str(point)})
        want = build("vjp", base["expr"], at=point, v="1,1", timeout=1,
                     given=["at", "v", "timeout"])
        assert got == want and got.at == want.at
    answers = [batch.answer(json.dumps({**base, "at": p})) for p in ("1,2", "3,4")]
    assert [a["vjp"]["numeric"] for a in answers] == [[3.0, 2.0], [5.0, 4.0]]
    refused = batch.answer(json.dumps({**base, "timeout": True, "at": "1,2"}))
    assert refused["error"]["kind"] == "usage" and "timeout" in refused["error"]["message"]
    no_point = batch._problem({k: v for k, v in base.items() if k != "v"} | {"command": "jacobian"})
    assert no_point.at == ()


def test_the_prebuilt_encoder_writes_what_json_dumps_writes(monkeypatch):
    """``_encoded`` (the C encoder built once) gives ``json.dumps``' text for the same
    options, lazy lists, non-ASCII text and nesting included, refuses a NaN alike, and
    falls back on ``json.dumps`` where there is no C encoder."""
    import math

    import torch

    from jacli.cli import batch
    from jacli.result import Floats, Texts

    values = [{"a": [1, 2.5, None, True], "b": {"c": "x — y × z", "d": []}},
              {"rows": [Texts([1, 2], lambda xs: [str(x) for x in xs])],
               "J": Floats(torch.tensor([[1.0, 0.1]], dtype=torch.float64))},
              [], "é", 1e300, {"k": [[[-0.0]]]}]
    for value in values:
        want = json.dumps(value, allow_nan=False, default=batch._listed, check_circular=False)
        assert batch._encoded(value) == want
    with pytest.raises(ValueError):
        batch._encoded({"x": [math.nan]})
    monkeypatch.setattr(batch, "_C_ENCODER", None)
    assert batch._encoded(values[0]) == json.dumps(values[0])


def test_a_kept_problem_holds_no_requests_point():
    """The ``Problem`` kept for later requests is checked without its point: a large ``at``
    is not held on to after its request."""
    from jacli.cli import batch

    point = "x=[" + ",".join(map(str, range(1000))) + "]"
    assert batch._problem({"expr": "sum(x**2)", "command": "grad", "at": point}).at == (point,)
    kept = batch._BUILT.get(batch._options_key({"expr": "sum(x**2)", "command": "grad",
                                                "at": None}))
    assert kept is not None and kept.at == ()


def test_values_by_name_are_refused_before_u_as_build_refuses_them():
    """An ``at`` of values by name is read where ``build`` reads it, before ``u``: with both
    wrong, the error names ``--at`` (found by a review)."""
    from jacli.cli import batch
    from jacli.errors import JacliError
    from jacli.request.problem import build

    bad = [[1], [1, 2]]
    request = {"command": "jvp", "expr": "x*y", "at": {"x": bad, "y": 1}, "u": {"x": bad}}
    for _ in range(2):  # (a second time: nothing kept changes it)
        error = batch.answer(json.dumps(request))["error"]
        assert error["where"] == "--at", error
    with pytest.raises(JacliError) as fresh:
        build("jvp", "x*y", at=request["at"], u=request["u"], given=["at", "u"])
    assert fresh.value.to_dict()["message"] == error["message"]
