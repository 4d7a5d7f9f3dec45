"""Long formulas shortened with named common subexpressions (``jacobian.definitions``).

The shortened entries are a second view of the same maths: substituting the definitions back
must give ``symbolic_full`` exactly, and its values at the point must be PyTorch's. SymPy
parses jacli's own output strings here (never user text), with ``x[0]`` spelled ``x_0``.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp
import torch

SOFTMAX = ("jacobian", "exp(x)/sum(exp(x))", "--at", "x=[1,2,3]")


def parse(text: str) -> sp.Expr:
    """A formula jacli printed, as SymPy (``a[0,1]`` → ``a_0_1``; every name real)."""
    flat = re.sub(r"([A-Za-z_]\w*)\[([\d, ]+)\]",
                  lambda m: m[1] + "_" + "_".join(m[2].replace(" ", "").split(",")), text)
    names = set(re.findall(r"[A-Za-z_]\w*", flat)) - {"exp", "log", "sin", "cos", "sqrt", "E"}
    return sp.sympify(flat, locals={n: sp.Symbol(n, real=True) for n in names})


def expand(J: dict) -> list[list[sp.Expr]]:
    """``J["symbolic"]`` with each definition substituted back, last first."""
    entries = [[parse(t) for t in row] for row in J["symbolic"]]
    for d in reversed(J["definitions"]):
        name, formula = parse(d["name"]), parse(d["formula"])
        entries = [[e.xreplace({name: formula}) for e in row] for row in entries]
    return entries


def total_length(rows: list[list[str]]) -> int:
    return sum(len(t) for row in rows for t in row)


def test_softmax_is_shortened_and_substitutes_back(cli_json):
    J = cli_json(*SOFTMAX)["jacobian"]
    assert J["definitions"], "the softmax J repeats exp(x[0]) + exp(x[1]) + exp(x[2])"
    assert J["definitions"][0]["formula"] == "exp(x[0]) + exp(x[1]) + exp(x[2])"
    assert total_length(J["symbolic"]) < total_length(J["symbolic_full"]) / 2
    assert max(len(t) for row in J["symbolic"] for t in row) <= 40
    assert J["symbolic"][0][1] == "-y[0]*y[1]"  # the output's own names: y[0]*(1 - y[0])…
    assert [d["name"] for d in J["definitions"]] == ["s1", "y[0]", "y[1]", "y[2]"]
    assert J["definitions"][1]["formula"] == "exp(x[0])/s1"
    for row in J["symbolic"]:  # every name defined is used, and no entry is a bare name
        assert all(t not in {d["name"] for d in J["definitions"]} for t in row)
    for k, d in enumerate(J["definitions"]):  # each used by an entry or a later definition
        later = [t for row in J["symbolic"] for t in row]
        later += [x["formula"] for x in J["definitions"][k + 1:]]
        assert any(re.search(rf"(?<![\w\]]){re.escape(d['name'])}(?![\w\[])", t)
                   for t in later), d
    full = [[parse(t) for t in row] for row in J["symbolic_full"]]
    for back, want in zip(expand(J), full):
        assert all(sp.simplify(b - w) == 0 for b, w in zip(back, want))


def test_shortened_formulas_are_the_true_derivatives(cli_json):
    J = cli_json(*SOFTMAX)["jacobian"]
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    oracle = torch.autograd.functional.jacobian(lambda t: torch.exp(t) / torch.exp(t).sum(), x)
    point = {sp.Symbol(f"x_{i}", real=True): sp.Integer(i + 1) for i in range(3)}
    values = [[float(e.xreplace(point).evalf(30)) for e in row] for row in expand(J)]
    assert torch.allclose(torch.tensor(values, dtype=torch.float64), oracle, rtol=1e-12,
                          atol=1e-15)


@pytest.mark.parametrize("argv", [
    ("jacobian", "x1*x2 + sin(x1)", "--at", "x1=1, x2=2"),
    ("jacobian", "a @ b", "--at", "a=[[1,2],[3,4]], b=[5,6]"),
    ("jacobian", "s = exp(a) + exp(b) + exp(c); exp(a)/s, exp(b)/s"),  # no point
])
def test_short_formulas_get_no_definitions(cli_json, argv):
    J = cli_json(*argv)["jacobian"]
    if "exp" in argv[1]:  # formulas only (no point): still shortened
        assert J["definitions"] and J["symbolic_full"] is not None
        return
    assert J["definitions"] == [] and J["symbolic_full"] is None
    assert all(len(t) <= 60 for row in J["symbolic"] for t in row)


def test_seed_formulas_are_unchanged(cli_json):
    """Short J: ``symbolic`` is SymPy's own printing of the derivative, as before."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    f = x1 * x2 + sp.sin(x1)
    J = cli_json("jacobian", "x1*x2 + sin(x1)", "--at", "x1=1, x2=2")["jacobian"]
    assert J["symbolic"] == [[str(sp.diff(f, x1)), str(sp.diff(f, x2))]]


@pytest.mark.parametrize("source, point", [
    ("exp(s1*x)/sum(exp(s1*x))", ["x=[1,2,3], s1=1/2"]),
    ("s2 = sum(exp(x)); exp(x)/s2", ["x=[1,2,3]"]),
])
def test_names_never_collide_with_the_program(cli_json, source, point):
    d = cli_json("jacobian", source, "--at", *point)
    J = d["jacobian"]
    assert J["definitions"]
    taken = set(re.findall(r"[A-Za-z_]\w*", source)) | {v["name"] for v in d["variables"]}
    variables = {v["name"] for v in d["variables"]}
    for x in J["definitions"]:
        base = x["name"].split("[")[0]
        assert base not in variables  # never a variable's name
        if base not in taken:  # a fresh name: not the program's s1 / s2 pattern
            assert not re.fullmatch(r"s\d+", base), x
        else:  # the program's own intermediate or output, by design
            assert base in {"s2", d["outputs"][0].split("[")[0]}, x
    full = [[parse(t) for t in row] for row in J["symbolic_full"]]
    for back, want in zip(expand(J), full):
        assert all(sp.simplify(b - w) == 0 for b, w in zip(back, want))


