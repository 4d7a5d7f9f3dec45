"""The SymPy backend: symbols, the symbolic Jacobian, exact values at the point.

Values are NumPy object arrays of SymPy expressions (0-d for scalars), so broadcasting, ``@``,
reductions, reshapes and indexing follow the same rules as PyTorch. Variables are real
symbols named like their labels (``x1``, ``a[0,1]``). Powers with huge constant exponents are
refused here (``9**9**9`` would otherwise be computed exactly, for hours). Never imports torch.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
import sympy as sp

from jacli.bounds import DEFAULT_LIMITS, Limits, OutOfTime, within
from jacli.errors import LimitError
from jacli.request.lazy import Numbers
from jacli.result.labels import labels
from jacli.backends import at_rational, exact_at
from jacli.backends.object_arrays import broadcasting, detach, obj
from jacli.backends.object_arrays import matmul as sym_matmul
from jacli.backends.torch_messages import expand_error


EVALF_SECONDS = 0.5  # per entry; a value needing longer is reported, not compared


class SymbolicBackend:
    """Evaluates the IR on object arrays; ``placeholders`` marks random (unset) elements."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.placeholders: set[sp.Symbol] = set()

    # -- values ---------------------------------------------------------------------
    def variable(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        flat = [sp.Symbol(label, real=True) for label in labels(name, shape)]
        return obj(np.array(flat, dtype=object).reshape(shape)) if shape else obj(flat[0])

    def exact(self, value) -> np.ndarray:
        """A nested list of ``Fraction`` (or ``Numbers``, read exactly) as an array of SymPy
        Rationals."""
        if isinstance(value, Numbers):
            value = value.exact()
        if isinstance(value, list):
            return obj(np.stack([self.exact(v) for v in value]))
        return obj(sp.Rational(value.numerator, value.denominator))

    def constant(self, value: Fraction) -> np.ndarray:
        return obj(sp.Rational(value.numerator, value.denominator))

    def named_constant(self, name: str) -> np.ndarray:
        return obj({"pi": sp.pi}[name])

    def full(self, shape, value) -> np.ndarray:
        out = np.empty(shape, dtype=object)
        out.fill(sp.Integer(value))
        return obj(out)

    def eye(self, n: int, m: int | None = None) -> np.ndarray:
        m = n if m is None else m
        return obj(np.array([[sp.Integer(int(i == j)) for j in range(m)] for i in range(n)],
                            dtype=object).reshape(n, m))

    def random(self, shape) -> np.ndarray:
        """``torch.randn(...)``: elements that must be written before they are read."""
        out = self.variable(f"randn{len(self.placeholders)}", shape)
        self.placeholders.update(out.flat)
        return out

    # -- operations -----------------------------------------------------------------
    def stack(self, items: list) -> np.ndarray:
        return obj(np.stack(items))

    def concat(self, items: list) -> np.ndarray:
        return obj(np.concatenate([np.reshape(i, -1) for i in items]))

    def op(self, op: str, a, b=None) -> np.ndarray:
        if op == "neg":
            return obj(-a)
        if op == "pos":
            return a
        if op == "pow":
            self._check_power(a, b)
        if op == "matmul":
            return sym_matmul(a, b)
        return obj(_BROADCASTING[op](a, b))

    def binary(self, op: str):
        """The function of a binary operator, for lowered programs (``interpret``)."""
        return partial(self.op, op)

    def function(self, row):
        """A function-table row's SymPy meaning, for lowered programs (``interpret``)."""
        return partial(row.sym, self)

    def operand(self, value: Fraction) -> np.ndarray:
        """A literal beside another operand: an exact constant, like any other literal."""
        return self.constant(value)

    def _check_power(self, base, exponent) -> None:
        """Refuse constant exponents beyond the limit, and constant powers too large to hold."""
        for e in np.asarray(exponent).flat:
            if not (e.is_Number and e.is_finite):
                continue
            if abs(e) > self.limits.exponent:
                raise LimitError(f"the exponent {_short(e)} exceeds the symbolic limit "
                                 f"{self.limits.exponent}", where="expression",
                                 hint="the numeric side can still evaluate it with --at")
            for b in np.asarray(base).flat:
                if b.is_Number and b.is_finite and b != 0 and \
                        abs(float(e)) * abs(math.log2(abs(float(b)) or 1)) > 1e6:
                    raise LimitError(f"{_short(b)}**{_short(e)} is too large to compute exactly",
                                     where="expression")

    def index(self, value, index: tuple) -> np.ndarray:
        try:
            return obj(value[index])
        except IndexError as e:
            raise IndexError(_torch_index_message(str(e))) from None

    def setitem(self, value, index: tuple, item) -> np.ndarray:
        out = value.copy()
        item = np.asarray(item, dtype=object)
        message = expand_error(item.shape, np.shape(self.index(value, index)))
        if message is not None:  # NumPy would say it in its words, or store an array in a cell
            raise RuntimeError(message)
        # a 0-d object array assigned into one element would be stored as the array itself
        out[index] = item[()] if item.ndim == 0 else item
        return obj(out)

    def stop_gradient(self, value) -> np.ndarray:
        return obj(np.frompyfunc(detach, 1, 1)(value))

    def shape(self, value) -> tuple[int, ...]:
        return tuple(np.shape(value))


def _torch_index_message(numpy_message: str) -> str:
    """NumPy's indexing refusals in torch's words (same facts: index, dimension, size)."""
    too_many = re.match(r"too many indices for array: array is (\d+)-dimensional", numpy_message)
    if too_many:
        return f"too many indices for tensor of dimension {too_many.group(1)}"
    return numpy_message.replace(" for axis ", " for dimension ")


_BROADCASTING = {name: broadcasting(f) for name, f in
                 (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                  ("div", np.divide), ("pow", np.power),
                  # comparisons (where/masked_fill conditions): SymPy relations, which a
                  # Piecewise decides at the point
                  *((op, np.frompyfunc(rel, 2, 1)) for op, rel in (
                      ("gt", sp.Gt), ("lt", sp.Lt), ("ge", sp.Ge), ("le", sp.Le),
                      ("eq", sp.Eq), ("ne", sp.Ne))))}


def jacobian(outputs: list[sp.Expr], inputs: list[sp.Symbol]) -> list[list[sp.Expr]]:
    """J[i][j] = d outputs[i] / d inputs[j]; each output only by its own free symbols.

    A row starts as structural zeros (the ``S.Zero`` singleton, so callers can skip them with
    ``is``) and only the columns of the output's free symbols are differentiated: O(free
    symbols) per row instead of a membership test per input (40 000 of them at 200×200).
    """
    column = {x: j for j, x in enumerate(inputs)}
    rows = []
    for f in outputs:
        row = [sp.S.Zero] * len(inputs)
        for x in f.free_symbols:
            j = column.get(x)
            if j is not None:
                row[j] = _diff(f, x)
        rows.append(row)
    return rows


def _diff(f: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``sp.diff(f, x)`` for an ``x`` in ``f``'s free symbols.

    For a sum, ``diff`` is ``Derivative(f, x, evaluate=True)``: argument checks, then
    ``Add._eval_derivative`` (each term's own ``diff``, so any unevaluated derivative in it is
    canonical already), then a walk over the whole result to make derivatives canonical.
    Calling the (cached) ``_eval_derivative`` directly gives the same expression without the
    checks and the walk, which cost more than the derivative of a short sum itself.
    """
    if type(f) is sp.Add:
        return f._eval_derivative(x)
    return sp.diff(f, x)


class not_real(sp.Function):
    """An exact value SymPy cannot form in the reals, e.g. Max(-2, log(-2)): SymPy refuses
    to compare a complex number. Printed as ``not_real(...)`` and classified as complex."""


def substitute(exprs: list[sp.Expr], point, at: dict | None = None,
               cache: dict | None = None) -> list[sp.Expr]:
    """Exact values at the point; ``xreplace`` lets SymPy fold constants without ``subs``'
    full re-simplification (38 s vs 0.2 s at 200×200, per the design notes). Numbers (the
    structural zeros of a sparse J among them) are their own value: skipped by attribute,
    where ``free_symbols`` would build a set per entry. ``at``: the point as rationals
    (``exact_at.rationals``), where it is one: a formula whose evaluation ``exact_at`` knows
    is computed there, the same value without SymPy's constructors (``cache``: its compiled
    formulas, the caller's per program). ``point`` may be a function giving the dict,
    called only if a formula needs SymPy."""
    if at is None:
        point = point() if callable(point) else point
        return [e if e.is_Number else _at(e, point) for e in exprs]
    out = []
    for e in exprs:
        found = e if e.is_Number else exact_at.value(e, at, cache)
        out.append(found if found is not None else
                   _at(e, point() if callable(point) else point))
    return out


def _at(e: sp.Expr, point) -> sp.Expr:
    try:
        return e.xreplace(point)
    except (TypeError, ValueError):  # "not comparable": Max/Min of a complex value
        return not_real(sp.Symbol(str(e)[:60]))


def classify(value: sp.Expr) -> tuple[float | None, str]:
    """A float for an exact value, and its kind: real, +inf, -inf, zoo, nan, complex, symbolic.

    Overflowing reals become ±inf (the float64 answer) with kind "real" kept honest by the
    caller comparing infinities. ``value`` must have no free symbols.
    """
    if value.is_Rational:  # most entries: checked first, by attribute, not SymPy equality
        return (0.0 if value is sp.S.Zero else rational_float(value)), "real"
    if isinstance(value, not_real):
        return None, "complex"
    if value is sp.nan:
        return math.nan, "nan"
    if value is sp.zoo:
        return math.inf, "zoo"
    if value is sp.S.Infinity or value is sp.S.NegativeInfinity:
        return (math.inf if value is sp.S.Infinity else -math.inf), "inf"
    quick = at_rational.value(value)  # c*f(r): the correctly rounded float, without evalf
    if quick is not None:
        return quick, "real"
    number = _evalf(value)
    if number is None:
        return None, "symbolic"
    if number is sp.nan:  # undefined once evaluated (a function of atan2(0, 0))
        return math.nan, "nan"
    if number.is_Float:  # real already: as_real_imag would only split off im = 0
        return _float(number)
    re, im = number.as_real_imag()
    if im != 0 and not (im.is_Number and abs(float(im)) < 1e-30):
        return None, "complex"
    return _float(re)


def _float(re: sp.Expr) -> tuple[float | None, str]:
    try:
        return float(re), "real"
    except (TypeError, OverflowError):
        return None, "symbolic"


def _evalf(value: sp.Expr):
    """Evaluate to 30 digits within a short slice of time; ``None`` when it cannot be done.

    Towers like exp(exp(exp(exp(e)))) would keep mpmath busy forever; they are left exact.
    """
    try:
        with within(EVALF_SECONDS, "exact evaluation"):
            return value.evalf(30)
    except OutOfTime as e:
        if e.stage != "exact evaluation":
            raise  # the whole run's budget, not this entry's
        return None
    except (OverflowError, ValueError):  # mpmath past float range, ints past 4300 digits
        return None


def rational_float(r: sp.Rational) -> float:
    """The float nearest ``r``: Python's ``int / int`` rounds correctly, as ``Fraction``'s
    ``float`` does with the same division, without building (and reducing) a Fraction
    first; past the float range, ±inf."""
    try:
        return int(r.p) / int(r.q)
    except OverflowError:
        return math.inf if r > 0 else -math.inf


def _short(x: Any) -> str:
    text = str(x)
    return text if len(text) <= 24 else text[:10] + "…" + text[-6:]
