"""Turning SymPy expressions and torch floats into the plain values a ``Result`` holds.

Expressions become strings lazily (``Texts``): a row is printed when something first reads it.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from jacli.bounds import RECURSION
from jacli.errors import ValueInputError
from jacli.request.lazy import Numbers, exact_of, json_value
from jacli.result import Matrix, Product, Texts
from jacli.backends import at_rational
from jacli.backends.symbolic import classify


MAX_DIGITS = 1000  # an exact integer longer than this is shown as ≈ its 17-digit value
# printing recurses once per tree level; compute() allows this much while it runs, and a
# ``Texts`` row may be printed after compute has returned


def text(e) -> str:
    """``str(e)``, with a fast path for rationals (most Jacobian entries are 0 or integers,
    and SymPy's printer costs ~15 µs an entry: 1.4 s for a 200×200 J), and ``≈1.23e+5000``
    for exact values too long to print (Python refuses ints past 4300 digits)."""
    if e is sp.S.Zero:
        return "0"
    try:
        if isinstance(e, sp.Integer) and e.p.bit_length() < MAX_DIGITS * 3.32:
            return str(e.p)
        if isinstance(e, sp.Rational) and max(e.p.bit_length(), e.q.bit_length()) < MAX_DIGITS * 3.32:
            return f"{e.p}/{e.q}" if e.q != 1 else str(e.p)
        if not isinstance(e, sp.Rational):
            return at_rational.text(e) or printed(e)  # c*f(r): most small requests' values
    except ValueError:
        pass  # an integer inside e is past Python's int-to-str limit
    return _approximately(e)


LARGE = 128  # nodes: past this, an expression is printed with its terms as SymPy stores them


def printed(e) -> str:
    """``str(e)``, except that an expression of more than ``LARGE`` nodes keeps its terms in
    SymPy's stored order. To sort a sum's terms for printing, SymPy evaluates each term
    numerically when the sum has no symbols (an exact value), again at every level of
    nesting, and gathers each term's monomials when it has: one 400-operation exact value of
    a two-layer network took 136 ms to print sorted and 5 ms as stored, its 1000-operation
    formulas 43 and 16 ms. Small expressions keep the familiar order (``sin(1) + 2``)."""
    if isinstance(e, sp.Basic) and _more_nodes_than(e, LARGE):
        return _AS_STORED.doprint(e)
    return str(e)


def _more_nodes_than(e, limit: int) -> bool:
    """Whether e's tree has more than ``limit`` nodes (walks at most ``limit + 1``)."""
    stack, seen = [e], 0
    while stack:
        seen += 1
        if seen > limit:
            return True
        stack.extend(stack.pop().args)
    return False


_AS_STORED = StrPrinter({"order": "none"})


def _approximately(e) -> str:
    """``≈`` and 17 digits of an expression too long to print exactly, within a short slice
    of time (printing may happen after compute's budget has ended)."""
    from jacli.bounds import OutOfTime, within
    from jacli.backends.symbolic import EVALF_SECONDS

    try:
        with within(EVALF_SECONDS, "printing"):
            return "≈" + str(sp.N(e, 17))
    except OutOfTime as t:
        if t.stage != "printing":
            raise
    except (ValueError, OverflowError):
        pass
    return "(too long to print)"


def strs(exprs) -> list[str] | None:
    """``text`` of each entry, now (for the short vectors a user typed: v, u)."""
    return None if exprs is None else texts(exprs)


def later(exprs) -> Texts | None:
    """``text`` of each entry, printed on first read."""
    return None if exprs is None else Texts(exprs, texts)


def later2(rows) -> list[Texts] | None:
    """Rows of ``later``: a table that shows a dozen rows prints a dozen rows."""
    return None if rows is None else [Texts(row, texts) for row in rows]


def texts(exprs) -> list[str]:
    """``text`` of each entry; structural zeros (the ``S.Zero`` singleton, most of a sparse J)
    are recognised by identity, without a call each."""
    found = _rational_texts(exprs)
    if found is not None:
        return found
    zero = sp.S.Zero
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION))
    try:
        return ["0" if e is zero else text(e) for e in exprs]
    finally:
        sys.setrecursionlimit(old)


