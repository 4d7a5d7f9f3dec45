"""Turning SymPy expressions and torch floats into the plain values a ``Result`` holds."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy as sp

from jacli.errors import ValueInputError
from jacli.result import Matrix, Product
from jacli.symbolic import classify


MAX_DIGITS = 1000  # an exact integer longer than this is shown as ≈ its 17-digit value


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
            return str(e)
    except ValueError:
        pass  # an integer inside e is past Python's int-to-str limit
    return "≈" + str(sp.N(e, 17))


def strs(exprs) -> list[str] | None:
    return None if exprs is None else [text(e) for e in exprs]


def strs2(rows) -> list[list[str]] | None:
    return None if rows is None else [[text(e) for e in row] for row in rows]


def matrix(numeric, symbolic, exact) -> Matrix:
    return Matrix(symbolic=strs2(symbolic), exact=strs2(exact), numeric=numeric)


def product(name: str, direction: list, numeric, symbolic, exact) -> Product:
    return Product(name=name, vector=[floats(x) for x in direction],
                   vector_exact=strs(direction), exact=strs(exact),
                   numeric=numeric, symbolic=strs(symbolic))


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
    """The point as JSON numbers: integers stay integers, the rest become floats."""
    if point is None:
        return None

    def num(x):
        if isinstance(x, list):
            return [num(i) for i in x]
        return int(x) if x.denominator == 1 else float(x)

    return {k: num(v) for k, v in point.items()}


def point_text(point) -> dict[str, str] | None:
    return None if point is None else {k: exact_text(v) for k, v in point.items()}


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
