"""Number and vector formatting shared by the renderers (pure ``str`` functions)."""

from __future__ import annotations

import math
from fractions import Fraction

MAX_ROWS = 12  # rows shown before a matrix is elided (its shape is always stated)
MAX_COLS = 8
MAX_TERMS = 4  # terms of vᵀJ = Σ vᵢ·Jᵢ written out before "…"


def num(x: float | str | None) -> str:
    """``8``, ``0.2``, ``1.23457e+10``, ``nan``; JSON's non-finite strings pass through."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(x, x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def with_exact(x: float | None, exact: str | None, differs: bool = False,
               dtype: str | None = None) -> str:
    """The float, plus the exact value when it says more (``4.5 = 9/2``, ``0.841471 ≈ sin(1)``),
    or ``nan ≠ 1`` when the two disagree. Never ``=`` between unequal numbers: ``=`` only where
    the decimal shown is the exact value (in float32: the float is), ``≈`` otherwise, and
    where the float's error shows at the digits printed, that rounding error too
    (``100001992 ≈ 10000200001/100 (float32 rounding error -8.01)``). The exact value is
    written whole, never cut."""
    shown = num(x)
    if exact is None or (not differs and (exact == shown or _same_decimal(shown, exact))):
        return shown
    if differs:
        return f"{shown} ≠ {exact}"
    if exact.startswith("≈"):  # an exact value too long to print, as its 17 digits
        return f"{shown} {exact}"
    error = rounding_error(x, exact)
    if error is not None:
        return f"{shown} ≈ {exact} ({dtype + ' ' if dtype else ''}rounding error {num(error)})"
    return f"{shown} {relation(shown, exact, x, dtype) if x is not None else '='} {exact}"


def relation(shown: str, exact: str | None, x: float | None = None,
             dtype: str | None = None) -> str:
    """``=`` when the decimal ``shown`` is exactly the rational ``exact``, else ``≈``. In
    float32 the float ``x`` itself must be ``exact`` (``20000.2 ≈ 100001/5``: float32 holds
    20000.19921875); float64's last-bit representation error is below what is printed."""
    value = _rational(exact)
    if value is None or _rational(shown) != value:
        return "≈"
    if dtype == "float32" and isinstance(x, float) and Fraction(x) != value:
        return "≈"
    return "="


def rounding_error(x: float | None, exact: str | None) -> float | None:
    """``x − exact`` when ``exact`` is a rational number (``-3/4``, ``1.5``) and the error
    shows at the digits ``num`` prints (``100001992`` for ``100002000.01``); ``None``
    otherwise (not rational, ``x`` not finite, or an error below the digits printed: float64's
    last-bit noise is not news). Parsed with ``Fraction``, which reads numbers only."""
    value = _rational(exact)
    if value is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    try:
        if num(float(value)) == num(x):
            return None
    except OverflowError:
        pass
    return float(Fraction(x) - value)


def _rational(text: str | None) -> Fraction | None:
    try:
        return Fraction(text.strip()) if text else None
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _same_decimal(shown: str, exact: str) -> bool:
    try:
        return float(exact) == float(shown) and len(exact) <= len(shown) + 2
    except ValueError:
        return False


def vector(items: list[str], limit: int = MAX_COLS) -> str:
    """``[2, 4]``, or ``[2, 4, 6, …, 100]`` (n = 50) past ``limit`` items."""
    if len(items) > limit:
        return "[" + ", ".join(items[: limit - 2]) + f", …, {items[-1]}] (n = {len(items)})"
    return "[" + ", ".join(items) + "]"


def elide(n: int, limit: int) -> list[int | None]:
    """Indices to show out of ``n``: all when ``n <= limit``, else the head, ``None``, the tail."""
    if n <= limit:
        return list(range(n))
    head = limit - 2
    return list(range(head)) + [None, n - 1]


def definitions(matrix) -> list[tuple[str, str]]:
    """``(name, formula)`` of each name a shortened J uses (``jacobian.definitions``), in
    order; ``[]`` when J is written out in full (or absent)."""
    if matrix is None:
        return []
    return [(d["name"], d["formula"]) for d in (matrix.definitions or [])]