_BITS = MAX_DIGITS * 3.32  # (``text``'s bound on a printed integer's size)


def _rational_texts(exprs) -> list[str] | None:
    """``text`` of each entry when every one is a rational of printable size (a polynomial's
    exact values at a rational point), in one loop without a call each (~0.4 µs an entry);
    ``None`` otherwise."""
    out, zero = [], sp.S.Zero
    try:
        for e in exprs:
            if e is zero:
                out.append("0")
            elif e.is_Rational and e.p.bit_length() < _BITS and e.q.bit_length() < _BITS:
                out.append(str(e.p) if e.q == 1 else f"{e.p}/{e.q}")
            else:
                return None
    except AttributeError:  # not a SymPy value (``is_Rational``): the general path
        return None
    return out


def matrix(numeric, symbolic, exact) -> Matrix:
    """The three sides; formulas that carry a short form (``shorten.Rows``) show it, with
    its definitions, and keep the full formulas in ``symbolic_full``. Formulas carrying a
    ``printed`` dict (a program's cached derivation) are printed once for every request."""
    kept = getattr(symbolic, "printed", {})
    full = kept.get("full") or kept.setdefault("full", later2(symbolic))
    short = getattr(symbolic, "short", None)
    if short is None:
        return Matrix(symbolic=full, exact=later2(exact), numeric=numeric)
    if "short" not in kept:  # printed when shortening measured them
        definitions = [{"name": n.name, "formula": f}
                       for (n, _), f in zip(short.definitions, short.printed_definitions)]
        kept["short"] = (short.printed_rows, definitions)
    rows, definitions = kept["short"]
    return Matrix(symbolic=rows, exact=later2(exact), numeric=numeric,
                  definitions=definitions, symbolic_full=full)


def product(name: str, direction: list, numeric, symbolic, exact) -> Product:
    return Product(name=name, vector=[floats(x) for x in direction],
                   vector_exact=strs(direction), exact=later(exact),
                   numeric=numeric, symbolic=later(symbolic))


def exact(x) -> sp.Expr:
    """An exact vector entry (a ``Fraction`` from ``--v`` or a SymPy number) as SymPy."""
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    return x


def floats(x) -> float | None:
    return classify(exact(x))[0]


def to_fraction(x) -> Fraction:
    """An exact entry of v or u as a Fraction (the torch side rounds it once)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    value, _ = classify(exact(x))
    if value is None:
        raise ValueInputError(f"vector entry {x} is not a real number", where="--v")
    return Fraction(value)


def json_point(point) -> dict[str, Any] | None:
    """The point as JSON numbers: integers stay integers, the rest become floats. A tensor's
    numbers are listed when first read (``Texts``: ``to_dict``, a renderer), not per call."""
    if point is None:
        return None
    return {k: Texts([v] * v.shape[0], _listed) if isinstance(v, Numbers) and v.shape
            else json_value(v) for k, v in point.items()}


def _listed(values: list) -> list:
    """``json_point``'s printer: the ``Texts`` stands for one ``Numbers``' rows."""
    return values[0].json()


def point_text(point) -> Mapping[str, str] | None:
    """Each value as the user would type it, exactly (``exact_text``), made when read."""
    return None if point is None else PointText(point)


class PointText(Mapping):
    """``{name: exact_text(value)}``, each text made on first read: a 256×256 tensor's exact
    text costs ~1 s, and only a renderer that shows it should pay."""

    def __init__(self, point: dict) -> None:
        self._point, self._texts = point, {}

    def __getitem__(self, name: str) -> str:
        if name not in self._texts:
            self._texts[name] = exact_text(exact_of(self._point[name]))
        return self._texts[name]

    def __iter__(self):
        return iter(self._point)

    def __len__(self) -> int:
        return len(self._point)

    def __repr__(self) -> str:
        return repr(dict(self))


def exact_text(x) -> str:
    """``1``, ``0.25``, ``1/3``, ``[1, 2]``: a value as the user would type it, exactly."""
    if isinstance(x, list):
        return "[" + ", ".join(exact_text(i) for i in x) + "]"
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return str(float(x)) if d == 1 and len(str(float(x))) < 18 else f"{x.numerator}/{x.denominator}"
