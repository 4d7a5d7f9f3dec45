"""SymPy on NumPy object arrays: the tensor operations the symbolic backend computes with.

Values are object arrays of SymPy expressions (0-d for scalars), so broadcasting, ``@``,
reductions, reshapes and indexing follow the same rules as PyTorch; where NumPy would accept
a shape torch refuses, or word a refusal its own way, the operation raises torch's message
(``torch_messages``). Conventions chosen so that SymPy and autograd agree exactly away from
kinks and, where PyTorch has a convention at a kink, at the kink too:
  * ``abs``, ``sign``, ``maximum``, ``minimum`` are the real functions of ``piecewise``:
    abs'(x) = sign(x) with sign(0) = 0 like torch; a maximum/minimum tie splits 1/2, 1/2.
  * ``relu`` is its own SymPy function whose derivative is ``heaviside(x, 0)`` (0 at 0),
    matching torch's relu'(0) = 0. The true derivative is undefined at 0.
  * ``amax``/``amin`` (whole-tensor ``max()``/``min()``) are their own SymPy functions: a tie
    splits the gradient evenly among the tied elements, as torch's amax and max() do.
  * ``detach`` is its own SymPy function with derivative 0 whose value is its argument.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import sympy as sp
from sympy.core.logic import fuzzy_and

from jacli.backends.piecewise import RealFunction, eq, heaviside
from jacli.backends.torch_messages import (size_mismatch, broadcast_error, check_dim,
                                           matmul_error, reshape_error)
from jacli.errors import LimitError
from jacli.language.signatures import shape_arg

# NumPy 2 builds arrays of up to 64 dimensions but most of its functions (``.flat``, ufuncs,
# ``asarray``) stop at 32; torch goes to 64. A limit of this side, not an error of the input:
# raised as ``LimitError`` so the symbolic stage is skipped and PyTorch's numbers stand alone.
MAX_DIMS = 32


def within_dims(ndim: int) -> None:
    """Refuse (``LimitError``) a symbolic tensor of more than ``MAX_DIMS`` dimensions."""
    if ndim > MAX_DIMS:
        raise LimitError(f"a tensor of {ndim} dimensions exceeds the {MAX_DIMS} that NumPy's "
                         "object arrays hold",
                         hint="PyTorch goes to 64 dimensions; use --symbolic never to skip "
                              "SymPy")


class detach(sp.Function):
    """Gradient stop: the value flows through, the derivative is zero (like ``.detach()``)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):  # SymPy's Function.eval hook (auto-evaluation), not the builtin
        if arg.is_number:
            return arg
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class relu(RealFunction):
    """max(x, 0) with torch's convention relu'(0) = 0."""

    nargs = 1

    @staticmethod
    def number(arg):
        return sp.Max(arg, 0)

    def fdiff(self, argindex=1):
        return heaviside(self.args[0], 0)

    def _eval_is_extended_nonnegative(self):
        return True if self.args[0].is_extended_real else None  # unknown off the reals


class Extreme(sp.Function):
    """The largest (``pick``) argument, a number when all are real numbers; subclasses say
    how the gradient goes at a tie."""

    pick = sp.Max

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return args[0]
        if all(a.is_number and a.is_extended_real for a in args):
            return cls.pick(*args)
        return None


class _TieExtreme(Extreme):
    """``amax``/``amin``: at a tie the gradient is split evenly, as torch's ``amax`` does
    (SymPy's ``Max`` would give each of three tied arguments 1/2)."""

    def fdiff(self, argindex=1):
        if len(self.args) == 2:  # as maximum/minimum: a step that is 1/2 at a tie
            a, b = self.args if argindex == 1 else reversed(self.args)
            return heaviside(self.direction * (a - b), sp.Rational(1, 2))
        return eq(self.args[argindex - 1], self) / sp.Add(*(eq(a, self) for a in self.args))

    def _eval_is_extended_real(self):
        return fuzzy_and(a.is_extended_real for a in self.args)


class amax(_TieExtreme):
    pick = sp.Max
    direction = 1


class amin(_TieExtreme):
    pick = sp.Min
    direction = -1


def obj(value) -> np.ndarray:
    """Wrap a SymPy scalar (or an array) as an object ndarray; 0-d for scalars.

    NumPy returns bare objects from ufuncs on 0-d object arrays, so every symbolic result
    passes through here to stay an array.
    """
    if isinstance(value, np.ndarray):
        within_dims(value.ndim)
        return value if value.dtype == object else value.astype(object)
    out = np.empty((), dtype=object)
    if isinstance(value, int):  # never user text: internal ints/floats only, built explicitly
        value = sp.Integer(value)
    elif isinstance(value, float):
        value = sp.Float(value)
    out[()] = value
    return out


def elementwise(f: Callable) -> Callable:
    """Lift a SymPy scalar function to object arrays (any shape, 0-d included)."""
    ufunc = np.frompyfunc(f, 1, 1)
    return lambda B, x: obj(ufunc(x))


def binary_elementwise(f: Callable) -> Callable:
    ufunc = broadcasting(np.frompyfunc(f, 2, 1))
    return lambda B, x, y: obj(ufunc(x, y))


def reduce_along(combine: Callable, a, dim, keepdim):
    if isinstance(dim, tuple):  # several dims at once (torch's amax(dim=(0, 1)))
        return reduce_dims(lambda v: combine(*v), a, dim, keepdim)
    if dim is None:
        total = obj(combine(*a.flat))
        return total.reshape((1,) * a.ndim) if keepdim else total
    check_dim(dim, a.ndim)
    if a.ndim == 0:  # torch reduces a 0-d tensor along dim 0 or -1: its one element
        return obj(combine(a[()]))
    return obj(np.apply_along_axis(lambda v: combine(*v), dim, a)).reshape(
        _reduced_shape(a.shape, dim, keepdim)
    )


