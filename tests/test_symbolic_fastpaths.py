"""The symbolic side's fast paths give exactly what the plain paths give.

Each fast path (structural zeros skipped by identity, a sum differentiated by its cached
``_eval_derivative``, entries judged as float64 arrays, strings printed on first read) is
checked against the straightforward computation it replaces: same expressions, same
``Check``, same notices, same strings. Speed is measured in ``bench/``, never here.
"""

from __future__ import annotations

import json
import math
import random
import sys

import pytest
import sympy as sp

from jacli import jacobian
from jacli.analysis.compare import TOLERANCES, compare, explain
from jacli.analysis.entries import Entries, Entry
from jacli.backends.object_arrays import detach, relu
from jacli.analysis.pack import later, later2, text, texts
from jacli.result import Texts, strict
from jacli.backends.symbolic import classify, jacobian as sym_jacobian, substitute

x, y, z, w = sp.symbols("x y z w", real=True)

# sums (the fast path) and non-sums over the functions whose derivatives need care
OUTPUTS = [
    x * y + sp.sin(z) + w ** 2,
    sp.Abs(x) + relu(y) + sp.Max(x, z),
    detach(x) * y + sp.exp(x / 4) + sp.Heaviside(z),
    sp.sign(x) * y + sp.sqrt(z) + sp.log(w),
    sp.Min(x, y) * z,
    sp.tanh(x * y),
    x,
    sp.Integer(3),
    x * sp.cos(y) + sp.Rational(1, 3),
]


def test_jacobian_matches_diff_entry_by_entry():
    inputs = [x, y, z, w]
    J = sym_jacobian(OUTPUTS, inputs)
    for f, row in zip(OUTPUTS, J):
        for v, entry in zip(inputs, row):
            assert entry == sp.diff(f, v), (f, v)
            assert str(entry) == str(sp.diff(f, v))


def test_structural_zeros_are_the_zero_singleton():
    J = sym_jacobian([x * y, sp.sin(z)], [x, y, z, w])
    assert J[0][2] is sp.S.Zero and J[0][3] is sp.S.Zero and J[1][0] is sp.S.Zero
    assert J[1][2] == sp.cos(z)


def test_substitute_leaves_numbers_and_evaluates_the_rest():
    point = {x: sp.Rational(1, 2), y: sp.Integer(2)}
    assert substitute([sp.S.Zero, sp.Integer(3), x * y, sp.sin(x)], point) == \
        [0, 3, 1, sp.sin(sp.Rational(1, 2))]


@pytest.mark.parametrize("value", [sp.cos(sp.Rational(19, 10)), sp.exp(sp.Rational(3, 8)) / 4,
                                   sp.pi * 10 ** 400, sp.exp(sp.Integer(10) ** 10),
                                   sp.sqrt(2) + sp.I, sp.Rational(1, 3), sp.log(2) - 1])
def test_classify_fast_paths_match_the_real_imaginary_split(value):
    number = value.evalf(30)
    re, im = number.as_real_imag()
    got, kind = classify(value)
    if im != 0:
        assert (got, kind) == (None, "complex")
    else:
        assert kind == "real" and got == float(re)


