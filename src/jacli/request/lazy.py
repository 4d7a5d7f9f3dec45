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
from fractions import Fraction
from typing import Any, Callable

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
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
    for name, value in items:
        data = _numbers(value)
        if data is None or name in named:
            return None
        count += getattr(data, "size", 1)
        number = Numbers(data, getattr(data, "shape", ()),
                         lambda name=name, i=len(positional): exact(name, i), typed=True)
        (positional.append(number) if name is None else named.__setitem__(name, number))
    if (named and positional) or count > limits.tensor_elements:
        return None
    return named, positional


def _items(text: str, digits: int) -> list[tuple[str | None, Any]] | None:
    """``x=[1,2], y=3`` as ``[("x", [1, 2]), ("y", 3)]`` and ``1,[2,3]`` as ``[(None, 1),
    (None, [2, 3])]``, read by JSON; ``None`` for anything else (a mix, an empty item, a name
    that is not one, a piece that is not ``_plain``)."""
    if "=" not in text:
        values = _loads("[" + text + "]", digits)
        return None if values is None else [(None, v) for v in values]
    out, start, eq = [], 0, text.find("=")
    while eq >= 0:
        name = text[start:eq].strip(" \t")
        nxt = text.find("=", eq + 1)
        end = len(text) if nxt < 0 else text.rfind(",", eq + 1, nxt)
        value = _loads(text[eq + 1:end], digits) if end >= 0 and _NAME.fullmatch(name) else None
        if value is None:
            return None
        out.append((name, value))
        start, eq = end + 1, nxt
    return out


def _loads(piece: str, digits: int):
    """JSON's reading of a ``_plain`` piece, else ``None``."""
    if not _plain(piece, digits):
        return None
    try:
        return json.loads(piece)
    except ValueError:
        return None


def _plain(piece: str, digits: int) -> bool:
    """Only decimals JSON reads as the exact reader does, within its limits: ASCII digits,
    runs of at most 40 (and of at most ``digits``), exponents of at most 3 digits (so no
    value is past float64's range or below 1e-2000). An empty list passes here and is
    refused by ``_numbers`` (no elements, or ragged), which is cheaper than a regex over every
    byte."""
    if not piece.isascii():
        return False
    t = piece.translate(_TABLE)  # str to str: no encoded copy (0.8 ms a megabyte)
    return not ("?" in t or "d" * min(41, digits + 1) in t or _long_exponent(t))


def _long_exponent(t: str) -> bool:
    """An exponent of 4 digits or more (``edddd``, ``esdddd``). Exponents are rare (JSON
    writes 1e-05 only below 1e-4), and a substring search for ``edddd`` over a megabyte of
    digits costs 3 ms: so look only where an ``e`` stands, unless there are many (counting
    them first would read every byte once more: 0.5 ms a megabyte)."""
    at, seen = t.find("e"), 0
    while at >= 0:
        seen += 1
        if seen > 1000:
            return "edddd" in t or "esdddd" in t
        after = t[at + 1:at + 6]
        if after.startswith("dddd") or after.startswith("sdddd"):
            return True
        at = t.find("e", at + 1)
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
    if type(value).__module__.partition(".")[0] == "torch":
        dtype = value.dtype
        real = not dtype.is_complex and str(dtype) != "torch.bool"
        # the sum is finite unless an element is not (or it overflows: then ask each), and costs
        # a tenth of torch's isfinite().all()
        data = _checked(value.detach(), real, lambda d: d.sum().isfinite() or d.isfinite().all(),
                        where).clone()
    else:
        import numpy as np

        try:
            data = np.array(value, copy=True)
        except (ValueError, TypeError):
            raise _refused(where, "a nested list of numbers with rows of equal length") from None
        data = _checked(data, data.dtype.kind in "fiu", _finite_array, where)
    if data.ndim == 0:
        return Fraction(_finite(data.item(), where))
    if 0 in data.shape:
        raise _refused(where, "at least one number (jacli's variables need elements)")
    return Numbers(data, tuple(data.shape), lambda: _fractions(data.tolist()), typed=False)


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
