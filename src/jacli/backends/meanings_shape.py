"""Meanings of the wider vocabulary's shape functions and ``*_like`` constructors (see
``language.vocabulary``): NumPy's own operations on object arrays where they agree with
PyTorch's (``flip``, ``roll``, ``repeat`` as ``tile``), explicit loops where they do not
(``chunk`` sizes, ``gather``'s smaller index, ``pad``'s last-dim-first order).
"""

from __future__ import annotations

import math

import numpy as np

from jacli.backends.lazy import torch, sympy as sp, object_arrays as oa, sym_extra as sx
from jacli.backends.meanings_pointwise import fl
from jacli.backends.torch_messages import check_dim
from jacli.language.signatures import shape_arg


def _permute(B, a, *dims):
    dims = shape_arg(dims)
    if len(dims) != np.ndim(a):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {np.ndim(a)} is not equal to len(dims) = {len(dims)}")
    for d in dims:
        check_dim(d, np.ndim(a))
    return oa.obj(np.transpose(np.asarray(a), [d % max(np.ndim(a), 1) for d in dims]))


def _expand(B, a, *size):
    size = shape_arg(size)
    a = np.asarray(a)
    if len(size) < a.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(size)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({a.ndim})")
    lead = len(size) - a.ndim
    shape = tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(size))
    return oa.obj(np.broadcast_to(a, shape).copy())


def _repeat(B, a, *repeats):
    repeats = shape_arg(repeats)
    if len(repeats) < np.ndim(a):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return oa.obj(np.tile(np.asarray(a), repeats))


def _flip(B, a, *dims):
    dims = shape_arg(dims)
    for d in dims:
        check_dim(d, np.ndim(a))
    return oa.obj(np.flip(np.asarray(a), axis=tuple(dims)).copy()) if np.ndim(a) else a


def _roll(B, a, shifts, dims=None):
    return oa.obj(np.roll(np.asarray(a), shifts, axis=dims))


def _slice(a, dim, start, stop):
    index = [slice(None)] * np.ndim(a)
    index[dim] = slice(start, stop)
    return oa.obj(np.asarray(a)[tuple(index)].copy())


def _narrow(B, a, dim, start, length):
    check_dim(dim, np.ndim(a))
    n = np.shape(a)[dim]
    start = start + n if start < 0 else start
    if not (0 <= start and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice(a, dim, start, start + length)


def _pieces(a, dim, sizes, pick):
    check_dim(dim, np.ndim(a))
    starts = np.cumsum([0] + list(sizes))
    bounds = list(zip(starts[:-1], starts[1:]))
    if not -len(bounds) <= pick < len(bounds):
        raise IndexError("tuple index out of range")
    start, stop = bounds[pick]
    return _slice(a, dim, int(start), int(stop))


def _chunk(B, a, chunks, dim=0, pick=0):
    n = np.shape(a)[dim] if np.ndim(a) else 0
    size = math.ceil(n / chunks) if n else 0
    sizes = [min(size, n - s) for s in range(0, n, size)] if size else [0]
    return _pieces(a, dim, sizes, pick)


def _split(B, a, split_size_or_sections, dim=0, pick=0):
    n = np.shape(a)[dim]
    if isinstance(split_size_or_sections, tuple):
        if sum(split_size_or_sections) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {dim}), but got "
                               f"split_sizes={list(split_size_or_sections)}")
        return _pieces(a, dim, split_size_or_sections, pick)
    s = split_size_or_sections
    return _pieces(a, dim, [min(s, n - i) for i in range(0, n, s)] or [0], pick)


def _unbind(B, a, dim=0, pick=0):
    check_dim(dim, np.ndim(a))
    moved = np.moveaxis(np.asarray(a), dim, 0)
    return oa.obj(moved[pick].copy())