def _reduced_shape(shape, dim, keepdim):
    dim = dim % len(shape)
    return tuple(1 if i == dim else n for i, n in enumerate(shape) if keepdim or i != dim)


def mean(B, a, dim=None, keepdim=False):
    check_dim(dim, a.ndim)
    count = a.size if dim is None or a.ndim == 0 else a.shape[dim]
    return obj(reduce_along(sp.Add, a, dim, keepdim) * sp.Rational(1, count))


def norm(B, a):
    return obj(sp.sqrt(sp.Add(*(x**2 for x in a.flat))))


def dot(a, b):
    """dot of two 1-D arrays of equal length, refused otherwise exactly as torch.dot does."""
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise RuntimeError(f"1D tensors expected, but got {np.ndim(a)}D and {np.ndim(b)}D tensors")
    if np.shape(a) != np.shape(b):
        raise RuntimeError(size_mismatch(np.size(a), np.size(b)))
    return obj(sp.Add(*np.asarray(a * b).flat))


def broadcasting(f: Callable) -> Callable:
    """``f(a, b)`` on object arrays, with NumPy's broadcasting refusal in torch's words."""
    def run(a, b):
        try:
            return f(a, b)
        except ValueError:
            message = broadcast_error(np.shape(a), np.shape(b))
            if message is None:  # not a broadcasting problem: NumPy's error stands
                raise
            raise RuntimeError(message) from None

    return run

def matmul(a, b) -> np.ndarray:
    """``a @ b`` on object arrays: NumPy's matmul has torch.matmul's semantics; only its
    refusals are re-worded."""
    message = matmul_error(np.shape(a), np.shape(b))
    if message is not None:
        raise RuntimeError(message)
    return obj(np.matmul(a, b))

def mm(a, b) -> np.ndarray:
    """torch.mm: matrices only."""
    if np.ndim(a) != 2:
        raise RuntimeError("self must be a matrix")
    if np.ndim(b) != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b)

def mv(a, b) -> np.ndarray:
    """torch.mv: a matrix and a vector only."""
    if np.ndim(a) == 0:
        raise RuntimeError("Dimension specified as 0 but tensor has no dimensions")
    if np.ndim(a) != 2 or np.ndim(b) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {np.ndim(a)}, "
                           f"{np.ndim(b)}")
    return matmul(a, b)

def reshape(a, *shape) -> np.ndarray:
    shape = shape_arg(shape)
    message = reshape_error(np.size(a), shape)
    if message is not None:
        raise RuntimeError(message)
    return obj(np.reshape(a, shape))

def transpose(a, dim0, dim1) -> np.ndarray:
    check_dim(dim0, np.ndim(a))
    check_dim(dim1, np.ndim(a))
    return obj(np.swapaxes(a, dim0, dim1)) if np.ndim(a) else a

def unsqueeze(a, dim) -> np.ndarray:
    check_dim(dim, np.ndim(a) + 1)
    within_dims(np.ndim(a) + 1)
    return obj(np.expand_dims(a, dim))

def stack(seq, dim=0) -> np.ndarray:
    for i, item in enumerate(seq[1:], 1):
        if np.shape(item) != np.shape(seq[0]):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(np.shape(seq[0]))} at entry 0 and {list(np.shape(item))} "
                               f"at entry {i}")
    check_dim(dim, np.ndim(seq[0]) + 1)
    within_dims(np.ndim(seq[0]) + 1)
    return obj(np.stack(seq, axis=dim))

def cat(seq, dim=0) -> np.ndarray:
    for i, item in enumerate(seq):
        if np.ndim(item) == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    first = np.shape(seq[0])
    check_dim(dim, len(first))
    d = dim % len(first)
    for i, item in enumerate(seq[1:], 1):
        shape = np.shape(item)
        if len(shape) != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} "
                               f"and {len(shape)}")
        for k, (x, y) in enumerate(zip(first, shape)):
            if k != d and x != y:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {x} but got size {y} for tensor number {i} "
                                   "in the list.")
    return obj(np.concatenate(seq, axis=dim))


def dims_of(dim, ndim: int) -> tuple[int, ...]:
    """``dim`` (None: all; an int; a tuple) as sorted non-negative dims, checked as torch
    checks them (a 0-d tensor takes 0 and -1)."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, tuple) else (dim,)
    for d in dims:
        check_dim(d, ndim)
    seen = sorted(d % max(ndim, 1) for d in dims)
    for a, b in zip(seen, seen[1:]):
        if a == b:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    return tuple(d for d in seen if d < ndim)


def reduce_dims(combine: Callable, a: np.ndarray, dim, keepdim: bool) -> np.ndarray:
    """``combine`` (a function of the list of reduced elements) over ``dim`` (None, an int or
    a tuple; negative allowed), with torch's ``keepdim``."""
    a = np.asarray(a)
    dims = dims_of(dim, a.ndim)
    kept = [d for d in range(a.ndim) if d not in dims]
    moved = np.transpose(a, kept + list(dims)) if a.ndim else a.reshape(())
    rest = tuple(a.shape[d] for d in kept)
    flat = moved.reshape(rest + (-1,))
    out = np.empty(rest, dtype=object)
    for idx in np.ndindex(*rest):
        out[idx] = combine(list(flat[idx]))
    if keepdim:
        out = out.reshape(tuple(1 if d in dims else n for d, n in enumerate(a.shape)))
    return obj(out)
