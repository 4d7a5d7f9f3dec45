"""Exact values of formulas at a point of rationals, where SymPy's evaluation is known.

At a point, ``formula.xreplace(point)`` rebuilds every node through SymPy's constructors,
and they evaluate: ``Rational(1234, 1000)**3`` looks for perfect powers (73 µs), and
``sin(Rational(9, 8))`` asks whether 9/8 is a multiple of π (120 µs). SymPy's cache answers
a point seen before; a fresh point — every request of a real ``jacli batch`` — paid it all:
290 µs for the 8 formulas of a 3×3 polynomial system, 155 µs for ``x2*sin(x1)`` (measured).
Here a formula is compiled once into closures (``value``, cached by the caller per program):

* a polynomial or rational function — ``+``, ``*``, integer powers up to ``MAX_POWER``,
  rationals, the variables — is evaluated exactly on (numerator, denominator) pairs of
  Python ints, reduced once at the end (``Fraction`` reduces after every operation:
  25 µs against ~8 for a 3×3 system's 8 formulas);
* ``c*f(a)`` (c and a such expressions, f one of ``FUNCTIONS``) is built as SymPy's
  evaluation builds it: ``f(0)``'s value, an odd function's sign moved into c, an even
  one's dropped, else ``f(a)`` unevaluated times c.

Anything else (``sqrt``, ``sin(x)**2``, a symbol the point lacks, a pole, ``exp(1)`` which
SymPy names E) gives ``None``: the caller substitutes with SymPy. ``tests/test_exact_at.py``
holds every case against ``xreplace``: equal expressions and equal strings.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Any, Callable

import sympy as sp
from sympy.core.basic import Basic

MAX_POWER = 64  # integer exponents evaluated here; larger ones (x**1000) are SymPy's
MAX_NODES = 2000  # a formula larger than this is substituted by SymPy (compiling it costs)

# f: (parity, f(0)): SymPy leaves f(a) unevaluated at every other rational a, but for an
# odd function's sign, pulled out (sin(-a) = -sin(a)), and an even one's, dropped
FUNCTIONS: dict[type, tuple[str | None, int]] = {
    sp.sin: ("odd", 0), sp.tan: ("odd", 0), sp.sinh: ("odd", 0), sp.tanh: ("odd", 0),
    sp.cos: ("even", 1), sp.cosh: ("even", 1), sp.exp: (None, 1)}
_SPECIAL = {sp.exp: ((1, 1),)}  # arguments SymPy evaluates to a named constant (E)

Evaluator = Callable[[dict], Any]


class _NotHere(Exception):
    """This formula (or this point) is SymPy's to substitute."""


def rationals(point: dict) -> dict | None:
    """``point`` (symbols to SymPy values) as ``value`` reads it (``point_of``): each value
    a pair of Python ints (numerator, denominator > 0), or ``None`` when a value is not a
    rational."""
    pairs = []
    for symbol, x in point.items():
        if not isinstance(x, sp.Rational):
            return None
        pairs.append((symbol, (int(x.p), int(x.q))))
    return point_of(pairs)


def point_of(pairs) -> dict:
    """``(symbol, pair)`` items as the point ``value`` reads: each pair under its symbol and
    under the symbol's ``id``. A compiled formula looks its symbol up by ``id`` first — an
    int, hashed in C, where a SymPy symbol's hash is a Python call (a small request made
    ~10) — and by the symbol itself (SymPy's equality) when its own object is another
    equal one (SymPy's cache can hand a formula an equal symbol made earlier)."""
    at = {}
    for symbol, x in pairs:
        at[symbol] = at[id(symbol)] = x
    return at


def pair(x: int | Fraction) -> tuple[int, int]:
    """An ``int`` or ``Fraction`` as ``value``'s (numerator, denominator) pair."""
    return (x.numerator, x.denominator)


def value(e, at: dict, cache: dict | None = None):
    """``e.xreplace(point)`` for the point ``at`` (``rationals``, or ``point_of`` the
    ``pair`` of each exact value), or ``None`` when this module does not know SymPy's
    answer. ``cache``: compiled formulas (the caller's, per program), so a formula is
    compiled once; by the formula's ``id``, with the formula kept beside its evaluator (so
    its ``id`` stays its own, and the entry is checked to be it): hashing the formula is a
    Python call, ~0.3 µs each of a small request's formulas."""
    kept = cache.get(id(e)) if cache is not None else None
    if kept is not None and kept[0] is e:
        f = kept[1]
    else:
        f = compiled(e)
        if cache is not None:
            cache[id(e)] = (e, f)
    if f is None:
        return None
    # SymPy's to answer: a special argument (E), a symbol the point lacks, a pole (zoo), a
    # formula nested deeper than the stack allows here (each level is two frames)
    try:
        return f(at)
    except (_NotHere, KeyError, ZeroDivisionError, RecursionError):
        return None


