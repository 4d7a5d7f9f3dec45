"""The structure of J: shape, rank, determinant, condition number, and the AD mode's cost.

Computed from the numeric J (floats) with NumPy; rank uses NumPy's default SVD tolerance
(σ_max · max(m, n) · ε). Non-finite Jacobians get no rank/det/cond, only a reason.
"""

from __future__ import annotations

import math

import numpy as np


MAX_ENTRIES = 40_000  # past this (200×200) the O(n³) decomposition is skipped: say so


def structure(J: list[list[float]] | None, m: int, n: int, strategy: str | None) -> dict:
    """A JSON-ready summary of J (m outputs × n inputs). One SVD gives the rank (NumPy's
    tolerance σ_max·max(m, n)·ε), the condition number σ_max/σ_min and, for square J, |det|
    (the sign comes from ``slogdet``)."""
    out: dict = {"shape": [m, n], "mode": _mode(m, n, strategy)}
    if J is None or m == 0 or n == 0:
        return out
    if m * n > MAX_ENTRIES:
        out["note"] = f"rank, determinant and condition number skipped: J has {m * n} entries"
        return out
    A = np.asarray(J, dtype=float)
    if not np.all(np.isfinite(A)):
        out["note"] = "J has non-finite entries: no rank, determinant or condition number"
        return out
    s = np.linalg.svd(A, compute_uv=False)
    tol = s[0] * max(m, n) * np.finfo(float).eps if s.size else 0.0
    out["rank"] = int(np.sum(s > tol))
    out["full_rank"] = out["rank"] == min(m, n)
    if m == n:
        sign, logdet = np.linalg.slogdet(A)
        out["determinant"] = float(sign * math.exp(logdet)) if sign != 0 else 0.0
    out["condition_number"] = float(s[0] / s[-1]) if s[-1] > 0 else math.inf
    return out


SMALL = 4096  # m·n up to which autograd.functional wins whatever the shape (bench/)


def choose_mode(m: int, n: int, requested: str = "auto", tensors: bool = False
                ) -> tuple[str, str, str]:
    """(mode, implementation, reason) for the numeric J, from the measurements in
    docs/benchmarks.md. Scalar systems (every variable a scalar) and small J: batched
    autograd.functional, reverse — fastest on every shape measured, tall ones included.
    Large tensor programs: forward (vmap of jvp) when n <= m, torch.func.jacrev when n > m."""
    large = tensors and m * n > SMALL
    if requested in ("fwd", "rev"):
        impl = {("fwd", False): "af_fwd", ("rev", False): "af_rev",
                ("fwd", True): "jvp_vmap", ("rev", True): "jacrev"}[(requested, large)]
        return requested, impl, f"--mode {requested}"
    if not large:
        what = "a small J" if tensors else "a system of scalar variables"
        return "rev", "af_rev", (f"auto: {what} ({m}×{n}): batched VJPs measured fastest "
                                 "for every shape (docs/benchmarks.md)")
    if n <= m:
        return "fwd", "jvp_vmap", f"auto: {n} input(s) <= {m} output(s): {n} batched JVPs"
    return "rev", "jacrev", f"auto: {m} output(s) < {n} input(s): {m} batched VJPs"


_IMPLS = {"af_rev": "torch.autograd.functional.jacobian, vectorize=True",
          "af_fwd": "torch.autograd.functional.jacobian, forward-mode, vectorize=True",
          "jacrev": "torch.func.jacrev", "jvp_vmap": "torch.vmap over torch.func.jvp"}


def strategy_text(mode: str, impl: str, reason: str) -> str:
    kind = "forward mode" if mode == "fwd" else "reverse mode"
    return f"{kind} ({_IMPLS[impl]}) — {reason}"


def _mode(m: int, n: int, strategy: str | None) -> str:
    """Reverse mode costs one VJP per output row, forward mode one JVP per input column."""
    cheaper = "reverse" if m <= n else "forward"
    used = strategy or "none (formulas only)"
    return (f"{m} out × {n} in: reverse mode costs {m} VJP(s), forward mode {n} JVP(s) "
            f"({cheaper} is cheaper); used {used}")
