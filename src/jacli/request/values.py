"""``--at`` / ``--v`` / ``--u`` text to exact values: ``Fraction`` or nested lists of them.

Grammar (a tiny recursive-descent parser; nothing is evaluated):

    point  := item ("," item)*          item := [NAME "="] value
    value  := number | "[" value ("," value)* "]"
    number := [+-] decimal ["/" decimal]    decimal := 12 | 1.5 | .5 | 1e-3

``0.1`` is exactly 1/10 and ``1/3`` is exactly one third. Non-finite numbers (nan, inf,
infinity in any case and with any sign) are refused: the point must be where the function
can be evaluated. So are values past float64's range, and, as limits that keep the exact
arithmetic small, nonzero values below 1e-2000 and numbers of more than ``Limits.digits``
significant digits (leading and trailing zeros do not count).
"""

from __future__ import annotations

import difflib
import re
from fractions import Fraction
from typing import Any

from jacli.errors import LimitError, ShapeError, ValueInputError
from jacli.bounds import DEFAULT_LIMITS, Limits

Value = Any  # Fraction | list[Value]
_DECIMAL = r"(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?"  # groups: digits, exponent
_NUMBER = re.compile(rf"[+-]?{_DECIMAL}(?:/{_DECIMAL})?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NEST = 32
_FLOAT_MAX = Fraction(2) ** 1024
# Nonzero magnitudes below 10**-_TINY are refused: float64 rounds them to 0 anyway (its
# smallest subnormal is 4.9e-324), and the bound keeps each exact value's integers a few
# thousand digits long, under Python's 4300-digit int-to-str limit. Both decimals of a
# fraction keep their powers of ten within ±_POWER, so 1e-999999999 builds no giant integer.
_TINY = 2000
_POWER = 2 * _TINY
_NON_FINITE = ("nan", "inf", "infinity")


class _Reader:
    """Cursor over one option's text; every error names the option and the column."""

    def __init__(self, text: str, where: str, limits: Limits) -> None:
        self.text, self.where, self.limits, self.i = text, where, limits, 0
        self.count = 0

    def fail(self, message: str, hint: str | None = None, cls=ValueInputError):
        return cls(f"{self.where}: {message}", hint=hint, line=1, column=self.i + 1,
                   source=self.text, where=self.where)

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.i] if self.i < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected {ch!r}, found {found}")
        self.i += 1

    def value(self, depth: int = 0) -> Value:
        if depth > _MAX_NEST:
            raise self.fail(f"lists nest more than {_MAX_NEST} deep", cls=LimitError)
        if self.peek() == "[":
            self.i += 1
            items = [self.value(depth + 1)]
            while self.peek() == ",":
                self.i += 1
                items.append(self.value(depth + 1))
            self.expect("]")
            return items
        return self.number()

    def number(self) -> Fraction:
        """One number, exactly; errors point at its first character."""
        self.skip()
        m = _NUMBER.match(self.text, self.i)
        if not m:
            raise self.fail(f"expected a number, found {self._found()}",
                            "numbers are decimals or fractions (1, -0.5, 1e-3, 1/3); "
                            "tensors are [..] lists")
        self.count += 1
        if self.count > self.limits.tensor_elements:
            raise self.fail(f"more than {self.limits.tensor_elements} numbers", cls=LimitError)
        value = self._exact(m)
        self.i = m.end()
        return value

    def _exact(self, m: re.Match) -> Fraction:
        """The value of a ``_NUMBER`` match. Its size is judged from the digit strings first
        (range, powers of ten, significant digits), so no int() sees a long digit string and
        no power of ten is huge; the verdict depends on the value, not on its spelling."""
        text = _short(m.group())
        num = _decimal(m.group(1), m.group(2))
        den = _decimal(m.group(3), m.group(4)) if m.group(3) else ("1", 0)
        if not den[0]:
            raise self.fail(f"{text} divides by zero", "the point must be finite")
        if not num[0]:
            return Fraction(0)
        self._check_size(text, num, den)
        value = _fraction(num) / _fraction(den)
        value = -value if m.group().startswith("-") else value
        if abs(value) > _FLOAT_MAX:
            raise self.fail(f"{text} is outside float64's range (about 1.8e308)")
        if abs(value) < Fraction(1, 10 ** _TINY):
            raise self._tiny(text)
        return value

    def _check_size(self, text: str, num: tuple[str, int], den: tuple[str, int]) -> None:
        """Refuse, from the digit strings alone, a value surely past float64's range or
        below 1e-_TINY, then too many significant digits and powers of ten past ±_POWER."""
        lead = _lead(num) - _lead(den)  # 10**(lead-1) < |value| < 10**(lead+1)
        if lead - 1 > 308:
            raise self.fail(f"{text} is outside float64's range (about 1.8e308)")
        if lead + 1 <= -_TINY:
            raise self._tiny(text)
        digits = max(len(num[0]), len(den[0]))
        if digits > self.limits.digits:
            raise self.fail(f"a number with {digits} significant digits; the limit is "
                            f"{self.limits.digits}", "float64 holds about 17 significant "
                            "digits; write 1e500-style numbers only when you mean them",
                            cls=LimitError)
        if max(abs(num[1]), abs(den[1])) > _POWER:
            raise self.fail(f"{text} needs a power of ten past 10^±{_POWER}; the limit is "
                            f"10^±{_POWER}", "write the value as one decimal, e.g. 1e-5",
                            cls=LimitError)

    def _tiny(self, text: str):
        return self.fail(f"{text} is smaller than 1e-{_TINY}; the limit is 1e-{_TINY}",
                         "float64 rounds it to 0: write 0", cls=LimitError)

    def non_finite(self, word: str):
        """The one refusal of nan/inf/infinity, in any case and with any sign."""
        return self.fail(f"expected a finite number, found {word!r} (the point must be "
                         "finite)", "the function is evaluated at the point: give finite "
                         "numbers, e.g. 1e300")

    def _found(self) -> str:
        rest = self.text[self.i:self.i + 12]
        if not rest:
            return "the end"
        word = _SIGNED_WORD.match(rest)
        if word and word.group(1).lower() in _NON_FINITE:
            raise self.non_finite(word.group())
        return repr(rest)

    def done(self) -> bool:
        return self.peek() == ""


