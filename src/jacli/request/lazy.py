"""Values read fast: floats now, exact ``Fraction``s only when something asks for them.

A variable's value is a ``Numbers``: its floats (a NumPy array, a tensor the API was given, or
one Python number), which the torch side takes as they are, and its exact value, built on
first ask by the symbolic side or an exact display — never per entry of a large tensor that
nothing exact reads (``--symbolic never``, a symbolic side skipped for size).

``fast_point`` reads ``--at`` texts of plain decimals (what ``json.dumps`` and most tools
write) with JSON's C scanner into NumPy arrays: the floor of ``json.loads`` plus one array
build, where the exact reader costs ~20 µs a number. The exact value stays the decimal the
user typed (``0.1`` is 1/10): it is the exact reader's, run on the same texts when first
asked. A text the fast reader is not sure of (fractions, ``.5``, long digit runs, huge
exponents, anything odd) goes to the exact reader, which reads it or names the culprit.
"""

from __future__ import annotations

import json
import math
import re
import sys
from fractions import Fraction
from typing import Any, Callable

_NAMED = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=")  # ``x =`` before a value
_BLANKS = re.compile(r"[ \t]*")
# JSON numbers that ``_plain`` passes (digit runs of at most 40, exponents of at most 3
# digits), comma-separated, blanks around each
_NUMBER = r"[ \t]*-?(?:0|[1-9][0-9]{0,39})(?:\.[0-9]{1,40})?(?:[eE][-+]?[0-9]{1,3})?[ \t]*"
_NUMBERS = re.compile(rf"{_NUMBER}(?:,{_NUMBER})*")
_DECODE = json.JSONDecoder().raw_decode  # a value read where it stands, no copy
# per byte: digits → d, exponent → e, signs → s, structure kept, blanks → space, rest → ?
_CLASSES = bytes.maketrans(b"0123456789eE+-\t", b"ddddddddddeess ")
_TABLE = bytes(c if chr(c) in "des.,[] " else ord("?") for c in _CLASSES).decode("latin-1")
_EXACT_INTEGERS = 2 ** 53  # a float's integer value is the typed one below this
MAX_NEST = 32


class Numbers:
    """One variable's value: ``data`` (floats: an array, a tensor or a Python number) and
    ``shape`` now; ``exact()`` (a ``Fraction`` or nested lists of them) on first ask.
    ``typed``: the exact value is a decimal typed as text, which a float may only round."""

    __slots__ = ("data", "shape", "typed", "_exact")

    def __init__(self, data: Any, shape: tuple[int, ...], exact: Callable[[], Any],
                 typed: bool) -> None:
        self.data, self.shape, self.typed, self._exact = data, shape, typed, exact

    def exact(self):
        if callable(self._exact):
            self._exact = self._exact()
        return self._exact

    def __float__(self) -> float:
        return float(self.data)  # a scalar's float, as the torch side rounds it

    def json(self):
        """JSON numbers: integral values as integers (exactly the typed ones), others floats."""
        values = self.data.tolist() if hasattr(self.data, "tolist") else self.data
        try:
            return _json(values, self.typed)
        except _Typed:  # an integral float past 2**53 from text: the typed integer is exact
            return json_value(self.exact())

    def __repr__(self) -> str:
        return f"Numbers(shape={self.shape})"


class _Typed(Exception):
    """An integral float the text may have typed more exactly."""


def _json(x, typed: bool):
    if isinstance(x, list):
        return [_json(i, typed) for i in x]
    if isinstance(x, float) and x.is_integer():
        if typed and abs(x) >= _EXACT_INTEGERS:
            raise _Typed
        return int(x)
    return x


def json_value(x):
    """An exact value (``Fraction`` lists) or ``Numbers`` as JSON numbers: integers stay
    integers, the rest become floats."""
    if isinstance(x, Numbers):
        return x.json()
    if isinstance(x, list):
        return [json_value(i) for i in x]
    return int(x) if x.denominator == 1 else float(x)


def exact_of(x):
    """The exact value of a point's value, whichever way it was read."""
    return x.exact() if isinstance(x, Numbers) else x


