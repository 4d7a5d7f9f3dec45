"""The directions a command multiplies J (or H) by: ``v`` for vᵀJ, ``u`` for J u, and the
Hessian's ``v`` for H v, checked against the output's and the inputs' sizes.

``v_for`` decides ``v`` the way PyTorch's ``y.backward(v)`` does: a scalar output needs none,
a non-scalar output without one is refused with the shape it must have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from jacli.analysis.prepare import Setup
from jacli.errors import ShapeError
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.request.values import flatten, shape_of
from jacli.result.labels import shape_text


def v_for(command: str, v: list | None, v_shape: tuple[int, ...] | None,
          out_shape: tuple[int, ...], label: str) -> list | None:
    """The flat weight vector ``v`` (exact values), or ``None`` for a plain Jacobian.

    ``grad`` is ``backward()`` on a scalar (v = 1); ``vjp`` without ``v`` is refused for a
    non-scalar output exactly as PyTorch refuses it, naming the shape ``v`` needs. ``v`` must
    have the output's shape or its flattened length.
    """
    numel = math.prod(out_shape)
    if command == C.grad:
        if numel != 1:
            raise ShapeError(f"grad needs a scalar output; {label} has shape {shape_text(out_shape)}",
                             hint=f"use `jacli vjp ... --v` with shape {shape_text(out_shape)}, "
                             "or reduce the output (sum, mean)")
        return [Fraction(1)]
    if v is None:
        if command == C.vjp and numel == 1:
            return [Fraction(1)]
        if command == C.vjp:
            raise ShapeError(f"grad can be implicitly created only for scalar outputs: {label} has "
                             f"shape {shape_text(out_shape)}",
                             hint=f"give --v with shape {shape_text(out_shape)}, e.g. --v "
                             f"{','.join(['1'] * min(numel, 8))}{',...' if numel > 8 else ''}",
                             where="--v")
        return None
    if len(v) != numel or (v_shape is not None and len(v_shape) > 1 and
                           tuple(v_shape) != tuple(out_shape)):  # nested: PyTorch's shape
        raise ShapeError(f"v has shape {shape_text(v_shape or (len(v),))} but {label} has shape "
                         f"{shape_text(out_shape)}",
                         hint=f"v needs shape {shape_text(out_shape)} ({numel} numbers)", where="--v")
    return v


@dataclass
class Directions:
    """The vectors a command multiplies J (or H) by, as exact flat lists."""

    v: list | None = None  # vᵀJ: one entry per output
    u: list | None = None  # J u: one entry per input
    hv: list | None = None  # H v: one entry per input


def directions(problem: Problem, setup: Setup, out_shape: tuple[int, ...], n: int) -> Directions:
    """v, u and the Hessian's direction, checked against the output and input sizes."""
    label = setup.program.output_label
    if problem.command == C.hessian:
        if int(np.prod(out_shape, dtype=np.int64)) != 1:
            raise ShapeError(f"hessian needs a scalar output; {label} has shape "
                             f"{shape_text(out_shape)}", hint="reduce it (sum, mean) first")
        return Directions(hv=input_vector(setup.v, "--v", n) if setup.v is not None else None)
    d = Directions(v=v_for(problem.command, *_raw_v(setup), out_shape, label))
    if problem.command == C.jvp:
        if setup.u is None:
            raise missing_u(n)
        d.u = input_vector(setup.u, "--u", n)
    return d


def input_vector(value, where: str, n: int) -> list:
    flat = flatten(value)
    if len(flat) != n:
        raise ShapeError(f"{where} has {len(flat)} number(s) but there are {n} inputs",
                         hint=f"{where} needs one number per input ({n})", where=where)
    return flat


def _raw_v(setup: Setup) -> tuple[list | None, tuple[int, ...] | None]:
    """v from ``--v``, else from the program's ``backward(v)``, as exact flat values."""
    if setup.v is not None:
        return flatten(setup.v), shape_of(setup.v, "--v")
    if setup.program.v is None:
        return None, None
    from jacli.backends.symbolic import SymbolicBackend  # here: precheck reads this module
    from jacli.runtime.interpret import run  # before SymPy may be imported

    B = SymbolicBackend()
    bindings = {k: B.exact(val) if setup.point else B.variable(k, setup.shapes[k])
                for k, val in (setup.point or dict.fromkeys(setup.variables)).items()}
    value = np.asarray(run(setup.program, B, bindings, node=setup.program.v))
    return list(value.flat), value.shape


def missing_u(n: int) -> ShapeError:
    """jvp without ``--u``: the direction it needs, one number per input."""
    return ShapeError("jvp needs --u: the direction, one number per input",
                      hint=f"e.g. --u {','.join(['1'] * min(n, 8))} ({n} inputs)", where="--u")
