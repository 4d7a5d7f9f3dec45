"""Singular values and the determinant of a tiny J (up to ``TINY`` entries) in Python floats.

A batch request's J is 2×2 or 3×3. NumPy's SVD and ``slogdet`` on it take 3–4 µs in a
tight loop, but 50–90 µs in a request, where LAPACK's code is cold between calls (measured
by switching them off: a tenth to a sixth of a small request). Here: one-sided Jacobi
(Hestenes) on the columns, which gives each singular value to high relative accuracy
(within 8 ulps of σ_max of NumPy's, and the same rank, on random, rank-deficient and
singular integer matrices in the tests; a 2×2's by its closed form, σ₂ from the exact
determinant), and the determinant exactly, in integers, rounded
once (an exactly singular J has determinant 0, where LU's rounding leaves ~1e-16). The
matrix is first scaled by a power of two (exact); one whose entries span more than
``SPAN`` binary orders, or reach past 2**1000, is left to NumPy (``None``): its squares
would leave the float range.
"""

from __future__ import annotations

import math
from operator import mul

TINY = 9  # entries (3×3, 1×9): past this NumPy's LAPACK is as fast, cold or not
EPS = 2.0 ** -52
SPAN = 450  # binary orders between the largest and the smallest nonzero entry (2**-900
# squared stays normal)
_SWEEPS = 30  # a cap, not a rate: Jacobi converges quadratically (at most 8 sweeps were
# seen on 30,000 matrices)


def decompose(rows: list[list[float]], square: bool):
    """(singular values, descending; ``(sign, log|det|)`` for square J, else ``None``) of the
    finite m×n matrix ``rows``, what ``structure._decompose`` gives, to rounding; ``None``
    when the entries' range is too wide for sums of squares (NumPy's LAPACK scales)."""
    magnitudes = [abs(x) for row in rows for x in row if x]
    if not magnitudes:
        k = min(len(rows), len(rows[0]))
        return [0.0] * k, ((0.0, -math.inf) if square else None)
    top = max(magnitudes)
    e = math.frexp(top)[1]
    if e > 1000 or math.frexp(min(magnitudes))[1] < e - SPAN:
        return None
    scaled = [[math.ldexp(x, -e) for x in row] for row in rows]  # every entry below 1
    if square and len(rows) == 2:
        det, shift = _exact_det(rows)
        s = [math.ldexp(v, e) for v in _two_by_two(scaled, _ratio(det, shift + 2 * e))]
        return s, _signed_log(det, shift)
    s = [math.ldexp(v, e) for v in singular_values(scaled)]
    return s, (slogdet(rows) if square else None)


def _two_by_two(rows: list[list[float]], det: float) -> list[float]:
    """The singular values of a 2×2 ``rows`` whose determinant is ``det`` (correctly
    rounded): σ₁ = (|(a+d, b−c)| + |(a−d, b+c)|)/2, within a few ulps (the two lengths are
    sums of squares, no cancellation between them), and σ₂ = |det|/σ₁ to the same relative
    accuracy (where σ₁ − σ₂ from the same lengths would lose σ₂ to cancellation). Jacobi's
    rotation and the sweep that confirms it took 4 µs for a 2×2; this takes 0.2."""
    (a, b), (c, d) = rows
    first = (math.hypot(a + d, b - c) + math.hypot(a - d, b + c)) / 2.0
    second = abs(det) / first if first else 0.0
    return [first, second] if first >= second else [second, first]


def singular_values(rows: list[list[float]]) -> list[float]:
    """One-sided Jacobi on the columns of ``rows`` (on the rows when there are fewer):
    rotate pairs until every pair is orthogonal to working precision; the singular values
    are the column norms, descending."""
    m, n = len(rows), len(rows[0])
    cols = [list(c) for c in zip(*rows)] if n <= m else [list(r) for r in rows]
    norms = [_dot(c, c) for c in cols]  # each column's squared length, kept as it turns
    jacobi = _jacobi3 if len(cols) == 3 and len(cols[0]) == 3 else _jacobi
    return sorted(map(math.sqrt, jacobi(cols, norms)), reverse=True)


