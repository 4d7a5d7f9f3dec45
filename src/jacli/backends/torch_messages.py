"""Shape refusals in PyTorch's words: the messages torch 2.x gives for the same shapes.

The symbolic side computes with NumPy, whose messages name gufunc signatures and arrays; a
user wrote PyTorch, so a shape NumPy refuses is refused with torch's message (tests compare
the two), and a shape torch refuses but NumPy would take (``mm`` of a vector) is refused too.
Pure functions of shapes: ``None`` means torch accepts them.
"""

from __future__ import annotations

import numpy as np


def size_mismatch(n: int, k: int) -> str:
    return (f"inconsistent tensor size, expected tensor [{n}] and src [{k}] to have the same "
            f"number of elements, but got {n} and {k} elements respectively")

def broadcast_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> str | None:
    """torch's message when shapes ``sa`` and ``sb`` do not broadcast (``None`` if they
    do). Like torch, the last mismatching dimension of the result is the one named."""
    n = max(len(sa), len(sb))
    for d in range(n - 1, -1, -1):
        i, j = d - (n - len(sa)), d - (n - len(sb))
        x, y = (sa[i] if i >= 0 else 1), (sb[j] if j >= 0 else 1)
        if x != y and x != 1 and y != 1:
            return (f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {d}")
    return None

def matmul_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> str | None:
    """torch.matmul's message for operands of shapes ``sa`` and ``sb`` (``None``: fine).
    Past 2-D, torch's wording depends on how it folds the operands (strides, requires_grad):
    these are its words for plain contiguous tensors."""
    if not sa or not sb:
        return (f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D "
                f"and {len(sb)}D")
    if len(sa) == 1 and len(sb) == 1:
        return None if sa == sb else size_mismatch(sa[0], sb[0])
    if len(sb) <= 2 and len(sa) >= 2:  # torch folds a's leading dimensions into rows
        rows = int(np.prod(sa[:-1], dtype=np.int64))
        if len(sb) == 1:
            return None if sa[-1] == sb[0] else \
                f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
        return None if sa[-1] == sb[0] else (f"mat1 and mat2 shapes cannot be multiplied "
                                              f"({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
    if len(sa) == 1 and len(sb) == 2:
        return None if sa[0] == sb[0] else (f"mat1 and mat2 shapes cannot be multiplied "
                                             f"(1x{sa[0]} and {sb[0]}x{sb[1]})")
    if len(sa) == 1 and (sb[-2] == 1 or 0 in sb):  # torch folds b's transpose into rows
        rows = int(np.prod(sb[:-2], dtype=np.int64)) * sb[-1]
        return None if sa[0] == sb[-2] else \
            f"size mismatch, got input ({rows}), mat ({rows}x{sb[-2]}), vec ({sa[0]})"
    batch_a, batch_b = sa[:-2], sb[:-2]
    message = broadcast_error(batch_a, batch_b)
    if message is not None:
        return message
    batch = int(np.prod(np.broadcast_shapes(batch_a, batch_b), dtype=np.int64))
    k, kb = sa[-1], sb[-2]
    return None if k == kb else (f"Expected size for first two dimensions of batch2 tensor to "
                                 f"be: [{batch}, {k}] but got: [{batch}, {kb}].")

def reshape_error(size: int, shape: tuple[int, ...]) -> str | None:
    """torch's message when ``view``/``reshape`` to ``shape`` cannot hold ``size`` elements."""
    text = "[" + ", ".join(map(str, shape)) + "]"
    inferred = False
    for i, d in enumerate(shape):  # left to right, as torch checks them
        if d == -1 and inferred:
            return "only one dimension can be inferred"
        if d < -1:
            return f"invalid shape dimension {d} at index {i} of shape {text}"
        inferred = inferred or d == -1
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if -1 in shape and known == 0:
        if size == 0:
            return (f"cannot reshape tensor of 0 elements into shape {text} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous")
        return f"shape '{text}' is invalid for input of size {size}"
    if (size % known if -1 in shape else size != known):
        return f"shape '{text}' is invalid for input of size {size}"
    return None

def check_dim(dim: int | None, ndim: int) -> None:
    """torch's refusal of a dimension out of range for a tensor of ``ndim`` dimensions (a 0-d
    tensor takes 0 and -1)."""
    n = max(ndim, 1)
    if dim is not None and not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")

def expand_error(src: tuple[int, ...], target: tuple[int, ...]) -> str | None:
    """torch's message when a value of shape ``src`` cannot be written into a region of
    shape ``target`` (``x[i] = v``; leading 1s of ``src`` are dropped, as torch does)."""
    while src and src[0] == 1:
        src = src[1:]
    shown = lambda shape: "[" + ", ".join(map(str, shape)) + "]"  # noqa: E731
    if len(src) > len(target):
        return (f"expand(torch.DoubleTensor{{{shown(src)}}}, size={shown(target)}): the number "
                f"of sizes provided ({len(target)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({len(src)})")
    for i in range(len(target) - 1, -1, -1):
        j = i - (len(target) - len(src))
        if j >= 0 and src[j] != target[i] and src[j] != 1:
            return (f"The expanded size of the tensor ({target[i]}) must match the existing "
                    f"size ({src[j]}) at non-singleton dimension {i}.  Target sizes: "
                    f"{shown(target)}.  Tensor sizes: {shown(src)}")
    return None
