"""Size bounds for the script machine and the typed interpreter: a tensor-making call whose
result would pass the element limit is refused before PyTorch allocates it
(``torch.ones(10**5, 10**5)`` is 40 GB, ``F.pad(x, (10**9, 0))`` 8 GB), and every result is
checked after (broadcasting can grow a tensor too)."""

from __future__ import annotations

import math
from typing import Any

import torch

from jacli.errors import LimitError

_SHAPED = {"zeros", "ones", "empty", "rand", "randn", "full", "new_zeros", "new_ones",
           "new_full", "new_empty", "expand", "broadcast_to", "view", "reshape", "normal"}
_SCALED = {"repeat", "tile"}  # the owner's elements times the arguments' product


def check_call(name: str, owner: Any, args: list, kwargs: dict, limit: int, line: int) -> None:
    """Refuse ``name(*args)`` when its result would hold more than ``limit`` elements."""
    short = name.rsplit(".", 1)[-1]
    size = None
    if short in _SHAPED:
        shape_args = args[:1] if short in ("full", "new_full") else args
        if short == "normal":
            shape_args = [kwargs.get("size", args[2] if len(args) > 2 else ())]
        size = _product(shape_args if "size" not in kwargs else [kwargs["size"]])
    elif short == "randint":
        shape = kwargs.get("size", next((a for a in args if isinstance(a, (tuple, list,
                                                                            torch.Size))), ()))
        size = _product([shape])
    elif short == "eye":
        ints = [a for a in args if isinstance(a, int)]
        size = ints[0] * (ints[1] if len(ints) > 1 else ints[0]) if ints else None
    elif short in ("arange", "linspace", "logspace", "randperm"):
        size = _range_size(short, args, kwargs)
    elif short in _SCALED and isinstance(owner, torch.Tensor):
        size = owner.numel() * (_product(args) or 1)
    elif short in ("kron", "outer", "ger"):
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        size = math.prod(t.numel() for t in tensors) if len(tensors) == 2 else None
    elif short == "pad":
        size = _padded(args[0] if args else None, kwargs.get("pad", args[1] if len(args) > 1
                                                              else None))
    if size is not None and size > limit:
        raise LimitError(f"{name}(...) would make a tensor of {size:.3g} elements; the limit is "
                         f"{limit}", line=line, hint="use smaller tensors")


def _padded(x: Any, pad: Any) -> int | None:
    """The elements of ``F.pad(x, pad)``: pad's pairs widen x's last dims, the last first."""
    if not isinstance(x, torch.Tensor) or not isinstance(pad, (tuple, list)) or \
            not all(isinstance(p, int) for p in pad) or len(pad) // 2 > x.dim():
        return None
    shape = list(x.shape)
    for k in range(len(pad) // 2):
        shape[-1 - k] += pad[2 * k] + pad[2 * k + 1]
    return math.prod(max(n, 0) for n in shape)


def check_result(out: Any, limit: int, line: int) -> None:
    if isinstance(out, torch.Tensor) and out.numel() > limit:
        raise LimitError(f"a tensor of {out.numel():.3g} elements; the limit is {limit}",
                         line=line, hint="use smaller tensors")


def _product(args) -> int | None:
    ints: list[int] = []
    for a in args:
        if isinstance(a, bool):
            continue
        if isinstance(a, int):
            ints.append(a)
        elif isinstance(a, (tuple, list, torch.Size)):
            ints.extend(x for x in a if isinstance(x, int) and not isinstance(x, bool))
    return math.prod(abs(i) for i in ints) if ints else None


def _range_size(short: str, args, kwargs) -> int | None:
    numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    if short in ("linspace", "logspace"):
        steps = kwargs.get("steps", numbers[2] if len(numbers) > 2 else None)
        return int(steps) if isinstance(steps, (int, float)) else None
    if short == "randperm":
        return int(numbers[0]) if numbers else None
    start, end, step = 0, None, kwargs.get("step", 1)
    if len(numbers) == 1:
        end = numbers[0]
    elif len(numbers) >= 2:
        start, end = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) > 2 else step
    end = kwargs.get("end", end)
    if end is None or not step:
        return None
    return max(0, math.ceil((end - start) / step)) if math.isfinite(end - start) else None


ITEMS = 1_000_000  # one Python list, range or string a builtin may walk or build
INT_BITS = 100_000  # one Python integer


def check_python(name: str, args: list, line: int) -> None:
    """Builtins over huge ranges (``list(range(10**12))``, ``sum(range(10**12))``) would
    build or walk for ever: refused before they start."""
    if "." in name:
        return
    for a in args:
        if isinstance(a, (range, list, tuple, str, dict, set)) and len(a) > ITEMS:
            raise LimitError(f"{name}() over {len(a):.3g} items; the limit is {ITEMS}",
                             line=line, hint="shorten the range")


def check_operands(op: str, a: Any, b: Any, line: int) -> None:
    """Python arithmetic that would not finish or fill memory: ``10**10**10``, ``"a" * 10**10``,
    ``[0] * 10**12``."""
    if op == "**" and isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and \
            b * max(abs(a), 2).bit_length() > INT_BITS:
        raise LimitError(f"{a} ** {b} is too large a number", line=line,
                         hint="use floats, or smaller exponents")
    if op == "*":
        for seq, k in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and isinstance(k, int) and \
                    len(seq) * k > ITEMS:
                raise LimitError(f"a sequence of {len(seq) * k:.3g} items; the limit is {ITEMS}",
                                 line=line)
    for x in (a, b):
        if isinstance(x, int) and x.bit_length() > INT_BITS:
            raise LimitError("a Python integer past 100 000 bits", line=line)
