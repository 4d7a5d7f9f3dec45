"""Properties of random well-formed functions, three derivations against each other.

Random expression trees over three variables — ``a`` (a scalar), ``x`` (shape (2,)) and ``W``
(shape (2, 2)) — built from the function table's elementwise rows, ``+ - * / **``, the
reductions ``sum mean prod norm``, ``dot``, ``@``, ``.T``, ``maximum``/``minimum`` and
indexing, with an output that is a scalar, a vector or a matrix. Points are random exact
decimals in [-1.5, 1.5]. Every argument that could leave a function's domain or reach a kink
is first squashed into a safe interval, ``lo + (hi - lo)*sigmoid(e)``, with (lo, hi) the row's
``Row.domain`` (``log``, ``sqrt``, ``acosh``, ...), a positive interval for divisors, bases of
real powers and ``norm``, an interval excluding 0 for ``abs``/``relu``, and disjoint intervals
for the two sides of ``maximum``/``minimum``. So every point is smooth and interior.

For each case, with J the Jacobian at the point:

* autograd vs exact: ``|J_autograd - J_exact| <= 1e-9*|J_exact| + 1e-12`` per entry, with
  ``J_exact`` (``Result.jacobian.exact``) evaluated by SymPy to 30 digits;
* finite differences vs exact: central differences computed here with torch float64 on an
  independent evaluation of the expression (``torch.*`` directly, not jacli's table), step
  h = 1e-6: ``|J_fd - J_exact| <= 1e-5*|J_exact| + 1e-6``;
* vjp: ``y.backward(v)`` (``Result.vjp.numeric``) equals ``vᵀ·J_autograd`` to rounding,
  ``|vjp_j - Σ_i v_i J_ij| <= 1e-12 * Σ_i |v_i J_ij| + 1e-300``, and ``Result.vjp.exact``
  equals ``vᵀ·J_exact`` to 1e-20 relative (both are exact).

If SymPy runs out of its 10 s budget (possible on a loaded machine: ``Max`` compares its
arguments symbolically), jacli skips the exact side with a notice; only then is autograd held
to the finite differences alone. ~200 cases, derandomized (the same cases every run);
``JACLI_PROPERTY_EXAMPLES=n`` runs more.
"""

from __future__ import annotations

import functools
import math
import sys
from fractions import Fraction

import pytest
import sympy as sp
import torch
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from jacli import Problem, compute
from jacli.backends.functions import ROWS
from jacli.backends.object_arrays import detach, relu
from jacli.result import Result

EXAMPLES = int(__import__("os").environ.get("JACLI_PROPERTY_EXAMPLES", "200"))
AUTOGRAD_RTOL, AUTOGRAD_ATOL = 1e-9, 1e-12
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-6
VJP_RTOL = 1e-12

SHAPES = {"a": (), "x": (2,), "W": (2, 2)}
DEFAULT_DOMAIN = (-2.0, 2.0)
# elementwise rows whose values grow fast: their argument is squashed into Row.domain too
GROWING = {"exp", "sinh", "cosh", "square", "softplus", "tan", "expm1", "exp2"}
KINKED = {"abs", "relu"}
SKIP = {"detach"}  # derivative 0 by convention: finite differences see the value's slope
UNARY = [r for r in ROWS if r.kind == "elementwise" and r.tensors == (1, 1) and r.name not in SKIP]

# Independent torch meanings, looked up by name (not through jacli's table).
TORCH_NS = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "tanh": torch.tanh, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
    "exp": torch.exp, "log": torch.log, "log2": torch.log2, "log10": torch.log10,
    "sqrt": torch.sqrt, "abs": torch.abs, "square": torch.square, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "softplus": torch.nn.functional.softplus, "pow": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "dot": torch.dot,
    "norm": lambda t: torch.linalg.vector_norm(t), "sum": torch.sum, "mean": torch.mean,
    "prod": torch.prod, "pi": math.pi,
    # smooth rows of the wider vocabulary
    "expm1": torch.expm1, "exp2": torch.exp2, "erf": torch.erf, "erfc": torch.erfc,
    "silu": torch.nn.functional.silu, "mish": torch.nn.functional.mish,
    "gelu": torch.nn.functional.gelu, "logsigmoid": torch.nn.functional.logsigmoid,
    "tanhshrink": torch.nn.functional.tanhshrink,
}
# the rows drawn are those with an independent meaning above: kinked and domain-limited new
# rows (floor, hardtanh, log1p, ...) are walked by tests/test_function_table.py instead
UNARY = [r for r in UNARY if r.name in TORCH_NS]