def test_every_view_shows_the_same_definitions(cli, cli_json):
    J = cli_json(*SOFTMAX)["jacobian"]
    table = cli(*SOFTMAX).out
    markdown = cli(*SOFTMAX, "--format", "markdown").out
    latex = cli(*SOFTMAX, "--format", "latex").out
    html = cli(*SOFTMAX, "--format", "html").out
    for k, d in enumerate(J["definitions"], start=1):
        line = f"{d['name']} = {d['formula']}"
        assert ("where " + line if k == 1 else line) in table
        assert f"`{line}`" in markdown
        tex = re.sub(r"^([a-z])(\d+)$", r"\1_{\2}", d["name"])  # s1 → s_{1}; y[0] stays
        assert re.search(rf"^{re.escape(tex)} = .*e\^{{x\[{k - 2 if k > 1 else 0}\]}}",
                         latex, re.M), tex
    assert '<mi>s</mi><mn>1</mn></msub></mrow></math> = <math' in html
    assert len(re.findall(r"^(?!J)\S+ = ", latex, re.M)) == len(J["definitions"])
    assert html.count('<li class="definition">') == len(J["definitions"])
    for view in (table, markdown, latex):  # the shortened entries, not the full ones
        assert "exp(x[0]) + exp(x[1]) + exp(x[2]))**2" not in view
    assert "-y[0]*y[1]" in table and "`-y[0]*y[1]`" in markdown
    assert "- y[0] y[1]" in latex


def test_many_points_header_keeps_the_full_formulas(cli):
    import json

    r = cli("jacobian", "exp(x)/sum(exp(x))", "--at", "x=[1,2,3]", "--at", "x=[0,0,0]")
    assert r.code == 0, r.err
    header = json.loads(r.out.splitlines()[0])
    assert "(exp(x[0]) + exp(x[1]) + exp(x[2]))**2" in header["jacobian_symbolic"][0][1]


def test_pretty_is_unicode_maths_on_one_line(cli):
    argv = ("jacobian", "sqrt(a**2 + b**3)*pi + a**(1/3) - b**(-2)", "--at", "a=1, b=2")
    plain, fancy = cli(*argv).out, cli(*argv, "--pretty").out
    assert "**" in plain and "**" not in fancy
    for mark in ("a²", "b³", "√(a² + b³)", "3·π·b²", "a^(2/3)", "2/b³"):
        assert mark in fancy, mark
    assert "3/4 + 3·π" in fancy  # exact values too; the plain rationals stay numbers
    softmax = cli(*SOFTMAX, "--pretty").out
    assert "where s1 = exp(x[0]) + exp(x[1]) + exp(x[2])" in softmax
    assert "−y[0]² + y[0]" in softmax and "−y[0]·y[1]" in softmax and "**" not in softmax


def test_pretty_transform_is_pure_and_keeps_names():
    from jacli.render.pretty import pretty

    assert pretty("-x**2*y + s1**(-2) - sqrt(pi)") == "−x²·y + s1⁻² − √(π)"
    assert pretty("pi*x", names=frozenset({"pi"})) == "pi·x"  # a variable named pi stays
    assert pretty("exp(x[0])**(a + 1)") == "exp(x[0])^(a + 1)"


def test_pretty_refused_outside_the_table(cli):
    r = cli(*SOFTMAX, "--pretty", "--format", "markdown")
    assert r.code == 2 and "--pretty" in r.err and "Traceback" not in r.err


def test_an_intermediate_names_its_definition(cli_json):
    """``s = exp(x).sum()`` in the program: the definition is called ``s``, not ``s1``."""
    J = cli_json("jacobian", "s = exp(x).sum(); exp(x)/s", "--at", "x=[1,2,3]")["jacobian"]
    assert J["definitions"][0] == {"name": "s", "formula": "exp(x[0]) + exp(x[1]) + exp(x[2])"}
    full = [[parse(t) for t in row] for row in J["symbolic_full"]]
    for back, want in zip(expand(J), full):
        assert all(sp.simplify(b - w) == 0 for b, w in zip(back, want))


def test_a_scalar_output_names_itself(cli_json):
    """``exp(a*b)*sin(c)``: ∂/∂a is ``b*y``, shorter than the formula written out."""
    d = cli_json("jacobian", "exp(a*b)*sin(c)*cos(a + b + c)**2", "--at", "a=1, b=2, c=3")
    J = d["jacobian"]
    label = d["outputs"][0]
    defined = {x["name"]: x["formula"] for x in J["definitions"]}
    assert set(defined) == {label, "s1"}
    assert defined[label] == "exp(a*b)*sin(c)*cos(a + b + c)**2"
    assert J["symbolic"][0][:2] == [f"b*{label} - s1", f"a*{label} - s1"]
    assert any(label in t for t in J["symbolic"][0])
    back, want = expand(J), [[parse(t) for t in row] for row in J["symbolic_full"]]
    assert all(sp.simplify(b - w) == 0 for b, w in zip(back[0], want[0]))
