"""Ways to compute the Jacobian of ``g: (n,) -> (m,)``; each returns an (m, n) tensor.

The candidates the issue names (torch.func.jacrev / jacfwd, torch.autograd.functional.jacobian
with vectorize=True in reverse and forward mode, a per-output ``torch.autograd.grad`` loop) and
the tutorials' ``backward(e_i, retain_graph=True)`` loop, kept as an anchor, and two
candidates for jacli itself: jacrev/jacfwd rebuilt from ``torch.func.vjp``/``jvp`` and
``torch.vmap``, which keep functorch's batching rules without importing ``torch._dynamo``. The loops take
``rows``: time only the first ``rows`` outputs (the caller scales the time by m / rows).
"""

from __future__ import annotations

import torch


def jacrev(g, x, rows=None):
    return torch.func.jacrev(g)(x)


def jacfwd(g, x, rows=None):
    return torch.func.jacfwd(g)(x)


def af_rev(g, x, rows=None):
    return torch.autograd.functional.jacobian(g, x, vectorize=True)


def af_fwd(g, x, rows=None):
    return torch.autograd.functional.jacobian(g, x, vectorize=True, strategy="forward-mode")


def vjp_vmap(g, x, rows=None):
    """jacrev by hand: ``torch.func.vjp`` + ``torch.vmap`` over the rows of I. Unlike
    ``torch.func.jacrev`` (wrapped in ``torch._disable_dynamo``), it never imports
    ``torch._dynamo``."""
    y, pullback = torch.func.vjp(g, x)
    return torch.vmap(pullback)(torch.eye(y.numel(), dtype=y.dtype, device=y.device))[0]


def jvp_vmap(g, x, rows=None):
    """jacfwd by hand: ``torch.vmap`` of ``torch.func.jvp`` over the columns of I; no
    ``torch._dynamo`` import either."""
    eye = torch.eye(x.numel(), dtype=x.dtype, device=x.device)
    return torch.vmap(lambda u: torch.func.jvp(g, (x,), (u,))[1], out_dims=1)(eye)


def grad_loop(g, x, rows=None):
    """One ``torch.autograd.grad`` per output element on one retained graph."""
    x = x.detach().requires_grad_(True)
    y = g(x)
    m = y.numel() if rows is None else min(rows, y.numel())
    out = [torch.autograd.grad(y[i], x, retain_graph=True, allow_unused=True)[0] for i in range(m)]
    return torch.stack([o if o is not None else torch.zeros_like(x) for o in out])


def backward_loop(g, x, rows=None):
    """The tutorials' loop: ``y.backward(e_i, retain_graph=True)``, read and zero ``x.grad``."""
    x = x.detach().requires_grad_(True)
    y = g(x)
    m = y.numel() if rows is None else min(rows, y.numel())
    out = []
    for i in range(m):
        e = torch.zeros_like(y)
        e[i] = 1
        y.backward(e, retain_graph=True)
        out.append(x.grad.clone() if x.grad is not None else torch.zeros_like(x))
        x.grad = None
    return torch.stack(out)


ALL = {"jacrev": jacrev, "jacfwd": jacfwd, "af_rev": af_rev, "af_fwd": af_fwd,
       "grad_loop": grad_loop, "backward_loop": backward_loop,
       "vjp_vmap": vjp_vmap, "jvp_vmap": jvp_vmap}
# what the 1.1x target is measured against (the backward loop is an anchor only)
TARGET_SET = ("jacrev", "jacfwd", "af_rev", "af_fwd", "grad_loop")
LOOPS = ("grad_loop", "backward_loop")


def best_hand(cands: dict, names=TARGET_SET) -> tuple[str | None, float | None]:
    """(name, median) of the fastest timed ``hand/<s>`` candidate among ``names``."""
    timed = [(f"hand/{s}", cands[f"hand/{s}"]["median"]) for s in names
             if "median" in cands.get(f"hand/{s}", {})]
    return min(timed, key=lambda x: x[1]) if timed else (None, None)
