"""The directions a command multiplies J (or H) by: ``v`` for vᵀJ, ``u`` for J u.

``v_for`` decides ``v`` the way PyTorch's ``y.backward(v)`` does: a scalar output needs none,
a non-scalar output without one is refused with the shape it must have.
"""

from __future__ import annotations

import math
from fractions import Fraction

from jacli.errors import ShapeError
from jacli.result.labels import shape_text


def v_for(command: str, v: list | None, v_shape: tuple[int, ...] | None,
          out_shape: tuple[int, ...], label: str) -> list | None:
    """The flat weight vector ``v`` (exact values), or ``None`` for a plain Jacobian.

    ``grad`` is ``backward()`` on a scalar (v = 1); ``vjp`` without ``v`` is refused for a
    non-scalar output exactly as PyTorch refuses it, naming the shape ``v`` needs. ``v`` must
    have the output's shape or its flattened length.
    """
    numel = math.prod(out_shape)
    if command == "grad":
        if numel != 1:
            raise ShapeError(f"grad needs a scalar output; {label} has shape {shape_text(out_shape)}",
                             hint=f"use `jacli vjp ... --v` with shape {shape_text(out_shape)}, "
                             "or reduce the output (sum, mean)")
        return [Fraction(1)]
    if v is None:
        if command == "vjp" and numel == 1:
            return [Fraction(1)]
        if command == "vjp":
            raise ShapeError(f"grad can be implicitly created only for scalar outputs: {label} has "
                             f"shape {shape_text(out_shape)}",
                             hint=f"give --v with shape {shape_text(out_shape)}, e.g. --v "
                             f"{','.join(['1'] * min(numel, 8))}{',...' if numel > 8 else ''}",
                             where="--v")
        return None
    if len(v) != numel:
        raise ShapeError(f"v has shape {shape_text(v_shape or (len(v),))} but {label} has shape "
                         f"{shape_text(out_shape)}",
                         hint=f"v needs shape {shape_text(out_shape)} ({numel} numbers)", where="--v")
    return v
