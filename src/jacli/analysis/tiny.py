"""Singular values and the determinant of a tiny J (up to ``TINY`` entries) in Python floats.

A batch request's J is 2×2 or 3×3. NumPy's SVD and ``slogdet`` on it take 3–4 µs in a
tight loop, but 50–90 µs in a request, where LAPACK's code is cold between calls (measured
by switching them off: a tenth to a sixth of a small request). Here: one-sided Jacobi
(Hestenes) on the columns, which gives each singular value to high relative accuracy
(within 1.4e-15·σ_max of NumPy's, and the same rank, on 16,000 random and rank-deficient
matrices of every shape up to 5×3 in the test), and Gaussian elimination with partial
pivoting (LAPACK's ``getrf`` steps) for the determinant. The matrix is first scaled by a
power of two (exact) so that no sum of squares overflows or underflows.
"""

from __future__ import annotations

import math

TINY = 9  # entries (3×3, 1×9): past this NumPy's LAPACK is as fast, cold or not
EPS = 2.0 ** -52
_SWEEPS = 60  # Jacobi converges quadratically: a 3×3 takes 3–5 sweeps; a cap, not a rate


def decompose(rows: list[list[float]], square: bool):
    """(singular values, descending; ``(sign, log|det|)`` for square J, else ``None``) of the
    finite m×n matrix ``rows``: what ``structure._decompose`` gives, to rounding."""
    top = max(abs(x) for row in rows for x in row)
    if top == 0.0:
        k = min(len(rows), len(rows[0]))
        return [0.0] * k, ((0.0, -math.inf) if square else None)
    e = math.frexp(top)[1]  # rows / 2**e: every entry below 1 in magnitude, exactly scaled
    scaled = [[math.ldexp(x, -e) for x in row] for row in rows]
    s = [math.ldexp(v, e) for v in singular_values(scaled)]
    if not square:
        return s, None
    sign, logdet = _slogdet(scaled)
    return s, (sign, logdet + len(rows) * e * math.log(2.0))


def singular_values(rows: list[list[float]]) -> list[float]:
    """One-sided Jacobi on the columns of ``rows`` (on the rows when there are fewer):
    rotate pairs until every pair is orthogonal to working precision; the singular values
    are the column norms, descending."""
    m, n = len(rows), len(rows[0])
    cols = [list(c) for c in zip(*rows)] if n <= m else [list(r) for r in rows]
    for _ in range(_SWEEPS):
        if not _sweep(cols):
            break
    return sorted((math.sqrt(_dot(c, c)) for c in cols), reverse=True)


def _sweep(cols: list[list[float]]) -> bool:
    """One Jacobi sweep over every pair of columns; whether any pair was rotated."""
    rotated = False
    for i in range(len(cols) - 1):
        for j in range(i + 1, len(cols)):
            x, y = cols[i], cols[j]
            alpha, beta, gamma = _dot(x, x), _dot(y, y), _dot(x, y)
            if abs(gamma) <= EPS * math.sqrt(alpha * beta):
                continue  # orthogonal to working precision (0 included)
            rotated = True
            zeta = (beta - alpha) / (2.0 * gamma)
            t = math.copysign(1.0, zeta) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
            c = 1.0 / math.sqrt(1.0 + t * t)
            s = c * t
            cols[i] = [c * a - s * b for a, b in zip(x, y)]
            cols[j] = [s * a + c * b for a, b in zip(x, y)]
    return rotated


def _dot(x: list[float], y: list[float]) -> float:
    return sum(a * b for a, b in zip(x, y))


def _slogdet(rows: list[list[float]]) -> tuple[float, float]:
    """(sign, log|det|) by Gaussian elimination with partial pivoting; (0, -inf) when a
    pivot is exactly 0, as ``numpy.linalg.slogdet``."""
    a = [list(r) for r in rows]
    n, sign, logdet = len(a), 1.0, 0.0
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(a[i][k]))
        if a[p][k] == 0.0:
            return 0.0, -math.inf
        if p != k:
            a[k], a[p], sign = a[p], a[k], -sign
        pivot = a[k][k]
        sign = -sign if pivot < 0 else sign
        logdet += math.log(abs(pivot))
        for i in range(k + 1, n):
            f = a[i][k] / pivot
            a[i] = [a[i][j] - f * a[k][j] if j > k else 0.0 for j in range(n)]
    return sign, logdet
