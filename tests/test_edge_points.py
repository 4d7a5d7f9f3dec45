"""The awkward points of tests/data/hostile/edge-points.md: where autograd and SymPy part ways.

Each row states what jacli must conclude (agree or not) and what the notice must say.
Variables are real, so abs(x) differentiates to sign(x) (the table's "no assumptions" row
with re/im derivatives cannot happen in jacli).
"""

from __future__ import annotations

import pytest

ROWS = [
    # (expression, point, agree, a phrase the notices must contain or None)
    ("abs(x)", "x=0", True, "abs at 0"),
    ("sqrt(x)", "x=0", True, None),  # both infinite
    ("sqrt(x)", "x=-1", False, "leaves the real numbers"),
    ("x**0.5", "x=-1", False, "leaves the real numbers"),
    ("x**(1/3)", "x=-8", False, "leaves the real numbers"),
    ("relu(x)", "x=0", True, "relu at 0"),  # by convention: Heaviside(0) = 0 like torch
    ("maximum(x, 0)", "x=0", True, "maximum tie"),
    ("maximum(x, y)", "x=1,y=1", True, "maximum tie"),
    ("log(x)", "x=0", True, "log(x) at 0"),  # both infinite
    ("1/x", "x=0", True, None),
    ("x**(-1)", "x=0", True, None),
    ("x**0", "x=0", True, None),
    ("x**y", "x=0,y=0", False, "undefined"),
    ("x**y", "x=0,y=1", False, None),
    ("sqrt(x**2)", "x=0", False, "0/0"),
    # SymPy's exact evaluation gives 0/0 = nan here (the table's 0 is a limit): both undefined
    ("sqrt(x**2+y**2)", "x=0,y=0", True, "at base 0"),
    ("x*log(x)", "x=0", False, "undefined here, in different ways"),
    ("sin(x)/x", "x=0", True, None),  # both nan (the true value, 0, is a limit)
    ("log(exp(x))", "x=1000", False, "0/0"),
    ("1/(1+exp(-x))", "x=-1000", False, None),
    ("sigmoid(x)", "x=-1000", True, None),  # the fused op is stable
    # derivative: both nan (the true one is 0); value: exact exp(-zoo) = nan, torch exp(-inf) = 0
    ("exp(-1/x**2)", "x=0", False, "undefined at this point"),
    ("x/x", "x=0", False, "x/x"),
    ("sqrt(x)**2", "x=-1", False, None),
    ("(x**2-1)/(x-1)", "x=1", True, None),  # both nan
]


@pytest.mark.parametrize("src, at, agree, phrase", ROWS, ids=[f"{r[0]}@{r[1]}" for r in ROWS])
def test_edge_point(cli, src, at, agree, phrase):
    r = cli("jacobian", src, "--at", at, "--json")
    assert r.code == (0 if agree else 1), r.out
    import json

    d = json.loads(r.out)
    assert d["check"]["agree"] is agree
    if phrase:
        assert any(phrase in n for n in d["notices"]), d["notices"]


def test_float32_rounding_is_reported_in_ulps(cli_json):
    d = cli_json("check", "x**2", "--at", "x=10000.1", "--dtype", "float32")
    assert d["jacobian"]["numeric"][0][0] != 20000.2  # float32 cannot hold it
    assert d["check"]["max_ulps"] >= 0.5
