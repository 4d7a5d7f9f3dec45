"""The numeric stage: autograd at the point, in floats.

The forward pass, the vectorised Jacobian (the AD mode chosen by ``modes.choose_mode``),
``y.backward(v)`` itself on a fresh graph with every leaf's ``.grad`` read back, and per
command J u, H, H v and the finite differences of ``check``. torch is imported by this stage
only, and only when there is a point.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from jacli.analysis.directions import Directions, directions
from jacli.analysis.prepare import Setup
from jacli.analysis.literals import literal_free
from jacli.analysis import modes
from jacli.analysis.modes import choose_mode, strategy_text
from jacli.errors import LimitError
from jacli.request.lazy import all_finite
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.result import Floats
from jacli.runtime.lru import Lru


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
    warned: list[str] = field(default_factory=list)  # PyTorch's warnings, said as notices
    strategy: str | None = None
    choice: tuple[str, str, str] | None = None  # choose_mode's (mode, implementation, reason)


def numeric(problem: Problem, setup: Setup) -> Numeric:
    """The numeric stage; what PyTorch warns of on the way (``std`` of one element, a loss
    whose target broadcasts) is kept for the notices, never printed from inside jacli."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        num = _numeric(problem, setup)
    num.warned = list(dict.fromkeys(_said(w) for w in caught if issubclass(w.category,
                                                                           UserWarning)))
    return num


def _said(w: warnings.WarningMessage) -> str:
    """A warning's first sentence, without where inside torch it was raised."""
    text = str(w.message).split("\n")[0].split(" (Triggered internally at")[0]
    return "PyTorch warns: " + text


def _numeric(problem: Problem, setup: Setup) -> Numeric:
    from jacli.analysis import autograd as ag  # torch is imported by the numeric stage only
    from jacli.backends.tensors import TorchBackend

    B = TorchBackend(problem.dtype, problem.device)
    point = B.point(setup.point)
    n = sum(point[w].numel() for w in setup.wrt)
    y, J, choice = _value_and_jacobian(problem, setup, ag, B, point, n)
    num = Numeric(tuple(y.shape), y.reshape(-1).tolist())
    num.d = directions(problem, setup, num.out_shape, n)
    if y.numel() * n > problem.limits.jacobian_entries:
        _too_big(problem, y.numel() * n)
    else:
        tensors = any(point[w].dim() > 0 for w in setup.wrt)
        num.choice = mode, impl, why = choice or _choose(
            problem, setup, y.numel(), n, tensors, _lanes(ag, setup, B, point, tensors))
        J = J if J is not None else ag.jacobian(setup.program, B, point, setup.wrt, impl)
        if mode == "fwd" and problem.mode == "auto" and not all_finite(J):
            num.choice = mode, impl, why = ("rev", _REVERSE[impl], _NOT_FINITE)
            J = ag.jacobian(setup.program, B, point, setup.wrt, impl)
        num.strategy = strategy_text(mode, impl, why)
        num.J = Floats(J)
    if num.d.v is not None:
        _backward(num, ag, B, setup, point)
    vec = lambda xs: B.tensor(_fractions(xs))  # noqa: E731
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


# Forward mode chosen for speed gives way to reverse mode, PyTorch's reference (what
# ``backward`` and ``AF.jacobian`` compute), where its J holds a NaN or an infinity: the
# modes part where a product meets 0·∞ (``x**y`` at x = -2: forward mode's ∂/∂x is
# 4·log(-2)·0 = NaN, reverse mode's is y·x**(y-1) = -4).
_REVERSE = {"af_fwd": "af_rev", "jvp_vmap": "vjp_vmap"}
_NOT_FINITE = ("forward mode's J held a NaN or an infinity, so J was computed again in "
               "reverse mode, as backward() and autograd.functional.jacobian compute it")


SHAPES = Lru(64)  # the output's shape by program and input shapes: see _value_and_jacobian


