"""A tiny J's structure (up to 9 entries: a batch request's 2×2 or 3×3) is computed in Python
floats (``analysis.tiny``): one-sided Jacobi for the singular values, partial pivoting for
the determinant. NumPy's LAPACK is the oracle: the same rank, singular values within a few
ulps of σ_max; the determinant exact (SymPy's, on the floats' rationals), and NumPy's
to 1e-12 where NumPy's stands above its own rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from jacli.analysis import tiny
from jacli.analysis.structure import EPS, structure

SHAPES = [(1, 1), (1, 3), (3, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 9), (9, 1), (4, 2)]


def _matrices(shape, count=300, seed=0):
    rng = np.random.default_rng(seed)
    for t in range(count):
        A = rng.standard_normal(shape) * 10.0 ** rng.uniform(-8, 8)
        if t % 3 == 0 and min(shape) > 1:  # rank-deficient: a column a multiple of another
            A[:, -1] = A[:, 0] * rng.standard_normal()
        if t % 7 == 0:
            A[rng.integers(shape[0]), :] = 0.0  # a zero row
        yield A


@pytest.mark.parametrize("shape", SHAPES)
def test_singular_values_and_rank_are_numpys(shape):
    for A in _matrices(shape):
        got = tiny.singular_values((A / np.abs(A).max()).tolist()) if A.any() else None
        s, _ = tiny.decompose(A.tolist(), square=False) or (None, None)
        if s is None:  # a range too wide for sums of squares: NumPy's (tested below)
            continue
        want = np.linalg.svd(A, compute_uv=False)
        assert len(s) == len(want)
        assert max(abs(a - b) for a, b in zip(s, want)) <= 8 * EPS * want[0]
        tol = want[0] * max(shape) * EPS
        assert sum(x > tol for x in s) == int((want > tol).sum())
        assert got is None or got == sorted(got, reverse=True)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_square_j_singular_values_are_numpys(n):
    """A square J's singular values (a 2×2's by its closed form, σ₂ = |det|/σ₁) as NumPy's,
    rank included, on random, rank-deficient, zero-row, orthogonal and integer matrices."""
    rng = np.random.default_rng(11)
    theta = rng.uniform(0, 2 * math.pi, 50)
    rotations = [np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
                 for t in theta] if n == 2 else []
    integers = [rng.integers(-3, 4, size=(n, n)).astype(float) for _ in range(200)]
    for A in [*_matrices((n, n), count=600, seed=n + 20), *rotations, *integers]:
        found = tiny.decompose(A.tolist(), square=True)
        if found is None:
            continue
        s, _ = found
        want = np.linalg.svd(A, compute_uv=False)
        assert len(s) == n and s == sorted(s, reverse=True)
        assert max(abs(a - b) for a, b in zip(s, want)) <= 8 * EPS * want[0]
        tol = want[0] * n * EPS
        assert sum(x > tol for x in s) == int((want > tol).sum())


def test_a_2x2s_small_singular_value_has_high_relative_accuracy():
    """σ₂ of a nearly singular 2×2 to a few ulps of itself, not of σ₁: against the float
    matrix's singular values at 50 digits (mpmath's SVD); σ₁ − σ₂ from the closed form's two
    lengths would keep only σ₁'s ulps."""
    import mpmath

    rng = np.random.default_rng(5)
    with mpmath.workdps(50):
        for k in range(300):
            A = rng.standard_normal((2, 2))
            near = rng.standard_normal(2) * 10.0 ** -rng.uniform(3, 12)
            A[1] = A[0] * rng.standard_normal() + near  # nearly singular
            want = sorted((float(x) for x in mpmath.svd_r(mpmath.matrix(A.tolist()),
                                                           compute_uv=False)), reverse=True)
            s, _ = tiny.decompose(A.tolist(), square=True)
            assert all(abs(a - b) <= 8 * EPS * b for a, b in zip(s, want)), (A, s, want)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_determinant_is_exact_and_numpys_where_numpy_is_above_its_rounding(n):
    """The determinant is the exact one of the floats (SymPy's, on their rationals), rounded
    once; where |det| stands above LU's rounding noise, NumPy's to 1e-12."""
    for A in _matrices((n, n), count=150, seed=n):
        sign, logdet = tiny.slogdet(A.tolist())
        exact = sp.Matrix([[sp.Rational(x) for x in row] for row in A.tolist()]).det()
        if exact == 0:
            assert (sign, logdet) == (0.0, -math.inf)
            continue
        assert sign == (1.0 if exact > 0 else -1.0)
        assert logdet == pytest.approx(float(sp.log(abs(exact)).evalf(30)), rel=1e-14, abs=1e-13)
        want_sign, want_log = np.linalg.slogdet(A)
        noise = math.log(64 * EPS) + n * math.log(np.linalg.svd(A, compute_uv=False)[0])
        if want_log > noise:
            assert sign == want_sign and logdet == pytest.approx(want_log, rel=1e-12, abs=1e-12)


