"""Values, Jacobians and VJPs at N points at once (``--at-file``): batched autograd.

One program, N points stacked along a new first axis; ``many`` feeds it chunks and streams
the rows. The torch backend and ``forward`` come from ``autograd``.
"""

from __future__ import annotations

import torch

from jacli.autograd import TorchBackend, forward
from jacli.language import ir


def batched(program: ir.Program, backend: TorchBackend, X: dict[str, torch.Tensor],
            wrt: list[str], command: str, v) -> dict[str, list]:
    """Values, J and/or vᵀJ at N points at once; each X[name] is (N, *shape).

    J: ``vmap(jacrev)`` (``jacfwd`` when inputs are fewer than outputs). vᵀJ: one
    ``Y.backward(V)`` over a vmapped forward — N VJPs in a single backward pass."""
    from torch.func import jacfwd, jacrev, vmap

    names = list(X)
    N = next(iter(X.values())).shape[0]

    def f(*xs):
        return forward(program, backend, dict(zip(names, xs))).reshape(-1)

    with torch.no_grad():
        Y = vmap(f)(*X.values())
    out: dict[str, list] = {"value": Y.tolist()}
    m, n = Y.shape[1], sum(X[w][0].numel() for w in wrt)
    if command in ("jacobian", "check"):
        argnums = tuple(names.index(w) for w in wrt)
        blocks = vmap((jacfwd if n < m else jacrev)(f, argnums=argnums))(*X.values())
        out["jacobian"] = torch.cat([b.reshape(N, m, -1) for b in blocks], dim=2).tolist()
    if command in ("vjp", "grad"):
        leaves = [x.detach().clone().requires_grad_(True) for x in X.values()]
        Y = vmap(f)(*leaves)
        if Y.requires_grad:
            Y.backward(v.reshape(1, -1).expand(N, m))
        grads = [leaves[names.index(w)].grad for w in wrt]
        out["vjp"] = torch.cat([(g if g is not None else torch.zeros_like(leaves[names.index(w)]))
                                .reshape(N, -1) for g, w in zip(grads, wrt)], dim=1).tolist()
    return out