_SIGNED_WORD = re.compile(r"[+-]?([A-Za-z_]+)")


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


def _check_ascii(text: str, where: str) -> None:
    for i, ch in enumerate(text):
        if not (" " <= ch <= "~" or ch == "\t"):
            raise ValueInputError(f"{where}: character U+{ord(ch):04X} is not allowed",
                                  hint="type plain ASCII digits, e.g. 1,2 or x=[1,2]",
                                  line=1, column=i + 1, source=text, where=where)


def _reader(text: str, where: str, limits: Limits) -> _Reader:
    if len(text) > limits.value_chars:
        raise LimitError(f"{where}: {len(text)} characters; the limit is {limits.value_chars}",
                         where=where)
    _check_ascii(text, where)
    r = _Reader(text, where, limits)
    if r.done():
        raise r.fail("the value is empty", "e.g. --at 1,2 or --at x=[1,2]")
    return r


def _items(texts: list[str], limits: Limits):
    """Every item of every ``--at`` text, in order: (text number, reader, name or None,
    value); the reader is positioned after the item, for errors that name its column."""
    for k, text in enumerate(texts):
        r = _reader(text, "--at", limits)
        while True:
            yield k, r, _item_name(r), r.value()
            if r.done():
                break
            r.expect(",")
            if r.peek() in (",", ""):
                raise r.fail("an empty item", "separate values by single commas: 1,2")


