"""``torch.autograd.grad`` and ``torch.autograd.backward`` as they compute, minus one import.

Given a gradient tensor, both check its shape through ``torch.fx.experimental.symbolic_shapes``
(``_make_grads``), whose first import loads SymPy: 0.5 s, measured, in processes that never
need SymPy otherwise — a one-shot command's forked numeric child, an ``--at-file`` stream,
``symbolic="never"``. ``grad`` and ``backward`` here make the same engine call with the same
arguments (``_engine_run_backward``, under the same legacy vmap for batched gradients), so the
numbers are PyTorch's, bit for bit. They skip the check only where it cannot fail: every
gradient a real tensor with its output's shape (with a leading batch axis when batched), every
output a real tensor. Anything else — or a torch without these private names — goes through
the public call, which checks (and words any refusal) as always.

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

    result = _vmap(vjp, 0, 0, allow_none_pass_through=True)(grad_outputs) if batched \
        else vjp(grad_outputs)
    if materialize:
        result = tuple(r if r is not None else torch.zeros_like(x, requires_grad=create_graph)
                       for r, x in zip(result, inputs))
    return tuple(result)


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
