"""``--at`` / ``--v`` / ``--u`` text to exact values: ``Fraction`` or nested lists of them.

Grammar (a tiny recursive-descent parser; nothing is evaluated):

    point  := item ("," item)*          item := [NAME "="] value
    value  := number | "[" value ("," value)* "]"
    number := [+-] decimal ["/" decimal]    decimal := 12 | 1.5 | .5 | 1e-3

``0.1`` is exactly 1/10 and ``1/3`` is exactly one third. Non-finite numbers (nan, inf,
infinity; any case, any sign) are refused: the point must be where the function can be
evaluated. ``request.numbers`` reads one number and bounds its size. ``read_point`` reads
plain decimal texts fast (``request.lazy``) and keeps this reader for their exact values.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from jacli.errors import LimitError, ShapeError, ValueInputError
from jacli.bounds import DEFAULT_LIMITS, Limits
from jacli.request.lazy import Numbers, fast_point
from jacli.request.numbers import NUMBER, Refused, exact

Value = Any  # Fraction | list[Value] | Numbers (request.lazy)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NEST = 32
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
        m = NUMBER.match(self.text, self.i)
        if not m:
            raise self.fail(f"expected a number, found {self._found()}",
                            "numbers are decimals or fractions (1, -0.5, 1e-3, 1/3); "
                            "tensors are [..] lists")
        self.count += 1
        if self.count > self.limits.tensor_elements:
            raise self.fail(f"more than {self.limits.tensor_elements} numbers", cls=LimitError)
        try:
            value = exact(m, self.limits.digits)
        except Refused as e:
            raise self.fail(e.message, e.hint, cls=e.cls) from None
        self.i = m.end()
        return value

    def non_finite(self, word: str):
        """The one refusal of nan/inf/infinity, in any case and with any sign."""
        what = "the point" if self.where.startswith("--at") else "a direction"
        return self.fail(f"expected a finite number, found {word!r} ({what} must be finite)",
                         "the function is evaluated at the point: give finite numbers, e.g. "
                         "1e300" if what == "the point" else "give finite numbers")

    def _found(self) -> str:
        """What stands where a number should; a nan/inf word raises ``non_finite`` instead."""
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
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _check_ascii(text: str, where: str) -> None:
    if text.isascii() and not _CONTROL.search(text):
        return  # the common case, in C; the loop below finds the column
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


def read_point(texts: list[str], limits: Limits = DEFAULT_LIMITS
               ) -> tuple[dict[str, Value], list[Value]]:
    """``parse_point``'s bindings, read fast where the texts are plain decimals: each value
    a ``Numbers`` (floats now, the exact reading above when first asked); else exactly."""
    return fast_point(texts, limits, parse_point) or parse_point(texts, limits)


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
        return value.shape if isinstance(value, Numbers) else ()
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
    if isinstance(value, Numbers):
        return flatten(value.exact())
    if not isinstance(value, list):
        return [value]
    return [x for item in value for x in flatten(item)]
