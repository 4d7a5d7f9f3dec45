"""Gradient events: each ``backward``, ``torch.autograd.grad``, ``torch.autograd.functional``
and ``torch.func`` call of a script, run for real and recorded.

An ``Event`` holds what PyTorch did (the output's value, ``v``, what the call returned, every
leaf's ``.grad`` before and after, so accumulation, ``zero_()`` and ``grad = None`` show) and
the replay: the event as a straight-line jacli program (``trace``), or why there is none.
Nothing here runs an extra backward through the real graph: it would fill ``.grad`` of
``retain_grad()`` tensors and fire the user's hooks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch

from jacli.runtime.script.trace import Untraceable

# the command a replay is analysed as, by event kind (the rest: vjp)
_COMMAND = {"functional.jacobian": "jacobian", "func.jacrev": "jacobian",
            "func.jacfwd": "jacobian", "functional.hessian": "hessian", "func.hessian": "hessian",
            "functional.jvp": "jvp", "func.jvp": "jvp", "func.grad": "grad",
            "func.grad_and_value": "grad", "functional.hvp": "hessian",
            "functional.vhp": "hessian"}


@dataclass
class Event:
    kind: str  # "backward" | "autograd.grad" | "functional.jacobian" | "func.grad" | …
    line: int
    output: str  # the output's label
    value: torch.Tensor | None  # the output's value (detached)
    v: torch.Tensor | None  # the weights; None for a scalar output's implicit 1
    v_source: str
    inputs: list[tuple[str, torch.Tensor]]  # the leaves (or given inputs) it differentiates
    grad_before: dict[str, torch.Tensor | None] = field(default_factory=dict)
    grad: dict[str, torch.Tensor | None] = field(default_factory=dict)
    result: list[torch.Tensor] | None = None  # what the call returned (autograd.grad, …)
    replay: str | None = None
    replay_why: str | None = None
    u: torch.Tensor | None = None  # jvp's direction
    shapes: dict[str, tuple] = field(default_factory=dict)  # each watched leaf's (for a None)

    @property
    def command(self) -> str:
        return _COMMAND.get(self.kind, "vjp")


def reached_leaves(t: torch.Tensor) -> list[torch.Tensor]:
    """The leaves ``t.backward()`` writes into, in the order autograd's graph reaches them."""
    if t.grad_fn is None:
        return [t] if t.requires_grad else []
    found, seen, stack = [], set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(f for f, _ in reversed(fn.next_functions))
    return found


def snapshot(leaves: list[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor | None]:
    return {name: None if t.grad is None else t.grad.detach().clone() for name, t in leaves}


def replay_or_why(trace, event: Event, output: torch.Tensor,
                  variables: list[tuple[str, torch.Tensor]], v: torch.Tensor | None) -> None:
    """Fill ``event.replay`` (or ``replay_why``) for ``output`` over ``variables``."""
    try:
        if not variables:
            raise Untraceable("it differentiates no tensor")
        if any(t.is_floating_point() and bool(((t == 0) & t.signbit()).any())
               for _, t in variables):  # 1/x, sqrt'(x), atan2 tell -0.0 from 0
            raise Untraceable("a leaf holds -0.0, which the exact replay reads as 0: the "
                              "numbers are the run's own")
        event.replay = trace.replay(output, variables, v, _identifier(event.output),
                                    backward=event.command in ("vjp", "grad") and
                                    event.kind != "output")
    except Untraceable as e:
        event.replay_why = str(e)


def _identifier(label: str) -> str:
    """A name for the replay's output: ``z.mean()`` becomes ``z_mean``."""
    name = re.sub(r"\W+", "_", label).strip("_")
    return name if name.isidentifier() and "__" not in name else "out"


def as_list(value: Any) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def real_jacobian(out: torch.Tensor, leaves: list[torch.Tensor], limit: int
                  ) -> torch.Tensor | None:
    """J (m × n) of ``out`` over ``leaves`` on PyTorch's real graph, batched over rows; only
    for an output no backward consumed (at the end of a script: no later code sees the
    retained graph or a hook firing). ``None`` past ``limit`` entries; PyTorch's own
    RuntimeError when its backward refuses."""
    m, n = out.numel(), sum(t.numel() for t in leaves)
    if not leaves or m * n > limit:
        return None
    if not out.requires_grad:  # a constant output: no graph reaches any leaf
        return torch.zeros(m, n, dtype=out.dtype)
    flat, eye = out.reshape(-1), torch.eye(m, dtype=out.dtype, device=out.device)
    try:
        rows = torch.autograd.grad(flat, leaves, grad_outputs=eye, is_grads_batched=True,
                                   retain_graph=True, allow_unused=True)
    except RuntimeError:  # an operation without a batching rule: one row at a time; an
        # error here is PyTorch's own (a value saved for backward written in place), raised
        per_row = [torch.autograd.grad(flat, leaves, grad_outputs=e, retain_graph=True,
                                       allow_unused=True) for e in eye]
        rows = [None if any(r[k] is None for r in per_row) else
                torch.stack([r[k] for r in per_row]) for k in range(len(leaves))]
    return torch.cat([(torch.zeros(m, t.numel(), dtype=out.dtype) if r is None else
                       r.reshape(m, -1)) for r, t in zip(rows, leaves)], dim=1).detach()
