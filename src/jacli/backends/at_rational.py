"""An elementary function at a rational point, ``f(r)`` or ``c*f(r)``: printed and evaluated
without SymPy's general machinery.

Most exact values of a small request have this form: ``x2*cos(x1)`` at ``x1 = 9/8``,
``x2 = -3/4`` is ``-3*cos(9/8)/4``. SymPy prints such a value in 40–80 µs and evaluates it
(``evalf`` at 30 digits) in ~50 µs more; a ``jacli batch`` request of two such entries paid
a quarter of its time there. Here the string is SymPy's own (``StrPrinter``'s rules for a
``Function`` of a ``Rational`` and a ``Mul`` of a ``Rational`` and one function, checked
against the printer in ``tests/test_symbolic_fastpaths.py``), and the float is the value
computed by mpmath (SymPy's own arbitrary-precision library, installed with it) at 200
bits, then rounded once to float64: the correctly rounded value
(``evalf(30)`` then ``float`` rounds twice, and agrees but for values within 2⁻⁵⁰ of a
rounding boundary). Anything else returns ``None``: the caller takes the general path.
"""

from __future__ import annotations

import math

import sympy as sp
from mpmath import libmp
from sympy.printing.str import StrPrinter

# real at every real rational (so the value is never complex), by mpmath's kernel: what
# ``mpmath.sin`` and the others call on a real ``mpf``, called directly (the wrappers, the
# ``mpf`` objects and ``workprec``'s global precision were 4 of a value's 7 µs)
_REAL = {sp.sin: libmp.mpf_sin, sp.cos: libmp.mpf_cos, sp.tan: libmp.mpf_tan,
         sp.sinh: libmp.mpf_sinh, sp.cosh: libmp.mpf_cosh, sp.tanh: libmp.mpf_tanh,
         sp.exp: libmp.mpf_exp, sp.atan: libmp.mpf_atan, sp.asinh: libmp.mpf_asinh,
         sp.erf: libmp.mpf_erf}
BITS = 200
_NEAREST = "n"
_PLAIN: dict[type, bool] = {}  # function class → printed as name(args) by StrPrinter


def split(e) -> tuple[sp.Rational, sp.Function, sp.Rational] | None:
    """``(c, f(r), r)`` when ``e`` is ``f(r)`` (c = 1) or ``c*f(r)``, f a function of one
    argument and c, r rationals; ``None`` otherwise."""
    if isinstance(e, sp.Mul):
        if len(e.args) != 2:
            return None
        c, f = e.args
        if not isinstance(c, sp.Rational):
            return None
    else:
        c, f = sp.S.One, e
    if not isinstance(f, sp.Function) or len(f.args) != 1 or not isinstance(f.args[0], sp.Rational):
        return None
    return c, f, f.args[0]


def text(e) -> str | None:
    """``str(e)`` for ``f(r)`` and ``c*f(r)`` (f printed as ``name(arg)``), else ``None``."""
    parts = split(e)
    if parts is None or not _plain(type(parts[1])):
        return None
    c, f, r = parts
    call = f"{type(f).__name__}({_rational(r)})"
    if c is sp.S.One:
        return call
    sign, p = ("-", -c.p) if c.p < 0 else ("", c.p)
    head = call if p == 1 else f"{p}*{call}"
    return f"{sign}{head}" if c.q == 1 else f"{sign}{head}/{c.q}"


def value(e) -> float | None:
    """The float64 nearest ``e`` for ``f(r)`` and ``c*f(r)`` with f real on the reals (or
    ``log`` of a positive r), finite; else ``None``."""
    parts = split(e)
    if parts is None:
        return None
    c, f, r = parts
    kernel = _REAL.get(type(f)) or (libmp.mpf_log if type(f) is sp.log and r > 0 else None)
    if kernel is None:
        return None
    try:  # each step rounded to BITS, to nearest, as mpmath computes at that precision
        x = _cos_sin(r)[kernel is libmp.mpf_sin] if kernel in _COS_SIN_KERNELS else \
            kernel(libmp.from_rational(int(r.p), int(r.q), BITS, _NEAREST), BITS, _NEAREST)
    except NotImplementedError:  # (mpmath's own refusal: the general path decides)
        return None
    return _scaled(x, int(c.p), int(c.q))


def _scaled(x: tuple, p: int, q: int) -> float | None:
    """The float64 nearest p·x/q for mpmath's value ``x`` (sign, mantissa, exponent, bits):
    one exact quotient of integers, which Python rounds once, to nearest (mpmath's product,
    quotient and conversion rounded three times, twice at ``BITS``: 3 µs against 1);
    ``None`` past the float range."""
    sign, man, exp, _ = x
    if not man:  # zero, or one of mpmath's infinities and NaN
        return 0.0 if x == libmp.fzero else None
    num = -p * man if sign else p * man
    try:
        number = num / (q << -exp) if exp < 0 else (num << exp) / q
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


_COS_SIN_KERNELS = (libmp.mpf_sin, libmp.mpf_cos)
_COS_SIN: dict[tuple[int, int], tuple] = {}  # the last few arguments' (cos, sin) at BITS


def _cos_sin(r: sp.Rational) -> tuple:
    """(cos r, sin r) at ``BITS``, both from one ``mpf_cos_sin`` (what ``mpf_sin`` and
    ``mpf_cos`` each call, rounding each result alike), kept for the last few arguments:
    ``x2*sin(x1)``'s value and J read sin(x1) twice and cos(x1) once at the same point —
    one kernel call instead of three (each ~10 µs at an argument such as 617/500)."""
    key = (int(r.p), int(r.q))
    found = _COS_SIN.get(key)
    if found is None:
        if len(_COS_SIN) >= 8:
            _COS_SIN.clear()
        found = _COS_SIN[key] = libmp.mpf_cos_sin(
            libmp.from_rational(key[0], key[1], BITS, _NEAREST), BITS, _NEAREST)
    return found


def _rational(r: sp.Rational) -> str:
    return str(r.p) if r.q == 1 else f"{r.p}/{r.q}"


def _plain(cls: type) -> bool:
    """Whether StrPrinter prints this class as ``name(args)``: no ``_sympystr`` of its own,
    and ``_print_Function`` the first printer along its MRO (as ``Printer._print`` looks)."""
    found = _PLAIN.get(cls)
    if found is None:
        found = not hasattr(cls, "_sympystr") and next(
            (k.__name__ for k in cls.__mro__ if hasattr(StrPrinter, f"_print_{k.__name__}")),
            None) == "Function"
        _PLAIN[cls] = found
    return found