def fast_point(texts: list[str], limits, exact_point: Callable) -> tuple[dict, list] | None:
    """``parse_point``'s answer with ``Numbers`` values, or ``None`` when any text is not
    plainly decimal JSON (the exact reader ``exact_point(texts, limits)`` then decides)."""
    items = []
    for text in texts:
        found = _items(text, limits.digits) if len(text) <= limits.value_chars else None
        if not found:
            return None
        items += found
    shared: list = []

    def exact(name: str | None, i: int):
        if not shared:  # every value's exact reading, once, by the reader of record
            shared.append(exact_point(texts, limits))
        named, positional = shared[0]
        return named[name] if name is not None else positional[i]

    named, positional, count = {}, [], 0
    for name, value, token in items:
        data = _numbers(value)
        if data is None or name in named:
            return None
        count += getattr(data, "size", 1)
        number = Numbers(data, getattr(data, "shape", ()), (
            (lambda token=token: decimal(token)) if token is not None else
            (lambda name=name, i=len(positional): exact(name, i))), typed=True)
        (positional.append(number) if name is None else named.__setitem__(name, number))
    if (named and positional) or count > limits.tensor_elements:
        return None
    return named, positional


def decimal(token: str) -> Fraction:
    """``Fraction(token)`` for a JSON number's text that ``_plain`` passed (exponents of at
    most 3 digits), read without ``Fraction``'s regular expression (1.2 µs against 3)."""
    mantissa, _, exponent = token.replace("E", "e").partition("e")
    whole, _, digits = mantissa.partition(".")
    n = int(whole + digits)
    shift = int(exponent or 0) - len(digits)
    return Fraction(n * 10 ** shift) if shift >= 0 else Fraction(n, 10 ** -shift)


def _items(text: str, digits: int) -> list[tuple[str | None, Any, str | None]] | None:
    """``x=[1,2], y=3`` as ``[("x", [1, 2], None), ("y", 3, "3")]`` and ``1,[2,3]`` as
    ``[(None, 1, "1"), (None, [2, 3], None)]``, read by JSON, with a number's own text (its
    exact value is ``Fraction`` of that decimal: no second reading); ``None`` for anything
    else (a mix, an empty item, a name that is not one, a value that is not ``_plain``).
    Each value is read where it stands (``raw_decode`` at an index) and the text is
    classified once: a megabyte-long value is never copied out (each copy cost ~1 ms, 3% of
    reading it)."""
    if not text.isascii():
        return None
    if digits >= 40 and len(text) <= 400 and _NUMBERS.fullmatch(text):
        # a few plain numbers, ``0.513, 2e-3`` (a small request's point): split, not
        # decoded one by one (equal: tests/test_values.py)
        tokens = [token.strip(" \t") for token in text.split(",")]
        return [(None, float(token), token) for token in tokens]
    t = text.translate(_TABLE)  # str to str: no encoded copy (0.8 ms a megabyte)
    named = "=" in text  # then every item is named; a mix is the exact reader's to refuse
    out, i = [], 0
    while True:
        name = None
        if named:
            m = _NAMED.match(text, i)
            if m is None:
                return None
            name, i = m.group(1), m.end()
        i = _BLANKS.match(text, i).end()
        try:
            value, end = _DECODE(text, i)
        except (ValueError, RecursionError):  # the exact reader names what is wrong
            return None
        if not _plain(t, i, end, digits):
            return None
        out.append((name, value, None if isinstance(value, list) else text[i:end]))
        i = _BLANKS.match(text, end).end()
        if i == len(text):
            return out
        if text[i] != ",":
            return None
        i += 1


def _plain(t: str, start: int, end: int, digits: int) -> bool:
    """Whether ``t[start:end]`` (the classified text of one value) holds only decimals JSON
    reads as the exact reader does, within its limits: ASCII digits, runs of at most 40 (and
    of at most ``digits``), exponents of at most 3 digits (so no value is past float64's
    range or below 1e-2000). An empty list passes here and is refused by ``_numbers`` (no
    elements, or ragged), which is cheaper than a regex over every byte."""
    return (t.find("?", start, end) < 0 and t.find("d" * min(41, digits + 1), start, end) < 0
            and not _long_exponent(t, start, end))


