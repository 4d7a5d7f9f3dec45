"""The structure of J: shape, rank, determinant, condition number, and the AD mode's cost.

Computed from the numeric J (floats) with NumPy; rank uses NumPy's default SVD tolerance
(σ_max · max(m, n) · ε). Non-finite Jacobians get no rank/det/cond, only a reason.
"""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager

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
        out["determinant"] = _det(sign, logdet)
    out["condition_number"] = float(s[0] / s[-1]) if s[-1] > 0 else math.inf
    return out


def _det(sign: float, logdet: float) -> float:
    """det from ``slogdet``: ±inf past float range (e.g. 2**1000 * I), not an error."""
    if sign == 0:
        return 0.0
    try:
        return float(sign * math.exp(logdet))
    except OverflowError:
        return math.copysign(math.inf, sign)


FEW_OUTPUTS = 32  # tensor programs with m up to this: batched VJPs beat n JVPs (bench/)
COLD_REV_MAX = 256  # past this m, legacy-vmap VJPs cost more than importing torch._dynamo


_LONG_RUNNING = False  # set by commands that answer many requests (``jacli batch``)


@contextmanager
def long_running():
    """While this process answers many requests: it pays ``torch._dynamo``'s import at most
    once, so every request gets the warm rules — the same request, the same strategy,
    whatever came before it."""
    global _LONG_RUNNING
    before, _LONG_RUNNING = _LONG_RUNNING, True
    try:
        yield
    finally:
        _LONG_RUNNING = before


def warm_process() -> bool:
    """Whether ``torch.func``'s reverse mode is paid for (or will be, once, worth it)."""
    return _LONG_RUNNING or "torch._dynamo" in sys.modules


def choose_mode(m: int, n: int, requested: str = "auto", tensors: bool = False,
                warm: bool | None = None) -> tuple[str, str, str]:
    """(mode, implementation, reason) for the numeric J (m outputs × n inputs), from the
    measurements in docs/benchmarks.md.

    ``warm``: whether ``torch._dynamo`` is already imported or the process is long-running
    (default: ``warm_process()``). ``torch.func``'s
    reverse mode imports it on first use (0.6–0.9 s, more than any J of a one-shot run
    costs), so a cold process uses the dynamo-free strategies — ``autograd.functional``
    (legacy vmap) and ``vmap`` of forward-mode ``jvp`` — and a warm one (``jacli batch``, a
    library caller) the fastest measured warm.

    * scalar systems (every variable a scalar): ``autograd.functional``, reverse, on every
      shape measured (forward when ``--mode fwd``);
    * tensor programs: reverse when m <= 32 or n > m (or, warm, n == m), else forward
      (whose basis of n JVPs is n×n: at most m·n, J's own size).
    """
    if warm is None:
        warm = warm_process()
    if not tensors:
        mode = "fwd" if requested == "fwd" else "rev"
        why = f"--mode {requested}" if requested != "auto" else (
            f"auto: a system of scalar variables ({m}×{n}): batched VJPs measured fastest "
            "for every shape (docs/benchmarks.md)")
        return mode, "af_" + mode, why
    if requested in ("fwd", "rev"):
        mode, why = requested, f"--mode {requested}"
    elif m <= FEW_OUTPUTS:
        mode, why = "rev", f"auto: few outputs ({m}): {m} batched VJPs"
    elif n > m or (warm and n == m):  # forward mode would also hold an n×n basis
        mode, why = "rev", f"auto: {m} output(s) <= {n} input(s): {m} batched VJPs"
    else:
        mode, why = "fwd", (f"auto: {n} batched JVPs" + ("" if warm else
                            " (reverse mode's torch.func would import torch._dynamo)"))
    if mode == "fwd":
        return mode, "jvp_vmap", why
    impl = "vjp_vmap" if warm or m > COLD_REV_MAX else "af_rev"
    return mode, impl, why


_IMPLS = {"af_rev": "torch.autograd.functional.jacobian, vectorize=True",
          "af_fwd": "torch.autograd.functional.jacobian, forward-mode, vectorize=True",
          "vjp_vmap": "torch.vmap over torch.func.vjp",
          "jvp_vmap": "torch.vmap over torch.func.jvp"}


def strategy_text(mode: str, impl: str, reason: str) -> str:
    kind = "forward mode" if mode == "fwd" else "reverse mode"
    return f"{kind} ({_IMPLS[impl]}) — {reason}"


def _mode(m: int, n: int, strategy: str | None) -> str:
    """Reverse mode costs one VJP per output row, forward mode one JVP per input column."""
    cheaper = "reverse" if m <= n else "forward"
    used = strategy or "none (formulas only)"
    return (f"{m} out × {n} in: reverse mode costs {m} VJP(s), forward mode {n} JVP(s) "
            f"({cheaper} is cheaper); used {used}")