def test_singular_integer_matrices_converge_and_have_determinant_zero(monkeypatch):
    sweeps = []
    real = tiny._sweep
    monkeypatch.setattr(tiny, "_sweep", lambda *a: sweeps.append(1) or real(*a))
    monkeypatch.setattr(tiny, "_jacobi3", tiny._jacobi)  # the general sweeps, counted
    rng = np.random.default_rng(3)
    for _ in range(300):
        A = rng.integers(-3, 4, size=(3, 3)).astype(float)
        A[2] = A[0] * rng.integers(-2, 3) + A[1] * rng.integers(-2, 3)  # exactly singular
        sweeps.clear()
        s, (sign, _) = tiny.decompose(A.tolist(), square=True)
        assert len(sweeps) <= 10 and sign == 0.0
        want = np.linalg.svd(A, compute_uv=False)
        tol = want[0] * 3 * EPS
        assert sum(x > tol for x in s) == int((want > tol).sum())
    got = structure([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], 3, 3, None)
    assert got["rank"] == 2 and got["determinant"] == 0.0


@pytest.mark.parametrize("J, cond", [
    ([[1.0, 0.0], [0.0, 1e-200]], 1e200),
    ([[1.0, 1e-160], [0.0, 1e-170]], 1e170),
    ([[1e308, 1e308], [1e308, 1e308]], math.inf),
    ([[1e308, 0.0], [0.0, 1e308]], 1.0),
])
def test_entries_of_a_range_wide_enough_to_leave_the_floats_go_to_numpy(J, cond):
    got = structure(J, 2, 2, None)  # no OverflowError, no squares underflowing to 0
    s = np.linalg.svd(np.array(J), compute_uv=False)
    assert got["condition_number"] == pytest.approx(cond, rel=1e-9)
    with np.errstate(over="ignore"):
        assert got["rank"] == int((s > s[0] * (2 * EPS)).sum())


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e160, 1e300])
def test_entries_near_the_float_range_neither_overflow_nor_underflow(scale):
    A = np.array([[2.0, 1.0], [1.0, 3.0]]) * scale
    s, (sign, logdet) = tiny.decompose(A.tolist(), square=True)
    want = np.linalg.svd(A, compute_uv=False)
    assert s == pytest.approx(want.tolist(), rel=1e-14) and all(map(math.isfinite, s))
    assert sign == 1.0 and logdet == pytest.approx(np.linalg.slogdet(A)[1], rel=1e-14)


def test_structure_of_a_tiny_j_reads_as_numpys():
    J = [[2.0, 2.0], [1.0, 12.0]]
    got = structure(J, 2, 2, None)
    assert got["rank"] == 2 and got["full_rank"]
    assert got["determinant"] == pytest.approx(22.0, rel=1e-14)
    s = np.linalg.svd(np.array(J), compute_uv=False)
    assert got["condition_number"] == pytest.approx(s[0] / s[-1], rel=1e-13)
    zero = structure([[0.0, 0.0], [0.0, 0.0]], 2, 2, None)
    assert zero["rank"] == 0 and zero["determinant"] == 0.0
    assert zero["condition_number"] == math.inf
    singular = structure([[1.0, 2.0], [2.0, 4.0]], 2, 2, None)
    assert singular["rank"] == 1 and singular["determinant"] == 0.0
    assert "note" in structure([[1.0, math.nan]], 1, 2, None)


@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 3), (4, 3)])
def test_a_3x3s_written_out_sweeps_are_the_general_ones_bit_for_bit(monkeypatch, shape):
    """Three columns of three are swept by ``_jacobi3``, and columns of 3 turned and measured
    by ``_rotate3``/``_dot3``, all written out: the same singular values, bit for bit, as
    the general ``_jacobi`` with ``_rotate``/``_dot``."""
    matrices = [A.tolist() for A in _matrices(shape, count=600, seed=9)]
    if shape == (3, 3):  # singular, orthogonal already, widely scaled
        matrices += [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
                     [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                     [[1.0, 1e-200, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1e-100]]]
        nan, inf = math.nan, math.inf  # and (called directly) non-finite entries
        matrices += [[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, nan]],
                     [[inf, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 3.0]],
                     [[nan, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]
    fast = [repr(tiny.singular_values(A)) for A in matrices]  # (repr: NaN equals itself)
    monkeypatch.setattr(tiny, "_jacobi3", tiny._jacobi)
    monkeypatch.setattr(tiny, "_rotate3", tiny._rotate)
    monkeypatch.setattr(tiny, "_dot3", tiny._dot)
    assert [repr(tiny.singular_values(A)) for A in matrices] == fast