def _long_exponent(t: str, start: int, end: int) -> bool:
    """An exponent of 4 digits or more (``edddd``, ``esdddd``) in ``t[start:end]``. Exponents
    are rare (JSON writes 1e-05 only below 1e-4), and a substring search for ``edddd`` over a
    megabyte of digits costs 3 ms: so look only where an ``e`` stands, unless there are many
    (counting them first would read every byte once more: 0.5 ms a megabyte)."""
    at, seen = t.find("e", start, end), 0
    while at >= 0:
        seen += 1
        if seen > 1000:
            return t.find("edddd", start, end) >= 0 or t.find("esdddd", start, end) >= 0
        after = t[at + 1:min(at + 6, end)]
        if after.startswith("dddd") or after.startswith("sdddd"):
            return True
        at = t.find("e", at + 1, end)
    return False


def _numbers(value):
    """JSON's value as floats: a Python float or a float64 array (``-0.0`` reads as ``0``,
    as exactly); ``None`` when the exact reader must decide (ragged, empty, not finite)."""
    import numpy as np

    if not isinstance(value, list):
        value = float(value) + 0.0
        return value if math.isfinite(value) else None
    try:
        data = np.array(value, dtype=np.float64)
    except (ValueError, OverflowError):
        return None
    if data.size == 0 or data.ndim > MAX_NEST or not _finite_array(data):
        return None
    data += 0.0
    return data


def given(value, where: str):
    """A value the Python API was handed (a torch tensor, a NumPy array, a nested list or a
    number) as jacli's: a ``Fraction`` for a number, else ``Numbers`` holding a private copy
    of its floats, whose exact value is each float's own (0.1 is the double nearest 1/10;
    give the text ``"0.1"`` or ``Fraction(1, 10)`` for 1/10). Refuses what is not a finite
    real number."""
    if isinstance(value, (Fraction, int)) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(_finite(value, where))
    torch = sys.modules.get("torch")  # (a tensor means torch is imported: no import here)
    if torch is not None and isinstance(value, torch.Tensor):  # a Parameter, a subclass too
        dtype = value.dtype
        real = not dtype.is_complex and str(dtype) != "torch.bool"
        # taken of the private copy, which is then in cache (one pass over a large tensor's
        # memory fewer)
        data = _checked(value.detach().clone() if real else value, real, all_finite, where)
    elif type(value).__module__.startswith("torch.return_types"):  # torch.max(t, 1)'s pair
        raise _refused(where, "a tensor, not the (values, indices) pair of a reduction")
    else:  # NumPy's arrays, nested lists, torch.Size
        import numpy as np

        try:
            data = np.array(value, copy=True)
        except (ValueError, TypeError, RuntimeError):  # (RuntimeError: a list holding a
            # tensor that requires grad, which NumPy may not read)
            raise _refused(where, "a nested list of numbers with rows of equal length") from None
        data = _checked(data, data.dtype.kind in "fiu", _finite_array, where)
    if data.ndim == 0:
        return Fraction(_finite(data.item(), where))
    if 0 in data.shape:
        raise _refused(where, "at least one number (jacli's variables need elements)")
    return Numbers(data, tuple(data.shape), lambda: _fractions(data.tolist()), typed=False)


def all_finite(t) -> bool:
    """Whether every element of the torch tensor ``t`` is finite: its sum is, unless an
    element is not (or the sum overflows: then each is asked). One pass and one Python
    number, a tenth of torch's ``isfinite().all()``."""
    return math.isfinite(t.sum().item()) or bool(t.isfinite().all())


def _checked(data, real: bool, finite: Callable, where: str):
    """``data`` when it holds real numbers (floats or integers), all finite."""
    if not real:
        raise _refused(where, f"real numbers, not {data.dtype}")
    if not bool(finite(data)):
        raise _refused(where, "finite numbers (the function is evaluated at the point)")
    return data


def _finite_array(data) -> bool:
    import numpy as np

    return bool(np.isfinite(data).all())


def _finite(x, where: str):
    if isinstance(x, bool) or not math.isfinite(x):
        raise _refused(where, "finite real numbers")
    return x


def _refused(where: str, wanted: str):
    from jacli.errors import ValueInputError

    return ValueInputError(f"{where}: expected {wanted}", where=where.split()[0],
                           hint="give a tensor, a NumPy array, a nested list of numbers, a "
                           "number, or the value as text (e.g. \"[1, 2]\")")


def _fractions(x):
    return [_fractions(i) for i in x] if isinstance(x, list) else Fraction(x)
