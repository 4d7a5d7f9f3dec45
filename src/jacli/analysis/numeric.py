"""The numeric stage: autograd at the point, in floats.

The forward pass, the vectorised Jacobian (the AD mode chosen by ``structure.choose_mode``),
``y.backward(v)`` itself on a fresh graph with every leaf's ``.grad`` read back, and per
command J u, H, H v and the finite differences of ``check``. torch is imported by this stage
only, and only when there is a point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jacli.analysis import pack
from jacli.analysis.directions import Directions, directions
from jacli.analysis.prepare import Setup
from jacli.analysis.literals import literal_free
from jacli.analysis.structure import choose_mode, strategy_text
from jacli.errors import LimitError
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.result import Floats


@dataclass
class Numeric:
    """Autograd's side: floats, flat row-major."""

    out_shape: tuple[int, ...]
    value: list[float]
    d: Directions = field(default_factory=Directions)
    J: Floats | None = None  # the (m, n) tensor, listed when read
    vjp: list[float] | None = None
    grads: dict[str, Any] = field(default_factory=dict)
    grad_repr: dict[str, str] = field(default_factory=dict)
    untouched: list[str] = field(default_factory=list)
    jvp: list[float] | None = None
    H: list[list[float]] | None = None
    hvp: list[float] | None = None
    fd: Any = None
    strategy: str | None = None
    choice: tuple[str, str, str] | None = None  # choose_mode's (mode, implementation, reason)


def numeric(problem: Problem, setup: Setup) -> Numeric:
    from jacli.analysis import autograd as ag  # torch is imported by the numeric stage only
    from jacli.backends.tensors import TorchBackend

    B = TorchBackend(problem.dtype, problem.device)
    point = B.point(setup.point)
    y = ag.value(setup.program, B, point)
    n = sum(point[w].numel() for w in setup.wrt)
    num = Numeric(tuple(y.shape), y.reshape(-1).tolist())
    num.d = directions(problem, setup, num.out_shape, n)
    if y.numel() * n > problem.limits.jacobian_entries:
        _too_big(problem, y.numel() * n)
    else:
        tensors = any(point[w].dim() > 0 for w in setup.wrt)
        num.choice = mode, impl, why = choose_mode(y.numel(), n, problem.mode, tensors,
                                                   literals=not literal_free(setup.program))
        num.strategy = strategy_text(mode, impl, why)
        num.J = Floats(ag.jacobian(setup.program, B, point, setup.wrt, impl))
    if num.d.v is not None:
        _backward(num, ag, B, setup, point)
    vec = lambda xs: B.tensor([pack.to_fraction(x) for x in xs])  # noqa: E731
    if num.d.u is not None:
        num.jvp = ag.jvp(setup.program, B, point, setup.wrt, vec(num.d.u)).tolist()
    if problem.command == C.hessian:
        num.H = ag.hessian(setup.program, B, point, setup.wrt).tolist()
        if num.d.hv is not None:
            num.hvp = ag.hvp(setup.program, B, point, setup.wrt, vec(num.d.hv)).tolist()
    if problem.command == C.check:
        from jacli.analysis.finite_differences import finite_differences

        num.fd = finite_differences(setup.program, point, setup.wrt)
    return num


def _too_big(problem: Problem, entries: int) -> None:
    """A J too large to print: refused for ``jacobian``/``check``; other commands go on."""
    if problem.command in (C.jacobian, C.check):
        raise LimitError(f"the Jacobian has {entries} entries; the limit is "
                         f"{problem.limits.jacobian_entries}",
                         hint="vjp (vᵀJ) and jvp (J u) need no full Jacobian")


def _backward(num: Numeric, ag, B, setup: Setup, point: dict) -> None:
    """``y.backward(v)`` on a fresh graph; read every leaf's ``.grad``."""
    v = B.tensor([pack.to_fraction(x) for x in num.d.v])
    _, info = ag.backward(setup.program, B, point, v)
    num.grads = {k: g.tolist() for k, g in info["grads"].items()}
    num.grad_repr = {k: ag.torch_repr(g) for k, g in info["grads"].items()}
    num.untouched = info["untouched"]
    num.vjp = [x for w in setup.wrt for x in info["grads"][w].reshape(-1).tolist()]