def _jacobi(cols: list[list[float]], norms: list[float]) -> list[float]:
    """Sweeps until no pair turns (at most ``_SWEEPS``); the columns' squared lengths."""
    for _ in range(_SWEEPS):
        if not _sweep(cols, norms):
            break
    return norms


def _jacobi3(cols: list[list[float]], norms: list[float]) -> list[float]:
    """``_jacobi`` for three columns of three (a 3×3 J), written out: the pairs (0, 1),
    (0, 2), (1, 2) in ``_sweep``'s order, each with ``_sweep``'s test and rotation
    (``_rotate3``, ``_dot3``): the same operations in the same order, so the same floats,
    in local variables instead of lists (a 3×3's structure: 18 → 14 µs)."""
    (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = cols
    na, nb, nc = norms
    for _ in range(_SWEEPS):
        turned = _pair3(a0, a1, a2, b0, b1, b2, na, nb)
        if turned:
            a0, a1, a2, b0, b1, b2, na, nb = turned
        again = _pair3(a0, a1, a2, c0, c1, c2, na, nc)
        if again:
            a0, a1, a2, c0, c1, c2, na, nc = again
        last = _pair3(b0, b1, b2, c0, c1, c2, nb, nc)
        if last:
            b0, b1, b2, c0, c1, c2, nb, nc = last
        if not (turned or again or last):
            break
    return [na, nb, nc]


def _pair3(x0, x1, x2, y0, y1, y2, alpha: float, beta: float):
    """One pair of ``_jacobi3``: ``None`` when orthogonal to working precision (or one column
    negligible), else the pair turned and its two new squared lengths."""
    gamma = x0 * y0 + x1 * y1 + x2 * y2
    if abs(gamma) <= _TOL3 * math.sqrt(alpha * beta) or (  # min(α, β) <= ε²·max(α, β),
            beta if beta < alpha else alpha) <= _EPS2 * (beta if beta > alpha else alpha):
        return None  # as ``min`` and ``max`` pick (a NaN too), without their calls
    c, s = _turn(alpha, beta, gamma)
    u0, u1, u2 = c * x0 - s * y0, c * x1 - s * y1, c * x2 - s * y2
    w0, w1, w2 = s * x0 + c * y0, s * x1 + c * y1, s * x2 + c * y2
    return (u0, u1, u2, w0, w1, w2, u0 * u0 + u1 * u1 + u2 * u2, w0 * w0 + w1 * w1 + w2 * w2)


_EPS2 = EPS * EPS  # (``_pair3``'s ``min(α, β) <= ε²·max(α, β)``)
_TOL3 = 3 * EPS  # (``_sweep``'s tolerance for columns of 3)


def _turn(alpha: float, beta: float, gamma: float) -> tuple[float, float]:
    """The rotation (c, s) that makes a pair with squared lengths α, β and dot product γ
    orthogonal (``_sweep``'s)."""
    zeta = (beta - alpha) / (2.0 * gamma)
    t = math.copysign(1.0, zeta) / (abs(zeta) + math.hypot(1.0, zeta))
    c = 1.0 / math.sqrt(1.0 + t * t)
    return c, c * t


def _sweep(cols: list[list[float]], norms: list[float]) -> bool:
    """One Jacobi sweep over every pair of columns; whether any pair was rotated. A pair is
    done when orthogonal to the precision its length allows (|γ| <= m·ε·√(αβ)), or when one
    column is negligible beside the other (rounding noise, which no rotation makes
    orthogonal: it would shrink to the sweep cap). ``norms`` (the squared lengths) are
    measured again only for the two columns a rotation changed: a converged pair costs one
    dot product, not three (a 3×3's singular values: 27 → 20 µs; the same numbers)."""
    rotated, tol = False, len(cols[0]) * EPS
    rotate, dot = (_rotate3, _dot3) if len(cols[0]) == 3 else (_rotate, _dot)
    for i in range(len(cols) - 1):
        for j in range(i + 1, len(cols)):
            x, y = cols[i], cols[j]
            alpha, beta, gamma = norms[i], norms[j], dot(x, y)
            if abs(gamma) <= tol * math.sqrt(alpha * beta) or \
                    min(alpha, beta) <= EPS * EPS * max(alpha, beta):
                continue
            rotated = True
            cols[i], cols[j], norms[i], norms[j] = rotate(x, y, *_turn(alpha, beta, gamma))
    return rotated


def _rotate(x: list[float], y: list[float], c: float, s: float):
    """The pair turned by (c, s), and the two new squared lengths."""
    u = [c * a - s * b for a, b in zip(x, y)]
    w = [s * a + c * b for a, b in zip(x, y)]
    return u, w, _dot(u, u), _dot(w, w)


def _rotate3(x: list[float], y: list[float], c: float, s: float):
    """``_rotate`` for columns of 3 (a 3×3 J), written out: the same operations in the same
    order, so the same floats, without the comprehensions' and ``map``'s calls (a 3×3's
    singular values: 18 → 10 µs)."""
    x0, x1, x2 = x
    y0, y1, y2 = y
    u0, u1, u2 = c * x0 - s * y0, c * x1 - s * y1, c * x2 - s * y2
    w0, w1, w2 = s * x0 + c * y0, s * x1 + c * y1, s * x2 + c * y2
    return ([u0, u1, u2], [w0, w1, w2], u0 * u0 + u1 * u1 + u2 * u2,
            w0 * w0 + w1 * w1 + w2 * w2)


def _dot(x: list[float], y: list[float]) -> float:
    return sum(map(mul, x, y))  # (the products summed in order, as a generator would)


def _dot3(x: list[float], y: list[float]) -> float:
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]  # (``_dot``'s sum, but for 0's sign)


