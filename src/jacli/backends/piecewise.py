"""The piecewise functions on the reals: SymPy functions with PyTorch's derivatives.

SymPy's own ``Abs``, ``sign``, ``Max``, ``Min`` and ``Heaviside`` are functions of a complex
variable: differentiated, they bring ``re``, ``im``, ``atan2(0, x)`` and ``DiracDelta`` into
formulas (``Abs(sqrt(x))'`` contains ``atan2(0, x)``), and ``Heaviside(0)`` is 1/2. The classes
here are real functions named as PyTorch names them, so formulas read as a person writes them:

  * ``abs(x)``: d/dx = ``sign(x)``; ``sign(0) = 0``, PyTorch's abs'(0).
  * ``sign(x)``: d/dx = 0 (the true derivative wherever it exists; PyTorch's everywhere).
  * ``heaviside(x, h0)``: torch.heaviside, the step that is ``h0`` at 0; d/dx = 0.
  * ``maximum(a, b)`` / ``minimum(a, b)``: d/da = ``heaviside(a - b, 1/2)`` (for maximum): a tie
    splits the gradient 1/2, 1/2, as torch.maximum and torch.minimum do.
  * ``eq(a, b)``: 1 where a == b, else 0; the share of a tied element of ``amax``/``amin``.

Each evaluates at real numbers (to an exact number where SymPy can decide its sign) and stays
unevaluated elsewhere, so a complex argument is never compared. Never imports torch.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.evalf import prec_to_dps
from sympy.core.logic import fuzzy_and

HALF = sp.Rational(1, 2)
_UNDECIDED = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min)


class RealFunction(sp.Function):
    """A function of real arguments: ``number`` gives its value at real numbers."""

    @staticmethod
    def number(*args):
        raise NotImplementedError

    @classmethod
    def eval(cls, *args):  # SymPy's Function.eval hook (auto-evaluation)
        if any(a is sp.nan for a in args):  # an undefined argument (atan2(0, 0))
            return sp.nan
        if all(a.is_number and a.is_extended_real for a in args):
            try:
                value = cls.number(*args)
            except (TypeError, ValueError):  # Max, Min: "not comparable", a sign undecided
                return None
            # SymPy's own function, unevaluated (a sign it could not decide), is not ours
            return None if isinstance(value, _UNDECIDED) else value
        return None

    def _eval_is_extended_real(self):
        return fuzzy_and(a.is_extended_real for a in self.args)

    def _eval_evalf(self, prec):
        """Numerically, where SymPy could not decide the arguments' signs exactly. A zero
        that evalf cannot resolve (``cos(1)**2 + sin(1)**2 - 1`` is ``-0.e-165``, no digit
        known) would give a wrong sign: left unevaluated, the value is not compared. An
        undefined argument (``atan2(0, 0)`` is nan) makes the value undefined."""
        if any(a is sp.nan for a in self.args):
            return sp.nan
        try:
            args = [a.evalf(prec_to_dps(prec)) for a in self.args]
            if all(a.is_number and a.is_extended_real and getattr(a, "_prec", 2) > 1
                   for a in args):
                return self.func(*args).evalf(prec_to_dps(prec))
        except (AttributeError, TypeError, ValueError):  # SymPy's evalf of a nan inside
            pass
        return None


class abs(RealFunction):  # noqa: A001 - torch.abs's name: formulas print as typed
    """|x| with d/dx = sign(x): PyTorch's abs'(0) = 0."""

    nargs = 1
    number = staticmethod(sp.Abs)

    def fdiff(self, argindex=1):
        return sign(self.args[0])

    def _eval_is_extended_nonnegative(self):
        return True if self.args[0].is_extended_real else None  # unknown off the reals

    def _latex(self, printer):
        return r"\left|{" + printer._print(self.args[0]) + r"}\right|"


class sign(RealFunction):
    """-1, 0 or 1; d/dx = 0 (PyTorch's sign' everywhere, the true derivative off 0)."""

    nargs = 1
    number = staticmethod(sp.sign)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class heaviside(RealFunction):
    """torch.heaviside(x, h0): 0 below 0, 1 above, ``h0`` at 0; d/dx = 0 off the step."""

    nargs = 2
    number = staticmethod(sp.Heaviside)

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _eval_is_extended_nonnegative(self):
        known = fuzzy_and([a.is_extended_real for a in self.args] +
                          [self.args[1].is_extended_nonnegative])
        return True if known else None

    def _eval_power(self, exponent):
        """A step of 0s and 1s is its own square: relu(x)**2 differentiates to
        2*heaviside(x, 0)*relu(x), and again to 2*heaviside(x, 0), not its square."""
        return _zero_one_power(self, exponent) if self.args[1] in (0, 1) else None


class eq(sp.Function):
    """torch.eq(a, b) as a number: 1 where a == b, else 0; d/da = d/db = 0 off the tie.
    (amax's gradient share: ``eq(x[0], amax(x))`` over the count of tied elements.)"""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_number and b.is_number:
            same = sp.Eq(a, b)
            if same in (sp.true, sp.false):
                return sp.Integer(bool(same))
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _eval_is_extended_real(self):
        return True

    def _eval_power(self, exponent):
        return _zero_one_power(self, exponent)


def _zero_one_power(f: sp.Expr, exponent: sp.Expr) -> sp.Expr | None:
    """``f**n`` of a function whose values are 0 and 1 is ``f`` (n a positive integer)."""
    return f if exponent.is_Integer and exponent.is_positive else None


class _Pairwise(RealFunction):
    """torch.maximum/minimum(a, b): a tie gives each argument half of the gradient."""

    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args if argindex == 1 else reversed(self.args)
        return heaviside(self.direction * (a - b), HALF)


class maximum(_Pairwise):
    """torch.maximum(a, b): a tie gives each argument half of the gradient."""

    number = staticmethod(sp.Max)
    direction = 1  # an argument's step is up where it is the larger


class minimum(_Pairwise):
    """torch.minimum(a, b): a tie gives each argument half of the gradient."""

    number = staticmethod(sp.Min)
    direction = -1


_SYMPY = {sp.Abs: abs, sp.sign: sign, sp.Heaviside: heaviside}


def on_reals(expr: sp.Expr) -> sp.Expr:
    """``expr`` with SymPy's complex ``Abs``, ``sign`` and ``Heaviside`` (which its own
    simplifications make, e.g. ``sqrt(x**2)`` is ``Abs(x)``) replaced by the real functions
    above, whose values are the same."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.has(*_SYMPY):
        return expr
    for complex_f, real_f in _SYMPY.items():
        expr = expr.replace(complex_f, real_f)
    return expr