def _value_and_jacobian(problem: Problem, setup: Setup, ag, B, point, n: int):
    """(y, J or None, choice or None). Once a program's output shape is known for these
    input shapes (the API in a loop, batch), J comes first and y from its own forward pass
    (reverse mode runs f once, unbatched): no second forward (0.03–0.08 ms of a small
    request). Otherwise y alone, and the caller checks the size, then computes J."""
    key = (id(setup.program), tuple(setup.shapes.items()), tuple(setup.wrt))
    known = SHAPES.get(key)
    if known is not None and known[0] is setup.program:
        shape, m = known[1], math.prod(known[1])
        choice, lanes = _known_choice(known[2], problem, setup, ag, B, point, m, n)
        if m * n <= problem.limits.jacobian_entries and choice[1] in ag.KEEPS_VALUE:
            kept: list = []
            J = ag.jacobian(setup.program, B, point, setup.wrt, choice[1], keep=kept,
                            lanes=lanes)
            if kept and kept[0].numel() == m:
                return kept[0].detach().reshape(shape), J, choice
    y = ag.value(setup.program, B, point)
    SHAPES.put(key, (setup.program, tuple(y.shape), {}))
    return y, None, None


def _known_choice(chosen: dict, problem: Problem, setup: Setup, ag, B, point, m: int, n: int):
    """``(choice, lanes)``: ``_choose``'s answer for a program and input shapes seen before,
    and whether the program runs in lanes, kept in ``chosen`` (the ``SHAPES`` entry's) by
    what else they read: the requested mode, whether the process is warm, the backend. Asking
    afresh (the lanes plan's lookup, the rule, its reason's text) cost a small request
    ~7 µs."""
    key = (problem.mode, modes.warm_process(), B.share_key)  # (the plan is the backend's)
    found = chosen.get(key)
    if found is None:
        tensors = any(point[w].dim() > 0 for w in setup.wrt)
        lanes = _lanes(ag, setup, B, point, tensors)
        found = chosen[key] = (_choose(problem, setup, m, n, tensors, lanes), lanes)
    return found


def _choose(problem: Problem, setup: Setup, m: int, n: int, tensors: bool, lanes: bool):
    return choose_mode(m, n, problem.mode, tensors, literals=not literal_free(setup.program),
                       lanes=lanes)


def _lanes(ag, setup: Setup, B, point, tensors: bool) -> bool:
    """Whether J's function runs in lanes (which changes the rule: ``choose_mode``)."""
    return not tensors and ag.in_lanes(setup.program, B, point, setup.wrt) is not None


def _too_big(problem: Problem, entries: int) -> None:
    """A J too large to print: refused for ``jacobian``/``check``; other commands go on."""
    if problem.command in (C.jacobian, C.check):
        raise LimitError(f"the Jacobian has {entries} entries; the limit is "
                         f"{problem.limits.jacobian_entries}",
                         hint="vjp (vᵀJ) and jvp (J u) need no full Jacobian")


def _fractions(xs) -> list[Fraction]:
    """v's or u's exact entries as Fractions (the torch side rounds each once). SymPy
    (``pack.to_fraction``) only for an entry that is not one already (``pi/4``): the
    numeric stage of a plain request imports no SymPy."""
    if all(isinstance(x, Fraction) for x in xs):
        return list(xs)
    from jacli.analysis.pack import to_fraction

    return [to_fraction(x) for x in xs]


def _backward(num: Numeric, ag, B, setup: Setup, point: dict) -> None:
    """``y.backward(v)`` on a fresh graph; read every leaf's ``.grad``."""
    v = B.tensor(_fractions(num.d.v))
    _, info = ag.backward(setup.program, B, point, v)
    num.grads = {k: g.tolist() for k, g in info["grads"].items()}
    num.grad_repr = {k: ag.torch_repr(g) for k, g in info["grads"].items()}
    num.untouched = info["untouched"]
    num.vjp = [x for w in setup.wrt for x in info["grads"][w].reshape(-1).tolist()]
