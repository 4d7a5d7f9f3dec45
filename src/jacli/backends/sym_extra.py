"""SymPy pieces of the wider vocabulary: functions whose derivative follows PyTorch's
convention, and object-array helpers for functions along a dim.

* ``floor ceil round trunc sign`` are piecewise constant: their derivative is 0 (PyTorch's
  choice; SymPy would leave ``Derivative(floor(x), x)`` or a ``DiracDelta``).
* ``sinc`` is the normalised sinc with sinc(0) = 1 and sinc'(0) = 0, as ``torch.sinc``
  (SymPy's ``sinc`` is sin(x)/x and its derivative is nan at 0).
* ``extreme_first`` is ``max(a, dim).values`` for one slice: the whole gradient goes to the
  first index of the extreme value, which is the index torch returns and differentiates.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

import numpy as np
import sympy as sp

from jacli.backends.object_arrays import Extreme, dims_of, obj, reduce_dims  # noqa: F401
from jacli.backends.torch_messages import check_dim


def q(value) -> sp.Expr:
    """A static parameter (int, bool, ``Fraction``, or the parser's ``Real`` float that
    carries its exact value) as an exact SymPy number."""
    value = getattr(value, "exact", value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return sp.Rational(value)  # the float's own binary value, exactly
    return sp.Integer(int(value))


class _Step(sp.Function):
    """A piecewise-constant function: its value at numbers, derivative 0 everywhere."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg is sp.nan:  # an undefined argument (atan2(0, 0))
            return sp.nan
        if arg.is_number and arg.is_extended_real:
            return cls.at(arg)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _round_half_even(x: sp.Expr) -> sp.Expr:
    if x.is_Rational:
        return sp.Integer(round(Fraction(int(x.p), int(x.q))))  # Python rounds ties to even
    return sp.floor(x + sp.S.Half)  # an irrational number is never a tie


def _trunc(x: sp.Expr) -> sp.Expr:
    return sp.floor(x) if x >= 0 else sp.ceiling(x)


def _step(name: str, at: Callable) -> type:
    return type(name, (_Step,), {"at": staticmethod(at)})


floor = _step("floor", sp.floor)
ceil = _step("ceil", sp.ceiling)
round_even = _step("round", _round_half_even)
trunc = _step("trunc", _trunc)
sign = _step("sign", sp.sign)


class sinc(sp.Function):
    """sin(pi*x)/(pi*x), 1 at 0; derivative 0 at 0 (``torch.sinc``)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.S.One
        if arg.is_number:
            return sp.sin(sp.pi * arg) / (sp.pi * arg)
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        slope = (sp.cos(sp.pi * x) * sp.pi * x - sp.sin(sp.pi * x)) / (sp.pi * x**2)
        return sp.Piecewise((0, sp.Eq(x, 0)), (slope, True))


class _ExtremeFirst(Extreme):
    """The extreme of the arguments; its derivative is 1 for the first argument that attains
    it and 0 for the others (``torch.max(a, dim)``'s gradient on CPU)."""

    def fdiff(self, argindex=1):
        i = argindex - 1
        earlier = [sp.Ne(a, self) for a in self.args[:i]]
        return sp.Piecewise((1, sp.And(sp.Eq(self.args[i], self), *earlier)), (0, True))


max_first = type("max", (_ExtremeFirst,), {"pick": sp.Max})
min_first = type("min", (_ExtremeFirst,), {"pick": sp.Min})


def lift(f: Callable) -> Callable:
    """A scalar SymPy function with static parameters, lifted to object arrays:
    ``lift(f)(B, x, **params)`` is ``f(element, **params)`` element by element."""
    def run(B, x, **params):
        exact = {k: (q(v) if isinstance(v, (int, float, Fraction)) and not isinstance(v, bool)
                     else v) for k, v in params.items()}
        return obj(np.frompyfunc(lambda e: f(e, **exact), 1, 1)(x))

    return run


def along(f: Callable, a: np.ndarray, dim: int) -> np.ndarray:
    """``f`` (a list of elements -> a list of the same length) applied to every slice of
    ``a`` along ``dim`` (softmax, cumsum); a 0-d tensor is its one element's slice."""
    a = np.asarray(a)
    check_dim(dim, a.ndim)
    if a.ndim == 0:
        return obj(f([a[()]])[0])
    moved = np.moveaxis(a, dim, -1)
    out = np.empty(moved.shape, dtype=object)
    for idx in np.ndindex(*moved.shape[:-1]):
        out[idx] = f(list(moved[idx]))
    return obj(np.moveaxis(out, -1, dim))


def total(a: np.ndarray) -> sp.Expr:
    return sp.Add(*np.asarray(a).flat)


def reduction(v: np.ndarray, how: str) -> np.ndarray:
    """A loss's ``reduction=``: 'mean', 'sum' or 'none' (PyTorch's words for a bad one)."""
    if how == "none":
        return obj(v)
    if how == "sum":
        return obj(total(v))
    if how == "mean":
        return obj(total(v) / max(np.size(v), 1) if np.size(v) else sp.nan)
    raise ValueError(f"{how} is not a valid value for reduction")


def flatten(a: np.ndarray, start_dim: int = 0, end_dim: int = -1) -> np.ndarray:
    """torch.flatten: dims start_dim..end_dim (inclusive) as one; a 0-d tensor becomes 1-D."""
    a = np.asarray(a)
    if a.ndim == 0:
        check_dim(start_dim, 0)
        check_dim(end_dim, 0)
        return obj(a.reshape(1))
    check_dim(start_dim, a.ndim)
    check_dim(end_dim, a.ndim)
    s, e = start_dim % a.ndim, end_dim % a.ndim
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return obj(a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:]))


def squeeze(a: np.ndarray, dim=None) -> np.ndarray:
    """torch.squeeze: every axis of length 1, or only those of ``dim`` (an int or a tuple)
    that have length 1 (others are kept, no error)."""
    a = np.asarray(a)
    if dim is None:
        return obj(np.squeeze(a))
    dims = dims_of(dim, a.ndim)
    return obj(a.reshape(tuple(n for d, n in enumerate(a.shape) if not (d in dims and n == 1))))
