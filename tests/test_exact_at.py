"""``backends.exact_at``: a formula's exact value at a point of rationals, without SymPy's
constructors, must be the very expression ``xreplace`` gives (equal, same type, same string),
or ``None`` (SymPy then substitutes)."""

from __future__ import annotations

import random

import pytest
import sympy as sp

from jacli.backends import exact_at
from jacli.backends.exact_at import FUNCTIONS, compiled, point_of, rationals, value

X = sp.symbols("x1 x2 x3", real=True)


def _rational(rng: random.Random) -> sp.Rational:
    kind = rng.random()
    if kind < 0.15:
        return sp.S.Zero
    if kind < 0.3:
        return sp.Integer(rng.choice([1, -1, 2, -2]))
    if kind < 0.45:
        return sp.Rational(rng.randint(-10**12, 10**12), rng.randint(1, 10**9))
    return sp.Rational(rng.randint(-50, 50), rng.choice([1, 2, 3, 4, 8, 10, 100, 1000]))


def _polynomial(rng: random.Random, depth: int = 0):
    """A random sum of products of powers (negative powers too: a rational function)."""
    if depth > 2 or rng.random() < 0.3:
        return rng.choice([*X, _rational(rng)])
    if rng.random() < 0.2:
        return _polynomial(rng, depth + 1) ** rng.choice([2, 3, -1, -2, 5])
    parts = [_polynomial(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    return sp.Add(*parts) if rng.random() < 0.5 else sp.Mul(*parts)


def _same_as_sympy(e, point: dict) -> bool:
    """Whether ``value`` gives ``xreplace``'s answer, or None; True when it gave one."""
    expected = e.xreplace(point)
    got = value(e, rationals(point), {})
    if got is None:
        return False
    assert got == expected and type(got) is type(expected), (e, point, got, expected)
    assert str(got) == str(expected), (e, point)
    assert _fields(got) == _fields(expected), (e, point)
    return True


def _fields(e) -> list:
    """Every node's class, arguments' count and instance fields (``nargs``, commutativity)."""
    out = []
    for node in sp.preorder_traversal(e):
        out.append((type(node), len(node.args), getattr(node, "nargs", None),
                    node.is_commutative, {k: v for k, v in vars(node).items()
                                          if k not in ("_mhash",)} if hasattr(node, "__dict__")
                    else None))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_polynomials_and_rational_functions_are_xreplaces_values(seed):
    rng = random.Random(seed)
    computed = 0
    for _ in range(300):
        e = _polynomial(rng)
        point = {x: _rational(rng) for x in X}
        if e.is_Number:
            continue
        if _same_as_sympy(e, point):
            computed += 1
        else:  # only a pole may be left to SymPy among these
            assert e.xreplace(point).has(sp.zoo, sp.nan), (e, point)
    assert computed > 150


@pytest.mark.parametrize("f", sorted(FUNCTIONS, key=lambda f: f.__name__))
def test_a_function_times_a_coefficient_is_built_as_sympy_evaluates_it(f):
    """c*f(a): at a = 0, ±1, negative and positive arguments, c = 0, ±1 and fractions; an
    odd function's sign and an even one's are SymPy's, as is exp(1) (left to SymPy: E)."""
    rng = random.Random(f.__name__)
    x1, x2, x3 = X
    forms = [f(x1), x2 * f(x1), x2 * x3 * f(x1 ** 2 - x3), -f(x1) / 4, f(x1 * x2) * x3 ** -1,
             sp.Rational(3, 7) * f(-x1)]
    computed = 0
    for _ in range(120):
        point = {x: _rational(rng) for x in X}
        for e in forms:
            if _same_as_sympy(e, point):
                computed += 1
            else:  # left to SymPy: a pole, or exp at 1
                answer = e.xreplace(point)
                assert answer.has(sp.zoo, sp.nan, sp.E), (e, point, answer)
    assert computed > 400


@pytest.mark.parametrize("e", [sp.sqrt(X[0]), sp.sin(X[0]) ** 2, sp.sin(X[0]) * sp.cos(X[1]),
                               X[0] ** sp.Rational(1, 3), sp.pi * X[0], sp.log(X[0]),
                               sp.Abs(X[0]), sp.atan(X[0]), X[0] ** 65, sp.sin(X[0]) + X[1],
                               sp.Max(X[0], X[1])])
def test_anything_else_is_left_to_sympy(e):
    assert compiled(e) is None


def test_a_point_it_cannot_read_is_left_to_sympy():
    x1, x2, x3 = X
    assert rationals({x1: sp.Rational(1, 2), x2: sp.sqrt(2)}) is None
    at = rationals({x1: sp.Rational(1, 2)})
    assert value(x1 * x2, at) is None  # x2 is not in the point
    assert value(1 / x1, rationals({x1: sp.S.Zero})) is None  # a pole: SymPy says zoo
    assert value(sp.exp(x1), rationals({x1: sp.S.One})) is None  # SymPy says E
    assert value(sp.exp(x1), rationals({x1: sp.S.Zero})) == 1


def test_a_symbol_equal_to_the_points_but_another_object_finds_its_value():
    """The point is read by each symbol's identity first, then by SymPy's equality: a
    formula holding an equal symbol that is another object (SymPy's cache cleared between
    the two) still finds its value, and a symbol not in the point none."""
    from sympy.core.cache import clear_cache

    first = sp.Symbol("q_exact_at")
    clear_cache()
    second = sp.Symbol("q_exact_at")
    assert first == second and first is not second
    at = rationals({first: sp.Rational(1, 2)})
    for e in (second ** 3 + second, first ** 3 + first):
        assert value(e, at, {}) == sp.Rational(5, 8)
    assert value(sp.Symbol("r_exact_at") * first, at, {}) is None


def test_a_formula_is_compiled_once_per_cache(monkeypatch):
    calls = []
    real = exact_at.compiled
    monkeypatch.setattr(exact_at, "compiled", lambda e: calls.append(e) or real(e))
    cache: dict = {}
    e = X[0] ** 2 * X[1]
    for k in range(5):
        assert value(e, point_of([(X[0], (k, 1)), (X[1], (3, 1))]), cache) == 3 * k * k
    assert calls == [e]


def test_a_cache_entry_under_a_formulas_id_is_its_own_or_ignored():
    """The cache holds each formula beside its evaluator, under its ``id``: an entry left
    under that id by another formula (whose object is gone, its id reused) is not used."""
    e, other = X[0] ** 2 * X[1], X[0] + X[1]
    at = point_of([(X[0], (2, 1)), (X[1], (3, 1))])
    cache = {id(e): (other, exact_at.compiled(other))}
    assert value(e, at, cache) == 12 and cache[id(e)][0] is e
    assert value(other, at, cache) == 5


PROGRAMS = [("x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", "1.234,-0.567,2.5"),
            ("sin(x1)*x2, x1**2", "0.761,-1.25"), ("sum(x**3) + prod(x)", "x=[0.5,-1.5,2]"),
            # sums of functions, exp(1): every value left to SymPy
            ("cos(x)*exp(y) - tanh(x*y)", "x=0.3,y=-0.7"), ("x/(1+x**2) + sinh(-x)", "x=0"),
            ("exp(x)*x", "x=1")]
FAST = 3  # the first three programs have values exact_at computes


def _vjp_options(expr: str) -> dict:
    return {"v": ",".join(["1"] * (expr.count(",") + 1))}


CASES = [(e, at, "jacobian", {}) for e, at in PROGRAMS] + \
    [(e, at, "vjp", _vjp_options(e)) for e, at in PROGRAMS] + \
    [(e, at, "hessian", {}) for e, at in PROGRAMS if "," not in e]  # (of a scalar function)


@pytest.mark.parametrize("expr,at,command,options", CASES)
def test_results_are_the_same_with_and_without_it(expr, at, command, options, monkeypatch):
    """The whole answer — exact values, texts, the check — is what SymPy's substitution
    gives, at points no request has used."""
    import jacli

    answered = []
    real = exact_at.value
    monkeypatch.setattr(exact_at, "value",
                        lambda *a, **k: answered.append(real(*a, **k)) or answered[-1])
    fast = getattr(jacli, command)(expr, at=at, **options).to_dict()
    assert any(x is not None for x in answered) == ((expr, at) in PROGRAMS[:FAST])
    monkeypatch.setattr(exact_at, "value", lambda *a, **k: None)
    sympys = getattr(jacli, command)(expr, at=at, **options).to_dict()
    assert fast == sympys


def test_a_formula_deeper_than_the_stack_is_left_to_sympy():
    """Compiling and evaluating take about two frames a level: past the recursion limit,
    ``None`` (SymPy substitutes), never a RecursionError (found by a review)."""
    import sys

    x = X[0]
    e = x
    for _ in range(400):
        e = x * (1 + e)
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(600)
        assert value(e, point_of([(x, (1, 1))]), {}) is None
        sys.setrecursionlimit(8000)  # (as jacli's compute sets it)
        assert value(e, point_of([(x, (1, 1))]), {}) == 401  # with room, computed
    finally:
        sys.setrecursionlimit(old)