def compiled(e) -> Evaluator | None:
    """The evaluator of ``e`` (point to SymPy value), or ``None`` (not compiled here)."""
    try:
        if _nodes(e) > MAX_NODES:
            return None
        exact = _rational(e)
        return lambda at: _sympy(exact(at))
    except RecursionError:
        return None
    except _NotHere:
        pass
    factors = e.args if e.is_Mul else (e,)
    functions = [a for a in factors if type(a) in FUNCTIONS]
    if len(functions) != 1 or len(functions[0].args) != 1:
        return None
    (call,) = functions
    try:
        argument = _rational(call.args[0])
        coefficient = _product([_rational(a) for a in factors if a is not call])
    except (_NotHere, RecursionError):
        return None
    return lambda at: _times(coefficient(at), type(call), argument(at))


def _times(c: tuple[int, int], f: type, a: tuple[int, int]):
    """``c * f(a)`` as SymPy evaluates it, for rationals c and a (pairs)."""
    parity, at_zero = FUNCTIONS[f]
    if a[0] == 0 or c[0] == 0:
        return _sympy((c[0] * at_zero, c[1])) if a[0] == 0 else sp.S.Zero
    a, c = _lowest(a), _lowest(c)
    if a in _SPECIAL.get(f, ()):
        raise _NotHere
    if a[0] < 0 and parity is not None:
        a, c = (-a[0], a[1]), ((-c[0], c[1]) if parity == "odd" else c)
    call = _unevaluated(f, _number(a))
    # Mul(c, f(a), evaluate=False)'s own step: a coefficient, then the function (SymPy's order)
    # (commutative: a number times a function of a number; SymPy asks each factor)
    return call if c == (1, 1) else sp.Mul._from_args((_number(c), call), True)


def _unevaluated(f: type, a: sp.Rational):
    """``f(a, evaluate=False)`` as SymPy's ``Application.__new__`` makes it — ``Basic``'s
    object with the class's ``nargs`` set — without its cache and argument conversion
    (13 → 2 µs; ``tests/test_exact_at.py`` compares every field the two have)."""
    call = Basic.__new__(f, a)
    nargs = _NARGS.get(f)
    if nargs is None:
        nargs = _NARGS[f] = f(sp.Integer(2), evaluate=False).nargs
    call.nargs = nargs
    return call


_NARGS: dict[type, Any] = {}  # f → the nargs SymPy sets on each f(a) (the class's, as a set)


def _rational(e) -> Evaluator:
    """``e`` as a function of the point giving a (numerator, denominator) pair, not reduced;
    ``_NotHere`` for anything but the variables, rationals, sums, products and integer
    powers."""
    if e.is_Symbol:
        name = id(e)

        def lookup(at):
            found = at.get(name)
            return found if found is not None else at[e]
        return lookup
    if e.is_Rational:
        c = (int(e.p), int(e.q))
        return lambda at: c
    if e.is_Add:
        terms = [_rational(a) for a in e.args]

        def total(at):
            n, d = terms[0](at)
            for t in terms[1:]:
                m, q = t(at)
                n, d = (n + m, d) if q == d else (n * q + m * d, d * q)
            return n, d
        return total
    if e.is_Mul:
        return _product([_rational(a) for a in e.args])
    if e.is_Pow and e.exp.is_Integer and abs(int(e.exp)) <= MAX_POWER:
        base, k = _rational(e.base), int(e.exp)
        if k < 0:
            return lambda at: _inverse(base(at), -k)
        return lambda at: _power(base(at), k)
    raise _NotHere


def _power(x: tuple[int, int], k: int) -> tuple[int, int]:
    return x[0] ** k, x[1] ** k


def _inverse(x: tuple[int, int], k: int) -> tuple[int, int]:
    """x**-k; ``ZeroDivisionError`` at 0 (SymPy says zoo)."""
    n, d = x
    if n == 0:
        raise ZeroDivisionError
    return ((-d) ** k, (-n) ** k) if n < 0 else (d ** k, n ** k)


def _product(factors: list[Evaluator]) -> Evaluator:
    def product(at):
        n, d = 1, 1
        for f in factors:
            m, q = f(at)
            n, d = n * m, d * q
        return n, d
    return product


def _lowest(x: tuple[int, int]) -> tuple[int, int]:
    n, d = x
    g = gcd(n, d)
    return (n // g, d // g) if g > 1 else x


def _sympy(x: tuple[int, int]) -> sp.Rational:
    """A pair as SymPy's number, in lowest terms."""
    return _number(_lowest(x))


def _number(x: tuple[int, int]) -> sp.Rational:
    """A pair in lowest terms as SymPy's number: the object ``Rational(n, d)`` makes, without
    its cache (a fresh point's values miss it) and gcd (1.3 → 0.2 µs each)."""
    n, d = x
    if d == 1:
        return sp.Integer(n)
    if d > 1 and _COPRIME is not None:  # (SymPy >= 1.13; a negative or 0 d: Rational's care)
        return _COPRIME(n, d)
    return sp.Rational(n, d)


_COPRIME = getattr(sp.Rational, "from_coprime_ints", None)


def _nodes(e) -> int:
    """How many nodes ``e`` has, counting up to just past ``MAX_NODES``."""
    count, stack = 0, [e]
    while stack and count <= MAX_NODES:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count