def slogdet(rows: list[list[float]]) -> tuple[float, float]:
    """(sign, log|det|) of a square matrix of up to 3×3 floats (``TINY``), exactly: every
    float is an integer over a power of two, so over their common power of two the matrix is one of
    integers, whose determinant Python's integers give exactly; (0, -inf) when it is 0."""
    return _signed_log(*_exact_det(rows))


def _exact_det(rows: list[list[float]]) -> tuple[int, int]:
    """(D, k): the determinant of the floats ``rows`` is exactly D / 2**k."""
    ratios = [x.as_integer_ratio() for row in rows for x in row]
    shift = max(d.bit_length() for _, d in ratios) - 1  # the common denominator 2**shift
    n = len(rows)
    ints = [num << (shift - d.bit_length() + 1) for num, d in ratios]
    return _det([ints[i * n:(i + 1) * n] for i in range(n)]), n * shift


def _signed_log(det: int, k: int) -> tuple[float, float]:
    """``slogdet``'s (sign, log|det|) of det / 2**k; (0, -inf) when it is 0."""
    if det == 0:
        return 0.0, -math.inf
    return (1.0 if det > 0 else -1.0), math.log(abs(det)) - k * math.log(2.0)


def _ratio(det: int, k: int) -> float:
    """det / 2**k correctly rounded (Python's int division rounds once, to nearest)."""
    return det / (1 << k) if k >= 0 else float(det << -k)


def _det(a: list[list[int]]) -> int:
    if len(a) == 1:
        return a[0][0]
    if len(a) == 2:
        return a[0][0] * a[1][1] - a[0][1] * a[1][0]
    (p, q, r), (s, t, u), (v, w, x) = a  # 3×3: the cofactors of the first row
    return p * (t * x - u * w) - q * (s * x - u * v) + r * (s * w - t * v)
