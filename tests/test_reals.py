"""The symbolic side works on the reals, with PyTorch's conventions at kinks.

The piecewise functions (abs, relu, maximum, minimum, amax, amin) have real derivative rules:
formulas read as a person writes them (``sign(x)``, ``heaviside(x, 0)``), never SymPy's
complex-variable ``re``/``im``/``atan2(0, x)``/``DiracDelta``; exact values are right wherever
the derivative exists, and at a kink they are PyTorch's subgradient. PyTorch in float64 is the
oracle for every number: each case is differentiated here by ``torch.autograd.functional``.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp
import torch
from torch.autograd.functional import hessian as torch_hessian
from torch.autograd.functional import jacobian as torch_jacobian

from jacli.render.mathml import to_mathml

# What SymPy's complex-variable rules leak into formulas; none may appear on the reals.
LEAKS = re.compile(r"\b(re|im|atan2|arg|DiracDelta|Heaviside|Abs|Max|Min|conjugate)\(")


def exact(text: str) -> float:
    """An exact value jacli printed (its own output, never user text), as a float."""
    return float(sp.N(sp.sympify(text), 30))


def torch_derivatives(f, at: list[float] | float):
    """(J, H) of the scalar function ``f`` at ``at``, flattened, by torch in float64."""
    x = torch.tensor(at, dtype=torch.float64)
    J = torch_jacobian(f, x).reshape(-1).tolist()
    H = torch_hessian(f, x).reshape(len(J), len(J)).tolist()
    return J, H


def assert_matches_torch(cli_json, program: str, f, at):
    """jacli's exact J and Hessian equal torch's, its formulas are real-variable ones, and
    its own numeric side agrees with its symbolic side."""
    at_text = f"x={at}"
    d = cli_json("hessian", program, "--at", at_text)
    J, H = torch_derivatives(f, at)
    got_J = [exact(t) for t in d["jacobian"]["exact"][0]]
    got_H = [[exact(t) for t in row] for row in d["hessian"]["exact"]]
    assert got_J == pytest.approx(J, rel=1e-12, abs=1e-12), (program, at, got_J, J)
    assert got_H == [pytest.approx(row, rel=1e-12, abs=1e-12) for row in H], (program, at)
    formulas = [t for row in d["jacobian"]["symbolic_full"] or d["jacobian"]["symbolic"]
                for t in row] + [t for row in d["hessian"]["symbolic"] for t in row]
    assert not any(LEAKS.search(t) for t in formulas), formulas
    assert d["check"]["agree"] is True, d["check"]
    return d


# --- the examples: each failed before the reals ---------------------------------

@pytest.mark.parametrize("program, f, at", [
    ("abs(relu(x))", lambda x: torch.abs(torch.relu(x)), -1.0),
    ("abs(asin(x))", lambda x: torch.abs(torch.asin(x)), 0.0),
    ("abs(log(x))", lambda x: torch.abs(torch.log(x)), 1.0),
])
def test_abs_of_a_kinked_or_zero_inner_is_exactly_zero(cli_json, program, f, at):
    """Was exact nan (re(u)*sign(u)/u at u = 0) and a disagreement; torch gives 0."""
    d = cli_json("jacobian", program, "--at", f"x={at}")
    assert d["jacobian"]["exact"] == [["0"]]
    x = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    f(x).backward()
    assert x.grad.item() == 0.0
    assert d["check"]["agree"] is True
    assert not LEAKS.search(d["jacobian"]["symbolic"][0][0])


@pytest.mark.parametrize("program, f, at, want", [
    ("abs(x**(1/3))", lambda x: torch.abs(x ** (1 / 3)), 1.0, sp.Rational(-2, 9)),
    ("abs(log(x))", lambda x: torch.abs(torch.log(x)), 2.0, sp.Rational(-1, 4)),
    ("abs(sqrt(x))", lambda x: torch.abs(torch.sqrt(x)), 4.0, sp.Rational(-1, 32)),
])
def test_hessians_at_smooth_points_are_real_and_exact(cli_json, program, f, at, want):
    """Was not_real(...atan2(0, x)...): the complex-variable rule of Abs."""
    d = assert_matches_torch(cli_json, program, f, at)
    assert d["hessian"]["exact"] == [[str(want)]]
    assert "sign(" in d["hessian"]["symbolic"][0][0]


# --- formulas as a person writes them ----------------------------------------------------

@pytest.mark.parametrize("program, J, H", [
    ("abs(x)", "sign(x)", "0"),
    ("relu(x)", "heaviside(x, 0)", "0"),
    ("maximum(x, 2)", "heaviside(x - 2, 1/2)", "0"),
    ("minimum(x, 2)", "heaviside(2 - x, 1/2)", "0"),
    ("relu(x)**2", "2*heaviside(x, 0)*relu(x)", "2*heaviside(x, 0)"),
    ("norm(x)", "sign(x)", "0"),  # sqrt(x**2): SymPy's Abs(x), brought onto the reals
])
def test_formulas_read_as_written(cli_json, program, J, H):
    d = cli_json("hessian", program, "--at", "x=3")
    assert d["jacobian"]["symbolic"] == [[J]]
    assert d["hessian"]["symbolic"] == [[H]]


def test_maximum_formula_names_both_steps(cli_json):
    d = cli_json("jacobian", "maximum(x, y)", "--at", "x=1,y=2")
    assert d["jacobian"]["symbolic"] == [["heaviside(x - y, 1/2)", "heaviside(-x + y, 1/2)"]]


def test_two_element_amax_differentiates_like_maximum(cli_json):
    d = cli_json("hessian", "amax(x)**2", "--at", "x=[1,2]")
    full = d["jacobian"]["symbolic_full"] or d["jacobian"]["symbolic"]
    assert "heaviside(-x[0] + x[1], 1/2)" in full[0][1], full
    assert "Piecewise" not in str(full)
    assert [[exact(t) for t in row] for row in d["hessian"]["exact"]] == [[0, 0], [0, 2]]


def test_amax_of_three_shares_by_counting_ties(cli_json):
    """d amax(x)/dx[i] = eq(x[i], amax(x)) / (number of tied elements): no Piecewise."""
    d = cli_json("jacobian", "amax(x)", "--at", "x=[1,3,3]")
    full = d["jacobian"]["symbolic_full"] or d["jacobian"]["symbolic"]
    assert full[0][0].startswith("eq(x[0], amax(x[0], x[1], x[2]))/(eq(x[0], "), full
    assert "Piecewise" not in str(full)
    assert d["jacobian"]["exact"] == [["0", "1/2", "1/2"]]
    assert "<mi>eq</mi>" in to_mathml(full[0][0])


def test_printers_show_the_real_functions(cli, cli_json):
    latex = cli("jacobian", "abs(x)*relu(y)", "--at", "x=1,y=2", "--format", "latex").out
    assert r"\left|{x}\right|" in latex and r"\operatorname{sign}" in latex
    assert r"\operatorname{heaviside}" in latex and "Heaviside" not in latex
    assert "<mo>|</mo>" in to_mathml("abs(x)*sign(y)")
    assert "<mi>heaviside</mi>" in to_mathml("heaviside(x - y, 1/2)")
    table = cli("jacobian", "abs(x)", "--at", "x=1").out
    assert "sign(x)" in table and "Abs" not in table
    d = cli_json("jacobian", "abs(x)*relu(y)", "--at", "x=1,y=2")
    assert d["jacobian"]["symbolic"] == [["relu(y)*sign(x)", "abs(x)*heaviside(y, 0)"]]


# --- conventions at kinks, each checked against real torch -------------------------------

@pytest.mark.parametrize("program, f, at, notice", [
    ("abs(x)", torch.abs, 0.0, "abs at 0"),
    ("relu(x)", torch.relu, 0.0, "relu at 0"),
    ("maximum(x, 0)", lambda x: torch.maximum(x, torch.zeros_like(x)), 0.0, "maximum tie"),
    ("minimum(x, 0)", lambda x: torch.minimum(x, torch.zeros_like(x)), 0.0, "minimum tie"),
    ("amax(x)", torch.amax, [1.0, 3.0, 3.0, 3.0], "amax tie: 3 elements"),
    ("amin(x)", torch.amin, [1.0, 1.0, 3.0], "amin tie: 2 elements"),
    ("x.max()", lambda x: x.max(), [2.0, 2.0], "amax tie: 2 elements"),
    ("maximum(x[0], x[1])", lambda x: torch.maximum(x[0], x[1]), [2.0, 2.0], "maximum tie"),
])
def test_kinks_take_torch_convention_and_say_so(cli_json, program, f, at, notice):
    d = assert_matches_torch(cli_json, program, f, at)
    assert any(notice in n for n in d["notices"]), d["notices"]


# --- the sweep: each piecewise function between smooth ones, at kinks and smooth points ---

INNER = [  # (jacli text, torch, a point where it is 0, a point where it is not)
    ("sin(x)", torch.sin, 0.0, 1.0),
    ("x**3 - x", lambda x: x ** 3 - x, 1.0, 0.5),
    ("log(x)", torch.log, 1.0, 2.0),
    ("asin(x)", torch.asin, 0.0, 0.5),
    ("tanh(x)", torch.tanh, 0.0, -1.0),
    ("exp(x) - 1", lambda x: torch.exp(x) - 1, 0.0, -0.5),
    ("sqrt(x) - 2", lambda x: torch.sqrt(x) - 2, 4.0, 9.0),
    ("x**(1/3) - 2", lambda x: x ** (1 / 3) - 2, 8.0, 1.0),
]
PIECEWISE = [
    ("abs({})", torch.abs),
    ("relu({})", torch.relu),
    ("maximum({}, 0)", lambda t: torch.maximum(t, torch.zeros_like(t))),
    ("minimum({}, 0)", lambda t: torch.minimum(t, torch.zeros_like(t))),
]
OUTER = [
    ("{}", lambda t: t),
    ("sin({})", torch.sin),
    ("({})**2", lambda t: t ** 2),
    ("exp({})", torch.exp),
]


def _sweep():
    for i, (g, tg, kink, smooth) in enumerate(INNER):
        for k, (p, tp) in enumerate(PIECEWISE):
            o, to = OUTER[(i + k) % len(OUTER)]
            program = o.format(p.format(g))

            def f(x, tg=tg, tp=tp, to=to):
                return to(tp(tg(x)))

            for at, where in ((kink, "kink"), (smooth, "smooth")):
                yield pytest.param(program, f, at, id=f"{program} at {where} x={at}")


@pytest.mark.parametrize("program, f, at", list(_sweep()))
def test_sweep_scalar(cli_json, program, f, at):
    assert_matches_torch(cli_json, program, f, at)


REDUCTIONS = [
    ("amax({})", torch.amax),
    ("amin({})", torch.amin),
    ("amax({}, dim=0).sum()", lambda t: torch.amax(t, dim=0).sum()),
    ("{}.max()", lambda t: t.max()),
]
VECTOR_POINTS = [
    [0.5, 0.5, -1.0],  # a two-way tie
    [0.5, 0.5, 0.5],   # a three-way tie
    [0.25, 1.0, -0.5],  # no tie
]


@pytest.mark.parametrize("reduce, treduce", REDUCTIONS)
@pytest.mark.parametrize("inner, tinner", [("sin(x)", torch.sin),
                                           ("x**2 - x", lambda x: x ** 2 - x)])
@pytest.mark.parametrize("at", VECTOR_POINTS, ids=["tie2", "tie3", "distinct"])
def test_sweep_reductions(cli_json, reduce, treduce, inner, tinner, at):
    program = "sin(" + reduce.format(f"({inner})") + ")"
    assert_matches_torch(cli_json, program, lambda x: torch.sin(treduce(tinner(x))), at)


# --- exact values: never a guessed sign --------------------------------------------------

def test_an_undecidable_sign_is_left_exact_not_guessed():
    """cos(1)**2 + sin(1)**2 - 1 is 0, but evalf sees -0.e-165 and SymPy's sign says -1."""
    from jacli.backends import piecewise as pw
    from jacli.backends.symbolic import classify

    zero = sp.cos(1) ** 2 + sp.sin(1) ** 2 - 1
    assert float(sp.sign(zero).evalf(30)) == -1.0  # the trap
    for f in (pw.sign(zero), pw.heaviside(zero, 0), pw.maximum(zero, 0), pw.abs(zero)):
        assert classify(f) == (None, "symbolic"), f
    assert classify(pw.abs(sp.sqrt(2) - 2)) == (pytest.approx(2 - 2 ** 0.5), "real")


def test_sympy_complex_functions_are_brought_onto_the_reals():
    from jacli.backends import piecewise as pw

    x = sp.Symbol("x", real=True)
    e = pw.on_reals(sp.sqrt(x ** 2) + sp.sign(x) + sp.Heaviside(x))
    assert str(e) == "abs(x) + heaviside(x, 1/2) + sign(x)"
    assert e.diff(x) == pw.sign(x)
    for at in (-2, 0, 3):
        original = sp.sqrt(x ** 2) + sp.sign(x) + sp.Heaviside(x)
        assert e.xreplace({x: at}) == original.xreplace({x: at})
