"""The structure of J: shape, rank, determinant, condition number, and the AD mode's cost
(said by ``modes``).

Computed from the numeric J (floats) with torch's LAPACK (``torch.linalg``) on ONE thread:
NumPy's BLAS threads fought torch's on a 2-core machine (a 200×200 J took 146–318 ms at
random), and even torch's own two threads lose to one on a matrix this small (8–30 ms against
3–4 ms, bench/structure_case.py). Rank uses NumPy's default SVD tolerance (σ_max · max(m, n) · ε). Non-finite Jacobians get no rank/det/cond, only a reason.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from jacli.analysis import tiny
from jacli.analysis.modes import mode_sentence


SMALL = 256  # up to this many entries (16×16) NumPy decomposes J: see ``_small``
MAX_ENTRIES = 40_000  # past this (200×200) the O(n³) decomposition is skipped: say so

def structure(J: list[list[float]] | None, m: int, n: int,
              choice: tuple[str, str, str] | None) -> dict:
    """A JSON-ready summary of J (m outputs × n inputs). One SVD gives the rank (NumPy's
    tolerance σ_max·max(m, n)·ε), the condition number σ_max/σ_min and, for square J, |det|
    (the sign comes from ``slogdet``). ``choice``: ``choose_mode``'s answer (``None``: no
    numeric J)."""
    out: dict = {"shape": [m, n], "mode": mode_sentence(m, n, choice)}
    if J is None or m == 0 or n == 0:
        return out
    if m * n > MAX_ENTRIES:
        out["note"] = f"rank, determinant and condition number skipped: J has {m * n} entries"
        return out
    if m * n <= SMALL:
        s, sign_logdet = _small(J, m == n, m * n <= tiny.TINY)
    else:
        with _one_thread():
            A = _matrix(J)
            s, sign_logdet = _decompose(A, square=m == n) if bool(A.isfinite().all()) else ([], None)
    if not s:
        out["note"] = "J has non-finite entries: no rank, determinant or condition number"
        return out
    tol = s[0] * (max(m, n) * EPS)  # (σ_max·max(m, n) first would overflow at 1e308)
    out["rank"] = sum(1 for x in s if x > tol)
    out["full_rank"] = out["rank"] == min(m, n)
    if sign_logdet is not None:
        out["determinant"] = _det(*sign_logdet)
    out["condition_number"] = s[0] / s[-1] if s[-1] > 0 else math.inf
    return out


EPS = 2.0 ** -52  # float64's machine epsilon (NumPy's finfo(float).eps)


@contextmanager
def _one_thread():
    """torch on one thread inside, its thread count restored after (see the module's
    docstring: on a matrix this small, waking a second thread costs more than it saves)."""
    import torch  # J is numeric: torch is loaded already (a formulas-only run never gets here)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _matrix(J):
    """J (nested lists or a tensor) as a float64 CPU tensor; nested lists go through NumPy,
    whose conversion is 2–3× faster than ``torch.tensor``'s."""
    import numpy as np
    import torch

    J = getattr(J, "tensor", J)  # a result.Floats: its tensor
    if isinstance(J, torch.Tensor):
        return J.detach().to(device="cpu", dtype=torch.float64)
    return torch.from_numpy(np.array(J, dtype=np.float64))


def _small(J, square: bool, tiny_ok: bool) -> tuple[list[float], tuple[float, float] | None]:
    """``_decompose`` for a small J without torch: no thread wakes for a few entries. Up to
    ``tiny.TINY`` entries (``tiny_ok``: a batch request's 2×2 or 3×3) in Python floats
    (``tiny``: cold LAPACK costs more than its work there); else NumPy's LAPACK, whose
    calls cost a fifth of torch's here (slogdet 5 µs against 27 µs). ``[]`` for
    non-finite entries."""
    if tiny_ok:
        rows = J.tolist() if hasattr(J, "tolist") else J
        if not all(math.isfinite(x) for row in rows for x in row):
            return [], None
        found = tiny.decompose(rows, square)
        if found is not None:
            return found
    import numpy as np

    A = np.asarray(J, dtype=np.float64)
    if not np.isfinite(A).all():
        return [], None
    return _decompose(A, square, lambda B: np.linalg.svd(B, compute_uv=False), np.linalg)


def _decompose(A, square: bool, svdvals=None, linalg=None):
    """A's singular values (descending, as NumPy's) and, for square A, ``slogdet``'s
    (sign, log|det|); torch's LAPACK unless NumPy's functions are given."""
    import torch

    s = (svdvals or torch.linalg.svdvals)(A).tolist()
    if not square:
        return s, None
    sign, logdet = (linalg or torch.linalg).slogdet(A)
    return s, (float(sign), float(logdet))


def _det(sign: float, logdet: float) -> float:
    """det from ``slogdet``: ±inf past float range (e.g. 2**1000 * I), not an error."""
    if sign == 0:
        return 0.0
    try:
        return float(sign * math.exp(logdet))
    except OverflowError:
        return math.copysign(math.inf, sign)
