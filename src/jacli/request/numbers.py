"""One number of the ``--at`` / ``--v`` / ``--u`` grammar to an exact ``Fraction``.

    number := [+-] decimal ["/" decimal]    decimal := 12 | 1.5 | .5 | 1e-3

A number's size is judged from its digit strings before any integer is built, so no int()
sees a long digit string (Python refuses more than 4300 digits) and no power of ten is huge;
the verdict depends on the value, not on its spelling (``1e-401`` is ``0.000…1``). Refused:
division by zero, values past float64's range (ValueInputError), and, as limits that keep the
exact arithmetic small (LimitError), nonzero values below 1e-2000, more than
``Limits.digits`` significant digits (leading and trailing zeros do not count), and powers of
ten past ±4000 in either decimal of a fraction.
"""

from __future__ import annotations

import re
from fractions import Fraction

from jacli.errors import LimitError, ValueInputError

_DECIMAL = r"(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?"  # groups: digits, exponent
NUMBER = re.compile(rf"[+-]?{_DECIMAL}(?:/{_DECIMAL})?")
_FLOAT_MAX = Fraction(2) ** 1024
# Nonzero magnitudes below 10**-_TINY are refused: float64 rounds them to 0 anyway (its
# smallest subnormal is 4.9e-324), and the bound keeps each exact value's integers a few
# thousand digits long, under Python's 4300-digit int-to-str limit. Both decimals of a
# fraction keep their powers of ten within ±_POWER, so 1e-999999999 builds no giant integer.
_TINY = 2000
_POWER = 2 * _TINY
_TINY_VALUE = Fraction(1, 10 ** _TINY)


class Refused(Exception):
    """Why a number is refused; the reader adds the option and the column."""

    def __init__(self, message: str, hint: str | None = None, cls=ValueInputError) -> None:
        super().__init__(message)
        self.message, self.hint, self.cls = message, hint, cls


def exact(m: re.Match, digits: int) -> Fraction:
    """The value of a ``NUMBER`` match, or ``Refused``; ``digits`` bounds significant
    digits."""
    text = _short(m.group())
    num = _decimal(m.group(1), m.group(2))
    den = _decimal(m.group(3), m.group(4)) if m.group(3) else ("1", 0)
    if not den[0]:
        raise Refused(f"{text} divides by zero", "the point must be finite")
    if not num[0]:
        return Fraction(0)
    lead = _check_size(text, num, den, digits)
    value = _fraction(num) / _fraction(den)
    value = -value if m.group().startswith("-") else value
    # 10**(lead-1) < |value| < 10**(lead+1): only a value near a bound is compared with it
    # (a Fraction of 2000-digit integers cost every plain number 10 µs of its 21)
    if lead + 1 > 308 and abs(value) > _FLOAT_MAX:
        raise Refused(f"{text} is outside float64's range (about 1.8e308)")
    if lead - 1 < -_TINY and abs(value) < _TINY_VALUE:
        raise _tiny(text)
    return value


def _check_size(text: str, num: tuple[str, int], den: tuple[str, int], digits: int) -> int:
    """Refuse, from the digit strings alone, a value surely past float64's range or
    below 1e-_TINY, then too many significant digits and powers of ten past ±_POWER;
    return ``lead``: 10**(lead-1) < |value| < 10**(lead+1)."""
    lead = _lead(num) - _lead(den)  # 10**(lead-1) < |value| < 10**(lead+1)
    if lead - 1 > 308:
        raise Refused(f"{text} is outside float64's range (about 1.8e308)")
    if lead + 1 <= -_TINY:
        raise _tiny(text)
    count = max(len(num[0]), len(den[0]))
    if count > digits:
        raise Refused(f"a number with {count} significant digits; the limit is {digits}",
                      "float64 holds about 17 significant digits; write 1e500-style "
                      "numbers only when you mean them", cls=LimitError)
    if max(abs(num[1]), abs(den[1])) > _POWER:
        raise Refused(f"{text} needs a power of ten past 10^±{_POWER}; the limit is "
                      f"10^±{_POWER}", "write the value as one decimal, e.g. 1e-5",
                      cls=LimitError)
    return lead


def _tiny(text: str) -> Refused:
    return Refused(f"{text} is smaller than 1e-{_TINY}; the limit is 1e-{_TINY}",
                   "float64 rounds it to 0: write 0", cls=LimitError)


def _decimal(digits: str, exponent: str | None) -> tuple[str, int]:
    """A decimal as (significant digits, power of ten): ``"0.0120", "3"`` is ``("12", 0)``;
    zero is ``("", 0)``. An exponent of more than 18 digits is clamped to ±10**18, past every
    bound, so no int() sees a long digit string."""
    whole, _, fraction = digits.partition(".")
    significant = (whole + fraction).lstrip("0")
    stripped = significant.rstrip("0")
    if not stripped:
        return "", 0
    power = len(significant) - len(stripped) - len(fraction)
    if exponent:
        magnitude = exponent.lstrip("+-").lstrip("0")
        e = 10 ** 18 if len(magnitude) > 18 else int(magnitude or "0")
        power += -e if exponent.startswith("-") else e
    return stripped, power


def _short(text: str) -> str:
    """A number as an error quotes it: long ones cut to their ends and their length."""
    return text if len(text) <= 40 else f"{text[:16]}…{text[-16:]} ({len(text)} characters)"


def _lead(decimal: tuple[str, int]) -> int:
    """n such that 10**n <= the decimal < 10**(n+1)."""
    return len(decimal[0]) - 1 + decimal[1]


def _fraction(decimal: tuple[str, int]) -> Fraction:
    digits, power = decimal
    return Fraction(int(digits) * 10 ** max(power, 0), 10 ** max(-power, 0))
