"""``torch.autograd.grad``/``backward`` and AF's forward-mode J as they compute, minus wrappers.

Given a gradient tensor, ``grad`` and ``backward`` check its shape through
``torch.fx.experimental.symbolic_shapes`` (``_make_grads``), whose first import loads SymPy:
0.5 s, measured, in processes that never need SymPy otherwise — a one-shot command's forked
numeric child, an ``--at-file`` stream, ``symbolic="never"``. ``grad`` and ``backward`` here
make the same engine call with the same arguments (``_engine_run_backward``, under a legacy
vmap level for batched gradients, as ``_vmap`` opens one, without its argument checks and
pytree walks), so the numbers are PyTorch's, bit for bit. They skip the check only where it
cannot fail: every gradient a real tensor with its output's shape (with a leading batch axis
when batched), every output a real tensor. Anything else — or a torch without these private
names — goes through the public call, which checks (and words any refusal) as always.
``jacfwd`` is ``torch.autograd.functional.jacobian``'s forward mode the same way.

Shapes: ``outputs``/``inputs`` are sequences of tensors; a gradient has its output's shape,
or ``(k, *shape)`` when ``batched`` (k cotangents, one answer per cotangent, as
``is_grads_batched``).
"""

from __future__ import annotations

import torch

try:  # torch's own entry points behind torch.autograd.grad/backward (torch 2.x)
    from torch._vmap_internals import _vmap
    from torch.autograd.graph import _engine_run_backward
except ImportError:  # pragma: no cover - another torch: the public calls below
    _engine_run_backward = _vmap = None
# the legacy vmap's own steps (``_batched``, ``jacfwd``); without them, ``_vmap`` and AF
_BATCH_DIMS = all(hasattr(torch, n) for n in ("_add_batch_dim", "_remove_batch_dim")) and \
    hasattr(torch._C, "_vmapmode_increment_nesting")


BASIS_ENTRIES = 1 << 20  # identities up to 8 MB (float64) are kept for the next J
_BASES: dict[tuple, torch.Tensor] = {}  # the last few, oldest out first


def basis(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``torch.eye(n)``, the rows the numeric J pulls back (or pushes forward), made once per
    (n, dtype, device) while small: a process answering many requests (the API in a loop,
    ``jacli batch``) otherwise allocates and fills n² entries per J — for 256 outputs 0.5 MB
    of fresh memory, a tenth of the API's call measured in bursts alternating with
    ``jacrev`` (1.28–1.31× → 1.14–1.18×). Shared, so never written in place:
    autograd never writes a gradient it is handed, and ``unshared`` copies a J that is (a
    view of) the basis itself (the J of ``y = x``)."""
    if n * n > BASIS_ENTRIES:
        return torch.eye(n, dtype=dtype, device=device)
    key = (n, dtype, str(device))
    eye = _BASES.get(key)
    if eye is None:
        while len(_BASES) >= 4:
            _BASES.pop(next(iter(_BASES)), None)
        eye = _BASES[key] = torch.eye(n, dtype=dtype, device=device)
    return eye


def unshared(J: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
    """``J``, copied when it shares the (cached) basis's memory: a caller may write into J."""
    same = J.untyped_storage().data_ptr() == eye.untyped_storage().data_ptr()
    return J.clone() if same else J


def grad(outputs, inputs, grad_outputs, *, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False, batched: bool = False,
         materialize: bool = False) -> tuple:
    """``torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
    allow_unused=allow_unused, is_grads_batched=batched, materialize_grads=materialize)``."""
    outputs, inputs, grad_outputs = tuple(outputs), tuple(inputs), tuple(grad_outputs)
    if not _direct(outputs, grad_outputs, batched):
        return torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph=retain_graph,
                                   create_graph=create_graph, allow_unused=allow_unused,
                                   is_grads_batched=batched, materialize_grads=materialize)
    retain = create_graph if retain_graph is None else retain_graph  # as torch reads it

    def vjp(g):
        return _engine_run_backward(outputs, g, retain, create_graph, inputs, allow_unused,
                                    accumulate_grad=False)

    result = _batched(vjp, grad_outputs) if batched else vjp(grad_outputs)
    if materialize:
        result = tuple(r if r is not None else torch.zeros_like(x, requires_grad=create_graph)
                       for r, x in zip(result, inputs))
    return tuple(result)