def _f(x: float) -> str:
    return repr(float(x))


def squash(e: str, lo: float, hi: float) -> str:
    return f"({_f(lo)} + {_f(hi - lo)}*sigmoid({e}))"


@st.composite
def expr(draw, shape: tuple, depth: int) -> str:
    """A well-formed expression of ``shape``, at most ``depth`` levels deep."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaf(shape))
    choice = draw(st.integers(0, 9))
    sub = lambda s=shape: expr(s, depth - 1)  # noqa: E731
    if choice <= 2:  # elementwise function
        row = draw(st.sampled_from(UNARY))
        arg = draw(sub())
        if row.name in KINKED:
            lo, hi = draw(st.sampled_from([(0.5, 2.0), (-2.0, -0.5)]))
            arg = squash(arg, lo, hi)
        elif row.domain != DEFAULT_DOMAIN or row.name in GROWING:
            arg = squash(arg, *row.domain)
        return f"{row.name}({arg})"
    if choice <= 4:  # + - * with broadcasting of a scalar
        op = draw(st.sampled_from(["+", "-", "*"]))
        left = draw(sub(draw(st.sampled_from([shape, ()]))))
        right = draw(sub())
        return f"({left} {op} {right})" if draw(st.booleans()) else f"({right} {op} {left})"
    if choice == 5:  # division by something safely positive
        return f"({draw(sub())} / {squash(draw(sub()), 0.5, 2.0)})"
    if choice == 6:  # powers: integer exponent, or a real one of a positive base
        base = draw(sub())
        if draw(st.booleans()):
            return f"({base})**{draw(st.sampled_from([2, 3]))}"
        return f"pow({squash(base, 0.5, 2.0)}, {squash(draw(sub()), -1.0, 1.5)})"
    if choice == 7:  # maximum / minimum of two sides that never tie (shallow: SymPy's Max
        fn = draw(st.sampled_from(["maximum", "minimum"]))  # compares its arguments, slowly)
        shallow = lambda: expr(shape, min(depth - 1, 1))  # noqa: E731
        low, high = squash(draw(shallow()), -1.0, 0.0), squash(draw(shallow()), 0.5, 1.5)
        return f"{fn}({low}, {high})" if draw(st.booleans()) else f"{fn}({high}, {low})"
    return draw(structural(shape, depth))


@st.composite
def structural(draw, shape: tuple, depth: int) -> str:
    """Shape-changing forms: reductions, indexing, products, transposes."""
    sub = lambda s: expr(s, depth - 1)  # noqa: E731
    if shape == ():
        form = draw(st.sampled_from(["sum", "mean", "prod", "norm", "dot", "index", "index2"]))
        if form == "dot":
            return f"dot({draw(sub((2,)))}, {draw(sub((2,)))})"
        if form == "index":
            return f"({draw(sub((2,)))})[{draw(st.sampled_from([0, 1, -1]))}]"
        if form == "index2":
            return f"({draw(sub((2, 2)))})[{draw(st.integers(0, 1))}, {draw(st.integers(0, 1))}]"
        inner = draw(sub(draw(st.sampled_from([(2,), (2, 2)]))))
        if form == "norm":
            return f"norm({squash(inner, 0.5, 2.0)})"
        return f"({inner}).{form}()" if draw(st.booleans()) else f"{form}({inner})"
    if shape == (2,):
        form = draw(st.sampled_from(["matvec", "row", "col", "sumdim"]))
        if form == "matvec":
            return f"({draw(sub((2, 2)))} @ {draw(sub((2,)))})"
        if form == "row":
            return f"({draw(sub((2, 2)))})[{draw(st.integers(0, 1))}]"
        if form == "col":
            return f"({draw(sub((2, 2)))})[:, {draw(st.integers(0, 1))}]"
        return f"({draw(sub((2, 2)))}).sum(dim={draw(st.integers(0, 1))})"
    form = draw(st.sampled_from(["matmul", "T", "outer"]))
    if form == "matmul":
        return f"({draw(sub((2, 2)))} @ {draw(sub((2, 2)))})"
    if form == "T":
        return f"({draw(sub((2, 2)))}).T"
    return f"({draw(sub((2, 2)))} * {draw(sub((2,)))})"  # broadcasting a row


@st.composite
def leaf(draw, shape: tuple) -> str:
    options = {(): ["a", "a", "x[0]", "W[1,0]", "0.5", "2", "pi"],
               (2,): ["x", "x", "W[0]", "W[:,1]"],
               (2, 2): ["W", "W", "W.T"]}[shape]
    return draw(st.sampled_from(options))


decimals = st.integers(-1500, 1500).map(lambda n: Fraction(n, 1000))
v_decimals = st.integers(-2000, 2000).map(lambda n: Fraction(n, 1000))


def text(value) -> str:
    if isinstance(value, list):
        return "[" + ",".join(text(v) for v in value) + "]"
    return str(value.numerator) if value.denominator == 1 else f"{float(value)!r}"


def nested(flat: list, shape: tuple):
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    return [nested(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


@st.composite
def cases(draw):
    out_shape = draw(st.sampled_from([(), (2,), (2, 2)]))
    source = draw(expr(out_shape, depth=3))
    names = [n for n in ("a", "x", "W") if _mentions(source, n)]
    if not names:  # a constant expression: give it a variable
        source, names = f"({source}) + a", ["a"]
    point = {n: draw(st.lists(decimals, min_size=math.prod(SHAPES[n]),
                              max_size=math.prod(SHAPES[n]))) for n in names}
    n_out = math.prod(out_shape)
    v = draw(st.lists(v_decimals, min_size=n_out, max_size=n_out))
    return source, out_shape, names, point, v


def _mentions(source: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![A-Za-z0-9_.]){name}(?![A-Za-z0-9_])", source) is not None


def _tensor_args(fn):
    def call(*args):
        return fn(*[torch.as_tensor(a, dtype=torch.float64) for a in args])

    return call


TORCH_CALLS = {k: (_tensor_args(f) if callable(f) else f) for k, f in TORCH_NS.items()}


def torch_eval(source: str, values: dict[str, torch.Tensor]) -> torch.Tensor:
    """The test's own evaluation of a generated expression (our text, not user input)."""
    return eval(source, {"__builtins__": {}}, {**TORCH_CALLS, **values})  # noqa: S307