def parse_point(texts: list[str], limits: Limits = DEFAULT_LIMITS
                ) -> tuple[dict[str, Value], list[Value]]:
    """All ``--at`` texts: named bindings (``x=..``) and positional values, in order."""
    named: dict[str, Value] = {}
    positional: list[Value] = []
    for _, r, name, value in _items(texts, limits):
        if name is None:
            positional.append(value)
        elif name in named:
            raise r.fail(f"{name!r} is given twice")
        else:
            named[name] = value
    if named and positional:
        raise ValueInputError("--at: mix of named (x=1) and positional (1) values",
                              hint="name every value, or give them all in variable order",
                              where="--at")
    return named, positional


_ASSIGNED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=")  # values hold no '=': names only


def parse_points(texts: list[str], limits: Limits = DEFAULT_LIMITS
                 ) -> list[dict[str, Value]] | None:
    """Several ``--at`` values for a variable (``--at x=1 --at x=2 --at y=0``) make points:
    point i takes the i-th value of each repeated variable, and a variable given once holds
    at every point. ``None`` when no variable is repeated across ``--at`` options (one
    point, ``parse_point``'s; ``x=1,x=2`` in one option is a slip it names), found by a scan
    of the names alone, so one point's values are parsed once, by ``parse_point``."""
    names = [set(_ASSIGNED.findall(t)) for t in texts]
    if sum(map(len, names)) == len(set().union(*names)):
        return None
    values: dict[str, list[Value]] = {}
    last: dict[str, int] = {}
    for k, _, name, value in _items(texts, limits):
        if name is None or last.get(name) == k:
            return None
        last[name] = k
        values.setdefault(name, []).append(value)
    counts = {len(v) for v in values.values()} - {1}
    if not counts:
        return None
    if len(counts) > 1:
        given = ", ".join(f"{k} {len(v)}" for k, v in values.items() if len(v) > 1)
        raise ValueInputError(f"--at: repeated variables need the same number of values "
                              f"(given: {given})",
                              hint="point i takes the i-th value of each repeated variable",
                              where="--at")
    (n,) = counts
    return [{k: v[i] if len(v) > 1 else v[0] for k, v in values.items()} for i in range(n)]


def _item_name(r: _Reader) -> str | None:
    r.skip()
    m = _NAME.match(r.text, r.i)
    if not m:
        if r.peek() == "=":
            raise r.fail("a value without a name before '='", "write name=value, e.g. x=1")
        return None
    if m.group().lower() in _NON_FINITE and r.text[m.end():].lstrip(" \t")[:1] != "=":
        raise r.non_finite(m.group())  # a bare nan or inf, not a name
    r.i = m.end()
    r.expect("=")
    return m.group()


def parse_vector(text: str, where: str = "--v", limits: Limits = DEFAULT_LIMITS) -> Value:
    """``--v``: one nested list (``[[1,0.1],[0.01,0.001]]``), or numbers ``1,2,3`` (a 1-D list),
    or one number (a scalar)."""
    r = _reader(text, where, limits)
    items = [r.value()]
    while not r.done():
        r.expect(",")
        items.append(r.value())
    return items[0] if len(items) == 1 else items


def read_number(text: str, where: str, limits: Limits = DEFAULT_LIMITS) -> Fraction:
    """The whole of ``text`` as one number of the grammar above (a points file's number):
    exact, or the ``JacliError`` ``--at`` would raise for it, naming ``where``."""
    r = _Reader(text, where, limits)
    value = r.number()
    if not r.done():
        raise r.fail(f"expected one number, found {r._found()}")
    return value


def shape_of(value: Value, where: str = "value") -> tuple[int, ...]:
    """Shape of a nested list; raises ``ShapeError`` for ragged lists and empty ones."""
    if not isinstance(value, list):
        return ()
    if not value:
        raise ShapeError(f"{where}: an empty list",
                         hint="PyTorch allows empty tensors, but jacli's variables need "
                         "elements: give at least one number", where=where)
    inner = [shape_of(v, where) for v in value]
    if any(s != inner[0] for s in inner):
        raise ShapeError(f"{where}: the nested lists are ragged (rows of different shapes)",
                         hint="every row of a tensor needs the same length", where=where)
    return (len(value),) + inner[0]