def _gather(B, a, dim, index):
    a, index = np.asarray(a), np.asarray(index)
    check_dim(dim, a.ndim)
    if index.ndim != max(a.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    out = np.empty(index.shape, dtype=object)
    for idx in np.ndindex(*index.shape):
        source = list(idx)
        source[dim] = int(index[idx])
        out[idx] = a[tuple(source)]
    return oa.obj(out)


def _index_select(B, a, dim, index):
    check_dim(dim, np.ndim(a))
    index = index if isinstance(index, tuple) else (index,)
    return oa.obj(np.take(np.asarray(a), list(index), axis=dim))


def _masked_fill(B, a, mask, value):
    fill = sx.q(value)
    pick = np.frompyfunc(lambda m, x: sp.Piecewise((fill, m), (x, True)), 2, 1)
    out = pick(np.broadcast_to(np.asarray(mask), np.shape(a)), np.asarray(a))
    return oa.obj(out)


def _pad(B, a, pad, mode="constant", value=0):
    if mode != "constant":
        raise RuntimeError(f"pad: mode {mode!r} is not supported here (only 'constant')")
    a = np.asarray(a)
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise RuntimeError("Padding length must be divisible by 2 and at most twice the "
                           "number of dimensions of the input")
    widths = [(0, 0)] * a.ndim
    for k in range(len(pad) // 2):  # pairs start at the last dim
        widths[a.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, a.shape))
    grown = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    fill = sx.q(value)
    out = np.full(tuple(n - max(-lo, 0) - max(-hi, 0) + g[0] + g[1]
                        for (lo, hi), n, g in zip(widths, a.shape, grown)), fill, dtype=object)
    out[tuple(slice(g[0], g[0] + c.stop - c.start) for g, c in zip(grown, crop))] = a[crop]
    return oa.obj(out)


def _like(value):
    def sym(B, a, fill_value=None, **_):
        if value is None:
            return B.random(np.shape(a))
        out = np.empty(np.shape(a), dtype=object)
        out.fill(sx.q(value if fill_value is None else fill_value))
        return oa.obj(out)

    def run(B, x, fill_value=None, **_):
        if value is None:
            return B.random(tuple(x.shape))
        return B.full(tuple(x.shape), fl(value if fill_value is None else fill_value))

    return sym, run


def _meanings(Meaning) -> dict:
    M = lambda f, name: Meaning(f, lambda B, x, *a, **kw: getattr(x, name)(*a, **kw))  # noqa
    rows = {
        "permute": M(_permute, "permute"),
        "expand": M(_expand, "expand"),
        "repeat": M(_repeat, "repeat"),
        "flip": Meaning(_flip, lambda B, x, *dims: x.flip(shape_arg(dims))),
        "roll": M(_roll, "roll"),
        "narrow": M(_narrow, "narrow"),
        "chunk": Meaning(_chunk, lambda B, x, chunks, dim=0, pick=0: x.chunk(chunks, dim)[pick]),
        "split": Meaning(_split, lambda B, x, split_size_or_sections, dim=0, pick=0: x.split(
            list(split_size_or_sections) if isinstance(split_size_or_sections, tuple)
            else split_size_or_sections, dim)[pick]),
        "unbind": Meaning(_unbind, lambda B, x, dim=0, pick=0: x.unbind(dim)[pick]),
        "gather": Meaning(_gather, lambda B, x, dim, index: torch.gather(
            x, dim, torch.tensor(index, device=x.device))),
        "index_select": Meaning(_index_select, lambda B, x, dim, index: torch.index_select(
            x, dim, torch.tensor(index if isinstance(index, tuple) else (index,),
                                 device=x.device))),
        "masked_fill": Meaning(_masked_fill, lambda B, x, mask, value: x.masked_fill(
            mask, fl(value))),
        "pad": Meaning(_pad, lambda B, x, pad, mode="constant", value=0: torch.nn.functional.pad(
            x, list(pad), mode, fl(value))),
    }
    for stem, value in (("zeros", 0), ("ones", 1), ("full", 0), ("randn", None),
                        ("rand", None), ("empty", None)):
        rows[f"{stem}_like"] = Meaning(*_like(value))
    return rows