@functools.lru_cache(maxsize=4096)
def _exact_mpf(text: str):
    """An exact value printed by jacli, evaluated to 40 digits (jacli's own output, no user
    text: sympify's eval is harmless here)."""
    number = sp.N(sp.sympify(text, locals={"relu": relu, "detach": detach}), 40)
    assert number.is_real and number.is_finite, (text, number)
    return number


def exact_float(text: str) -> float:
    return float(_exact_mpf(text))


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_autograd_exact_and_finite_differences_agree(case):
    source, out_shape, names, point, v = case
    at = tuple(f"{n}={text(nested(point[n], SHAPES[n]))}" for n in names)
    v_text = text(nested(v, out_shape)) if out_shape else text(v[0])
    note(f"jacli vjp {source!r} " + " ".join(f"--at {a!r}" for a in at) + f" --v {v_text!r}")
    r = compute(Problem(source=source, command="vjp", at=at, v=v_text))
    assert isinstance(r, Result)
    assert tuple(r.output_shape) == out_shape
    assert sorted(v.name for v in r.variables) == sorted(names)
    names = [v.name for v in r.variables]  # jacli's column order (natural order: W before a)
    m = math.prod(out_shape)
    n = sum(math.prod(SHAPES[k]) for k in names)
    J_num = r.jacobian.numeric
    assert len(J_num) == m and all(len(row) == n for row in J_num)
    if r.jacobian.exact is None:
        # Only a SymPy time-out may skip the exact side (on a loaded machine); autograd is then
        # held to the finite differences instead. Anything else is a failure.
        assert any("ran out of time" in notice for notice in r.notices), r.notices
        event("symbolic side timed out: autograd checked against finite differences only")
        J_exact = J_num
    else:
        J_exact = [[exact_float(e) for e in row] for row in r.jacobian.exact]
        assert len(J_exact) == m

    # 1. autograd against the exact values
    for i in range(m):
        for j in range(n):
            e, g = J_exact[i][j], J_num[i][j]
            assert abs(g - e) <= AUTOGRAD_ATOL + AUTOGRAD_RTOL * abs(e), \
                (f"autograd d{r.outputs[i]}/d{r.inputs[j]}", g, e)

    # 2. central finite differences (float64, independent evaluation) against the exact values
    base = {k: torch.tensor([float(q) for q in point[k]], dtype=torch.float64) for k in names}

    def f(flat_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        vals = {k: t.reshape(SHAPES[k]) for k, t in flat_inputs.items()}
        return torch.as_tensor(torch_eval(source, vals), dtype=torch.float64).reshape(-1)

    y0 = f(base)
    assert torch.allclose(y0, torch.tensor(r.value_numeric, dtype=torch.float64),
                          rtol=1e-12, atol=1e-14), "jacli's value differs from torch's own"
    col = 0
    for k in names:
        for idx in range(base[k].numel()):
            plus = {kk: t.clone() for kk, t in base.items()}
            minus = {kk: t.clone() for kk, t in base.items()}
            plus[k][idx] += FD_STEP
            minus[k][idx] -= FD_STEP
            fd = ((f(plus) - f(minus)) / (2 * FD_STEP)).tolist()
            for i in range(m):
                e = J_exact[i][col]
                assert abs(fd[i] - e) <= FD_ATOL + FD_RTOL * abs(e), \
                    (f"finite difference d{r.outputs[i]}/d{r.inputs[col]}", fd[i], e)
            col += 1

    # 3. vjp(v) is vᵀJ: numerically to rounding, exactly for the exact values
    vf = [float(q) for q in v]
    assert r.vjp is not None and len(r.vjp.numeric) == n
    for j in range(n):
        terms = [vf[i] * J_num[i][j] for i in range(m)]
        want = math.fsum(terms)
        # J and vᵀJ come from different AD passes (batched rows, or forward mode, for J; one
        # weighted backward for vᵀJ): an entry like cos(W) - 1 cancels O(1) terms, so each
        # pass may round it by O(eps) on its own; weighted by v, that is the second term
        bound = VJP_RTOL * math.fsum(abs(t) for t in terms) + \
            8 * sys.float_info.epsilon * math.fsum(abs(x) for x in vf) + 1e-300
        assert abs(r.vjp.numeric[j] - want) <= bound, ("vjp", j, r.vjp.numeric[j], want)
        if r.vjp.exact is None:
            continue
        exact_terms = sum(sp.Rational(v[i].numerator, v[i].denominator) *
                          _exact_mpf(r.jacobian.exact[i][j]) for i in range(m))
        got = _exact_mpf(r.vjp.exact[j])
        assert abs(got - exact_terms) <= 1e-20 * (1 + abs(exact_terms)), ("vjp exact", j)


@pytest.mark.parametrize("source, at", [
    ("sum(x * W @ x)", ("x=[0.5,-1]", "W=[[1,2],[3,4]]")),
    ("log(0.1 + 2.9*sigmoid(a)) * x", ("a=0.3", "x=[1,2]")),
])
def test_generated_forms_compute(source, at):
    """The forms the generator emits are in the language (guards the generator itself)."""
    r = compute(Problem(source=source, at=at))
    assert r.check.agree is True