def flatten(value: Value) -> list[Fraction]:
    """Row-major (C order) list of the numbers in ``value``."""
    if not isinstance(value, list):
        return [value]
    return [x for item in value for x in flatten(item)]


def names_text(names, limit: int = 10) -> str:
    """``x1, x2, x3`` or, for long lists, ``x1, x2, …, x200 (188 names)``."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit - 2]) + f", …, {names[-1]} ({len(names)} names)"


def bind(variables: tuple[str, ...], named: dict[str, Value], positional: list[Value],
         declared: dict[str, Value]) -> dict[str, Value]:
    """Values for every variable: ``--at`` overrides what the program declared.

    Raises ``ValueInputError`` naming the unknown, missing or surplus values.
    """
    for name in named:
        if name not in variables:
            near = difflib.get_close_matches(name, variables, n=2, cutoff=0.5)
            raise ValueInputError(
                f"--at: {name!r} is not a variable of this function",
                hint=f"variables: {names_text(variables) or 'none'}"
                + (f"; did you mean {' or '.join(map(repr, near))}?" if near else ""),
                where="--at")
    if positional:
        free = [v for v in variables if v not in declared]
        order = free if len(positional) == len(free) else list(variables)
        if len(positional) != len(order):
            raise _count_error(order, positional)
        named = dict(zip(order, positional))
    point = {**declared, **named}
    missing = [v for v in variables if v not in point]
    if missing:
        raise ValueInputError(f"--at: no value for {names_text(missing)}",
                              hint=f"variables in order: {names_text(variables)}; "
                              f"e.g. --at {missing[0]}=1", where="--at")
    return {v: point[v] for v in variables}


def _count_error(order: list[str], positional: list[Value]) -> ValueInputError:
    """Positional ``--at`` values that do not match the variables one to one, with a hint
    written in the function's own names: a vector is one bracketed value, not several."""
    names = names_text(order)
    if len(positional) == 1 and isinstance(positional[0], list) and len(order) > 1:
        numbers = [_text(x) for x in flatten(positional[0])]
        if len(numbers) != len(order):
            numbers = [str(i + 1) for i in range(len(order))]
        return ValueInputError(
            f"--at: a bracketed list is one vector value, but the function has {len(order)} "
            f"variables ({names})",
            hint=f"give one number per variable: --at {','.join(numbers)}, or name them: "
            + " ".join(f"--at {v}={x}" for v, x in zip(order[:3], numbers))
            + (" ..." if len(order) > 3 else ""),
            where="--at")
    message = f"--at: {len(positional)} value(s) for {len(order)} variable(s) ({names})"
    scalars = all(not isinstance(x, list) for x in positional)
    if len(order) == 1 and scalars:
        items = ",".join(_text(x) for x in positional)
        return ValueInputError(message, where="--at",
                               hint=f'if {order[0]} is a vector, give it as one bracketed list: '
                               f'--at "{order[0]}=[{items}]"')
    if len(positional) > len(order) and scalars:
        return ValueInputError(message, where="--at",
                               hint="one value per variable in this order; a vector variable "
                               f'takes one bracketed list, e.g. --at "{order[0]}=[1,2]"')
    return ValueInputError(message, where="--at",
                           hint="give one value per variable in this order, or name them: "
                           + " ".join(f"--at {v}=1" for v in order[:3])
                           + (" ..." if len(order) > 3 else ""))


def _text(x: Fraction) -> str:
    """A number as ``--at`` reads it back: ``2``, ``2.5``, ``-1/3``."""
    if x.denominator == 1:
        return str(x.numerator)
    short = repr(float(x))
    return short if "e" not in short and Fraction(short) == x else str(x)