# -- compare: arrays against the entry-by-entry loop ----------------------------------------
def reference(entries: list[Entry], dtype: str):
    """The scalar loop compare() replaced: (agree, max diff, compared, worst, bad, notices,
    max ulps)."""
    import numpy as np

    from jacli.analysis.compare import _agree, _num

    rtol, atol = TOLERANCES[dtype]
    worst, worst_diff, compared, bad, notices = None, 0.0, 0, [], []
    for e in entries:
        verdict = _agree(e, rtol, atol)
        if verdict is None:
            notices.append(f"{e.label}: the exact value {e.exact_text} could not be evaluated "
                           "to compare (too slow, or beyond the float range); autograd gives "
                           + _num(e.numeric))
            continue
        compared += 1
        if e.kind == "real" and math.isfinite(e.numeric) and math.isfinite(e.exact):
            diff = abs(e.numeric - e.exact)
            if diff > worst_diff or worst is None:
                worst, worst_diff = e.label, diff
        if not verdict:
            bad.append(e.label)
            notices.append(explain(e))
    # a disagreement with no finite difference makes the maximum NaN (|nan - 1|, or a complex
    # or undefined exact value) or, failing that, +inf: never a finite number that hides it
    unmeasured = [math.nan if e.kind in ("complex", "nan") or e.exact is None
                  else abs(e.numeric - e.exact) for e in entries if e.label in bad
                  and not (e.kind == "real" and math.isfinite(e.numeric)
                           and math.isfinite(e.exact))]
    if unmeasured:
        worst_diff = math.nan if any(map(math.isnan, unmeasured)) else math.inf
    ulps = None
    if dtype == "float32":
        for e in entries:
            if e.kind == "real" and e.exact is not None and math.isfinite(e.exact) \
                    and math.isfinite(e.numeric) and abs(e.exact) < 3e38:
                u = abs(e.numeric - e.exact) / float(np.spacing(np.float32(abs(e.exact))))
                ulps = u if ulps is None else max(ulps, u)
    return (None if compared == 0 else not bad, worst_diff if compared else None, compared,
            bad[0] if bad else worst, bad, notices, ulps)


EXACT = [sp.S.Zero, sp.Integer(2), sp.Rational(1, 3), sp.cos(sp.Rational(1, 2)), sp.nan,
         sp.zoo, sp.oo, -sp.oo, sp.I, sp.Rational(10) ** 400]