def _batched(vjp, grads: tuple) -> tuple:
    """``_vmap(vjp, 0, 0, allow_none_pass_through=True)(grads)`` as it runs: one vmap level,
    each gradient's leading axis its batch dimension, each answer's batch dimension put back
    in front (``None`` passed through) — without its argument checks and pytree walks (a
    quarter of a 3×3 J's batched backward: 334 → 253 µs). Gradients of unequal batch sizes
    (or a torch without these names) go through ``_vmap``, which words the refusal."""
    k = grads[0].shape[0]
    if not _BATCH_DIMS or any(g.shape[0] != k for g in grads):
        return _vmap(vjp, 0, 0, allow_none_pass_through=True)(grads)
    level = torch._C._vmapmode_increment_nesting()
    try:
        out = vjp(tuple(torch._add_batch_dim(g, 0, level) for g in grads))
        return tuple(None if r is None else torch._remove_batch_dim(r, level, k, 0) for r in out)
    finally:
        torch._C._vmapmode_decrement_nesting()


def jacfwd(f, x: torch.Tensor, keep: list | None = None) -> torch.Tensor:
    """``torch.autograd.functional.jacobian(f, x, vectorize=True, strategy="forward-mode")``
    for one input ``x`` and one tensor output, as it computes: the rows of I as ``x``'s
    tangents under one vmap level, in one dual level, the batched tangent of ``f``'s output
    moved to the back — without its wrappers. Shape ``(*y.shape, *x.shape)``. ``keep``: a
    list that receives ``f(x)`` itself (the dual output's primal, computed by the same
    kernels on the same values)."""
    if not _BATCH_DIMS:  # (nothing kept: the caller computes y itself)
        return torch.autograd.functional.jacobian(f, x, vectorize=True, strategy="forward-mode")
    from torch.autograd import forward_ad as fwAD

    n = x.numel()
    eye = basis(n, x.dtype, x.device)  # AF's standard basis, the same 0/1
    level = torch._C._vmapmode_increment_nesting()
    try:
        tangents = torch._add_batch_dim(eye, 0, level)
        with fwAD.dual_level():
            primal, tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, tangents.view_as(x))))
            if tangent is None:  # nothing of x reaches the output
                tangent = torch.zeros_like(primal)
        jv = torch._remove_batch_dim(tangent, level, n, 0)
    finally:
        torch._C._vmapmode_decrement_nesting()
    if keep is not None:
        keep.append(primal)
    J = jv.permute(*range(1, jv.ndim), 0).reshape(tuple(primal.shape) + tuple(x.shape))
    return unshared(J, eye)


def backward(tensors, grad_tensors) -> None:
    """``torch.autograd.backward(tensors, grad_tensors)``: ``y.backward(v)`` for one y;
    accumulates into the leaves' ``.grad``."""
    tensors, grad_tensors = tuple(tensors), tuple(grad_tensors)
    if not _direct(tensors, grad_tensors, False):
        torch.autograd.backward(tensors, grad_tensors)
        return
    _engine_run_backward(tensors, grad_tensors, False, False, (), allow_unreachable=True,
                         accumulate_grad=True)


def _direct(outputs: tuple, grads: tuple, batched: bool) -> bool:
    """Whether ``_make_grads`` would pass every gradient through unchanged: plain real
    tensors (no subclass, nothing nested), each of its output's shape."""
    if _engine_run_backward is None or len(outputs) != len(grads):
        return False
    for y, g in zip(outputs, grads):
        if type(y) is not torch.Tensor or type(g) is not torch.Tensor or y.is_nested \
                or y.is_complex() or g.is_complex():
            return False
        if (g.shape[1:] if batched else g.shape) != y.shape or (batched and g.ndim == 0):
            return False
    return True
