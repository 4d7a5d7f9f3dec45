"""A tiny J's structure (up to 9 entries: a batch request's 2×2 or 3×3) is computed in Python
floats (``analysis.tiny``): one-sided Jacobi for the singular values, partial pivoting for
the determinant. NumPy's LAPACK is the oracle: the same rank, singular values within a few
ulps of σ_max, the determinant's sign and value to 1e-12."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
        s, _ = tiny.decompose(A.tolist(), square=False)
        want = np.linalg.svd(A, compute_uv=False)
        assert len(s) == len(want)
        assert max(abs(a - b) for a, b in zip(s, want)) <= 8 * EPS * want[0]
        tol = want[0] * max(shape) * EPS
        assert sum(x > tol for x in s) == int((want > tol).sum())
        assert got is None or got == sorted(got, reverse=True)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_determinant_is_numpys(n):
    """Where |det| is above rounding noise (|det| > 64·ε·σ_max^n) the sign and log|det| are
    NumPy's; below it (a rank-deficient J) both sides hold noise, and both must say so."""
    for A in _matrices((n, n), seed=n):
        _, (sign, logdet) = tiny.decompose(A.tolist(), square=True)
        want_sign, want_log = np.linalg.slogdet(A)
        noise = math.log(64 * EPS) + n * math.log(np.linalg.svd(A, compute_uv=False)[0] or 1)
        if want_sign == 0 or want_log < noise:
            assert sign == 0 or logdet < noise + 2
            continue
        assert sign == want_sign and logdet == pytest.approx(want_log, rel=1e-12, abs=1e-12)


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