def _case(rng: random.Random, n: int):
    exprs = [rng.choice(EXACT) if rng.random() < 0.3 else sp.S.Zero for _ in range(n)]
    numbers = []
    for e in exprs:
        value, _ = classify(e)
        base = value if value is not None and not math.isnan(value) else 0.0
        numbers.append(rng.choice([base, base + rng.choice([1e-13, 1e-6, -3e-10]), math.nan,
                                   math.inf, -math.inf, base * (1 + 1e-10)]))
    return numbers, exprs


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", [6, 40, 64, 66, 300])  # Python floats up to SMALL, then arrays
def test_compare_matches_the_entry_by_entry_loop(seed, dtype, size):
    rng = random.Random(seed)
    numbers, exprs = _case(rng, size)
    k0, w = size - 2 * ((size - 4) // 2), (size - 4) // 2  # values, then two rows of J
    found = Entries()
    found.add(numbers[:k0], exprs[:k0], lambda k: f"y[{k}]", False)
    found.add([numbers[k0:k0 + w], numbers[k0 + w:]], [exprs[k0:k0 + w], exprs[k0 + w:]],
              lambda k: f"dy[{k // w}]/dx{k % w}", True)
    found.finish()
    plain = [Entry(f"y[{k}]", numbers[k], *classify(exprs[k]), exprs[k], False) for k in range(k0)]
    plain += [Entry(f"dy[{k // w}]/dx{k % w}", numbers[k0 + k], *classify(exprs[k0 + k]),
                    exprs[k0 + k], True) for k in range(2 * w)]
    check, notices = compare(found, dtype)
    agree, diff, compared, worst, bad, want_notices, ulps = reference(plain, dtype)
    assert (check.agree, check.compared, check.worst) == (agree, compared, worst)
    assert check.max_abs_diff == diff or (math.isnan(check.max_abs_diff) and math.isnan(diff))
    assert (check.max_abs_diff_reason is None) == (diff is None or math.isfinite(diff))
    assert list(check.disagreements) == bad and notices == want_notices
    assert check.max_ulps == ulps


def test_a_symbolic_timeout_is_a_notice_not_a_disagreement(monkeypatch):
    import jacli.analysis.entries as c

    monkeypatch.setattr(c, "classify", lambda e: (None, "symbolic"))
    found = Entries()
    found.add([1.0, 0.0], [sp.exp(sp.exp(3)), sp.S.Zero], lambda k: f"y[{k}]", False)
    check, notices = compare(found.finish(), "float64")
    assert check.agree is True and check.compared == 1 and check.disagreements == ()
    assert notices and "could not be evaluated to compare" in notices[0]


# -- strings printed on first read ---------------------------------------------------------
def test_texts_print_once_on_first_read_and_equal_the_plain_list():
    calls = []

    def printer(values):
        calls.append(len(values))
        return texts(values)

    row = Texts([sp.S.Zero, x * y, sp.Rational(1, 3)], printer)
    assert len(row) == 3 and calls == []  # the length needs no printing
    assert row == ["0", "x*y", "1/3"] and ["0", "x*y", "1/3"] == row
    assert row[1] == "x*y" and list(row) == ["0", "x*y", "1/3"] and calls == [3]
    assert strict({"J": [row]}) == {"J": [["0", "x*y", "1/3"]]}
    assert json.dumps(strict([row])) == '[["0", "x*y", "1/3"]]'


def test_later_strings_are_the_eager_strings():
    exprs = [sp.S.Zero, sp.sin(x) * y, sp.Integer(10) ** 5000, sp.Rational(3, 7), sp.pi]
    assert later(exprs) == [text(e) for e in exprs]
    assert later2([exprs, exprs[::-1]]) == [[text(e) for e in exprs],
                                            [text(e) for e in exprs[::-1]]]
    assert later(None) is None and later2(None) is None


def test_a_result_reads_and_serialises_like_plain_lists():
    r = jacobian("x1*x2 + sin(x3), x2**2, x1", at="1,2,3")
    assert r.jacobian.symbolic == [["x2", "x1", "cos(x3)"], ["0", "2*x2", "0"], ["1", "0", "0"]]
    assert r.jacobian.exact[1] == ["0", "4", "0"] and r.value_exact == ["sin(3) + 2", "4", "1"]
    d = r.to_dict()
    assert d["jacobian"]["exact"] == [["2", "1", "cos(3)"], ["0", "4", "0"], ["1", "0", "0"]]
    assert type(d["jacobian"]["symbolic"][0]) is list and type(d["value"]["exact"]) is list


def test_rows_printed_after_compute_still_get_its_recursion_limit():
    """compute() raises the recursion limit while it runs; a row printed later (by a renderer)
    raises it the same way for its own printing, and puts it back."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(8000)  # building the tree needs it; printing below runs without
    try:
        deep = x
        for _ in range(400):
            deep = sp.sin(deep)
        sys.setrecursionlimit(1000)
        row = Texts([deep], texts)
        assert row[0] == "sin(" * 400 + "x" + ")" * 400
        assert sys.getrecursionlimit() == 1000
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("size", [4, 200])  # Python floats, then arrays
def test_compare_names_the_first_of_equal_worst_entries(size):
    """Every entry agrees; three share the largest difference: the first of them is named,
    as NumPy's argmax names it, and the difference is that one."""
    exprs = [sp.Integer(2)] * size
    numbers = [2.0] * size
    for k in (1, 2, size - 1):
        numbers[k] = 2.0 + 1e-12
    found = Entries()
    found.add(numbers, exprs, lambda k: f"y[{k}]", False)
    check, notices = compare(found.finish(), "float64")
    assert check.agree is True and notices == []
    assert check.worst == "y[1]" and check.max_abs_diff == abs(numbers[1] - 2.0)
    assert check.compared == size


def _layers(depth: int) -> sp.Expr:
    """An exact value like a small network's at its point: sums of tanh of sums."""
    e = sp.Rational(1, 3)
    for k in range(depth):
        e = sp.tanh(e + sp.Rational(k + 2, 7)) * sp.Rational(-3, k + 5) + sp.tanh(
            sp.Rational(2, k + 3) * e - sp.Rational(1, 9)) + sp.cos(sp.Rational(k, 4))
    return e


def test_a_large_exact_value_prints_as_stored_and_reads_back_equal():
    from sympy.printing.str import StrPrinter

    from jacli.analysis.pack import LARGE, printed

    big, small = _layers(6), sp.sin(1) + 2
    assert sum(1 for _ in sp.preorder_traversal(big)) > LARGE
    assert text(big) == printed(big) == StrPrinter({"order": "none"}).doprint(big)
    assert text(big) != str(big)  # the ordered form differs: the test sees which one it got
    back = sp.sympify(text(big))  # our own output, in a test
    assert abs(sp.N(back - big, 40)) < sp.Float(10) ** -35
    assert text(small) == str(small) == "sin(1) + 2"  # small values keep SymPy's order
    formula = sum(sp.tanh(x * k + y) for k in range(40))
    assert text(formula) == StrPrinter({"order": "none"}).doprint(formula)


AT_RATIONAL = [sp.sin, sp.cos, sp.tan, sp.tanh, sp.sinh, sp.cosh, sp.exp, sp.atan, sp.asinh,
               sp.erf, sp.log, sp.atanh, sp.asin, sp.acos, sp.sqrt, sp.Abs, sp.gamma, relu]


@pytest.mark.parametrize("seed", range(4))
def test_a_function_at_a_rational_prints_and_evaluates_as_sympy_does(seed):
    """``c*f(r)`` (most small requests' exact values): SymPy's own string, and the float
    nearest the value (SymPy at 60 digits, rounded once), where the fast path applies; the
    functions complex somewhere on the reals (atanh, asin) and the rest go the general way."""
    from jacli.backends import at_rational

    rng = random.Random(seed)

    def rational():
        return sp.Rational(rng.randint(-40, 40), rng.choice([1, 2, 3, 4, 7, 8, 10, 100]))

    printed = evaluated = 0
    for _ in range(400):
        c = rng.choice([sp.S.One, sp.S.NegativeOne, rational(), sp.Integer(rng.randint(-5, 5))])
        e = c * rng.choice(AT_RATIONAL)(rational())
        quick = at_rational.text(e)
        if quick is not None:
            printed += 1
            assert quick == str(e) == text(e), e
        number = at_rational.value(e)
        if number is not None:
            evaluated += 1
            assert number == float(sp.N(e, 60)), e
            assert classify(e) == (number, "real")
        elif isinstance(e, (sp.Mul, sp.Function)) and e.free_symbols == set():
            assert repr(classify(e)) == repr(classify_slowly(e)), e
    assert printed > 150 and evaluated > 100  # the fast paths were exercised


def test_c_times_f_r_is_nearest_across_the_float_range():
    """The float of c·f(r) with c from 1e-330 to 1e330: the nearest (subnormals included),
    or ``None`` past the largest float, as SymPy at 60 digits rounded once says."""
    from jacli.backends import at_rational

    rng = random.Random(7)
    for _ in range(300):
        k = rng.randint(-330, 330)
        c = sp.Rational(rng.randint(1, 999), 1) * sp.Rational(10) ** k * rng.choice([1, -1])
        e = c * rng.choice([sp.sin, sp.exp, sp.atan])(sp.Rational(rng.randint(-900, 900), 7))
        number, want = at_rational.value(e), float(sp.N(e, 60))
        assert number == (want if math.isfinite(want) else None), e


def classify_slowly(e):
    """``classify`` by SymPy's evalf alone (the general path)."""
    from jacli.backends import at_rational, symbolic

    saved, at_rational.value = at_rational.value, lambda e: None
    try:
        return symbolic.classify(e)
    finally:
        at_rational.value = saved


def test_vjp_of_a_scalar_output_with_v_one_is_js_row_said_once():
    """``loss.backward()``: vᵀJ is J's one row, the same expressions, substituted and
    printed once; any other v is its own sum. Both are PyTorch's numbers."""
    import torch

    import jacli

    x = torch.tensor([0.5, -1.25], dtype=torch.float64, requires_grad=True)
    (torch.tanh(x) * x).sum().backward()
    r = jacli.vjp("sum(tanh(x)*x)", at="x=[0.5,-1.25]")
    assert r.vjp.exact is r.jacobian.exact[0]
    full = r.jacobian.symbolic_full or r.jacobian.symbolic
    assert list(r.vjp.symbolic) == list(full[0])
    assert r.vjp.numeric == pytest.approx(x.grad.tolist(), rel=1e-15) and r.check.agree
    doubled = jacli.vjp("sum(tanh(x)*x)", at="x=[0.5,-1.25]", v="2")
    assert doubled.vjp.exact is not doubled.jacobian.exact[0]
    assert [sp.sympify(t) for t in doubled.vjp.exact] == [  # our own output, in a test
        2 * sp.sympify(t) for t in r.vjp.exact]
    assert doubled.vjp.numeric == pytest.approx([2 * g for g in x.grad.tolist()], rel=1e-15)


def test_a_rationals_float_is_the_nearest_as_fractions_is():
    """``rational_float`` (int / int) rounds as ``float(Fraction)`` does, ties and all, and a
    rational past the float range is ±inf (what float64 arithmetic gives)."""
    from fractions import Fraction

    from jacli.backends.symbolic import rational_float

    rng = random.Random(7)
    for _ in range(2000):
        p = rng.randrange(-10**rng.randrange(1, 60), 10**rng.randrange(1, 60))
        q = rng.randrange(1, 10**rng.randrange(1, 60))
        assert rational_float(sp.Rational(p, q)) == float(Fraction(p, q))
    assert rational_float(sp.Rational(2**1100 + 1, 3)) == math.inf
    assert rational_float(sp.Rational(-(2**1100), 7)) == -math.inf
    assert rational_float(sp.Rational(1, 2**1100)) == 0.0


def test_sin_and_cos_at_one_argument_share_one_kernel_call_and_its_bits():
    """``at_rational`` computes sin(r) and cos(r) together (``mpf_cos_sin``) and keeps them
    for the next value at r: the floats are those of ``mpf_sin`` and ``mpf_cos`` apiece."""
    from mpmath import libmp

    from jacli.backends import at_rational

    rng = random.Random(3)
    for _ in range(500):
        r = sp.Rational(rng.randint(-10**9, 10**9), rng.randint(1, 10**6))
        c = sp.Rational(rng.randint(-99, 99) or 1, rng.randint(1, 50))
        for f, kernel in ((sp.sin, libmp.mpf_sin), (sp.cos, libmp.mpf_cos)):
            x = kernel(libmp.from_rational(int(r.p), int(r.q), 200, "n"), 200, "n")
            x = libmp.mpf_div(libmp.mpf_mul(x, libmp.from_int(int(c.p)), 200, "n"),
                              libmp.from_int(int(c.q)), 200, "n")
            expected = libmp.to_float(x, rnd="n")
            e = sp.Mul(c, f(r)) if c != 1 else f(r)
            assert at_rational.value(e) == (expected if math.isfinite(expected) else None)
    assert len(at_rational._COS_SIN) <= 8


def test_rows_of_rationals_print_as_each_entry_alone():
    """``texts``' one-loop path for rows of rationals gives ``text`` of each entry; a row with
    anything else (a function value, a symbol, an integer past the printable size, a plain
    Python number) goes the general way, with the same strings."""
    from jacli.analysis.pack import _rational_texts, text, texts

    big = sp.Integer(10) ** 1200
    rows = [[sp.Rational(128, 125), sp.Integer(2), sp.S.Zero, sp.S.Half, sp.S.NegativeOne],
            [sp.Rational(-80509, 62500), sp.Integer(-7), sp.S.One],
            [sp.Rational(3, 7), sp.Rational(513, 1000) * sp.sin(sp.Rational(617, 1000))],
            [big, sp.Integer(1)], [sp.Rational(1, 3), big / 7], [sp.Symbol("x"), sp.Integer(2)],
            [2, sp.Rational(1, 2)], []]
    for row in rows:
        assert texts(row) == [text(e) for e in row], row
    assert _rational_texts(rows[0]) == ["128/125", "2", "0", "1/2", "-1"]
    assert [_rational_texts(r) for r in rows[2:7]] == [None] * 5
