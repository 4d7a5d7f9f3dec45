"""The points file of ``--at-file``: JSON Lines or CSV text in, ``Points`` out.

JSON Lines: ``{"x1": 1, "x": [1, 2]}`` per line. CSV: a header of variable names, then one
row of numbers per point (scalar variables only). The numbers are read by C parsers into
floats (JSON's own, ``float``), which round each number exactly as the one-point path's
exact reading does (``float(Fraction(text))``), so the batched numbers are those of
``jacli … --at`` point by point. Anything unusual (``1/3`` in a CSV, a bad line) goes
through the exact reader, which reads it as ``--at`` would or names the culprit. Any point
can also be read exactly, on demand (``Points.exact``): the checked points, and the rare
number a float parse gets subtly different (``-0.0`` reads as ``0`` exactly).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from fractions import Fraction
from typing import Callable

from jacli.bounds import gc_paused
from jacli.errors import JacliError, LimitError, ShapeError, ValueInputError
from jacli.request.values import Value, read_number, shape_of

MAX_POINTS = 10_000_000
# Numbers Fraction() would read slowly or not at all (a 5000-digit run; 1e-999999999 builds a
# 10**999999999): the exact reading hands them to ``--at``'s bounded reader. (The fast reader's
# floats take them as float64 rounds them; a scan for them would cost 7% of its time.)
_ODD = re.compile(r"\d{41,}|[eE][+-]?0*[1-9]\d{3,}")


class Points:
    """N points from a file: numbers as Python ints and floats (or nested lists of them),
    either one dict per point (JSON Lines) or one list per variable (CSV); ``exact(i)``
    reads point i again with every number a ``Fraction``."""

    def __init__(self, count: int, exact: Callable[[int], dict[str, Value]],
                 rows: list[dict] | None = None, columns: dict[str, list] | None = None) -> None:
        self.count, self._exact, self._rows, self._columns = count, exact, rows, columns
        self.exact_list: list | None = None  # every point read exactly (``exactly``)

    @classmethod
    def exactly(cls, exact: list[dict[str, Value]]) -> "Points":
        """Points already read exactly (``Fraction`` values), as floats rounded once."""
        points = cls(len(exact), exact.__getitem__,
                     rows=[{k: floats(v) for k, v in p.items()} for p in exact])
        points.exact_list = exact
        return points

    def plain(self) -> tuple:
        """These points as plain data for another process (``from_plain`` rebuilds them):
        JSON rows that all name the same variables travel as columns, which pickle several
        times faster than 10⁵ small dicts and read the same."""
        if self.exact_list is not None:
            return self.count, None, None, self.exact_list
        rows, columns = self._rows, self._columns
        if rows and all(r.keys() == rows[0].keys() for r in rows):
            rows, columns = None, {k: [r[k] for r in self._rows] for k in self._rows[0]}
        return self.count, rows, columns, None

    def __len__(self) -> int:
        return self.count

    def exact(self, i: int) -> dict[str, Value]:
        return self._exact(i)

    def names(self) -> list[str]:
        return list(self._columns if self._columns is not None else self._rows[0])

    def column(self, name: str, shape: tuple[int, ...]) -> list:
        """``name``'s value at every point; ``ValueInputError``/``ShapeError`` naming the
        first point that lacks it, has another shape, or holds something not a number."""
        if self._columns is not None:
            values = self._columns.get(name)
            if values is None:
                raise _missing(0, name)
        else:
            try:
                values = [row[name] for row in self._rows]
            except KeyError:
                raise _missing(next(i for i, r in enumerate(self._rows) if name not in r),
                               name) from None
        if shape == () and set(map(type, values)) <= {float, int}:
            return values  # the common case, checked in C
        for i, value in enumerate(values):
            if not _numeric(value):
                raise ValueInputError(f"--at-file point {i + 1}: {name} is not a number or a "
                                      "list of numbers", where="--at-file")
            if shape_of(value, f"point {i + 1} {name}") != shape:
                raise ShapeError(f"point {i + 1}: {name} has shape {shape_of(value)}, the "
                                 f"first point gave {shape}", where="--at-file")
        return values

    def check_names(self, variables) -> None:
        """Refuse a point that names something that is not a variable."""
        if self._columns is not None:
            extra = [k for k in self._columns if k not in variables]
            if extra:
                raise _not_a_variable(0, extra[0], variables)
            return
        k = len(variables)
        if all(len(row) == k for row in self._rows):
            return  # every point has k names; column() finds any variable that is missing
        for i, row in enumerate(self._rows):
            extra = [name for name in row if name not in variables]
            if extra:
                raise _not_a_variable(i, extra[0], variables)


def _missing(i: int, name: str) -> ValueInputError:
    return ValueInputError(f"point {i + 1} has no value for {name!r}", where="--at-file")


def _not_a_variable(i: int, name: str, variables) -> ValueInputError:
    from jacli.request.binding import names_text

    return ValueInputError(f"point {i + 1}: {name!r} is not a variable of this function",
                           hint=f"variables: {names_text(variables)}", where="--at-file")


def read_points(text: str, where: str) -> Points:
    """Points from JSONL (a line starting with '{') or CSV text."""
    jsonl = text.lstrip().startswith("{")
    with gc_paused():
        try:
            points = _fast_jsonl(text, where) if jsonl else _fast_csv(text, where)
        except _Unusual:
            # raises, or reads it
            points = Points.exactly(_jsonl(text, where) if jsonl else _csv(text, where))
    if not len(points):
        raise ValueInputError(f"{where}: no points in the file", where=where)
    if len(points) > MAX_POINTS:
        raise LimitError(f"{where}: {len(points)} points; the limit is {MAX_POINTS}", where=where)
    return points


class _Unusual(Exception):
    """The fast reader met something it leaves to the exact one."""


def _fast_jsonl(text: str, where: str) -> Points:
    scan = json.JSONDecoder(parse_constant=_refuse_constant).scan_once  # C scanner, one line
    lines = _nonblank(text)
    rows = []
    try:
        for line in lines:
            row, end = scan(line, 0)
            if end != len(line) or type(row) is not dict:
                raise _Unusual
            rows.append(row)
    except (ValueError, StopIteration, RecursionError):
        raise _Unusual from None
    return Points(len(rows), _naming_point(_Lines(text, lines), where), rows=rows)


class _Lines:
    """Point i read exactly from the i-th non-blank line of ``text`` (split once, if need be)."""

    def __init__(self, text: str, lines: list[str] | None = None) -> None:
        self.text, self.lines = text, lines

    def __call__(self, i: int) -> dict[str, Value]:
        if self.lines is None:
            self.lines = _nonblank(self.text)
        return _exact_json(self.lines[i])


def _nonblank(text: str) -> list[str]:
    return [s for s in map(str.strip, text.splitlines()) if s]

def from_plain(data: tuple, text: str, where: str) -> Points:
    """``Points.plain``'s data, read from JSON Lines ``text``, as ``Points`` again."""
    count, rows, columns, exact = data
    if exact is not None:
        return Points.exactly(exact)
    return Points(count, _naming_point(_Lines(text), where), rows=rows, columns=columns)


def _fast_csv(text: str, where: str) -> Points:
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    body = [row for row in rows[1:] if row]
    if not body or any(len(row) != len(header) for row in body):
        raise _Unusual
    try:  # float() reads what Fraction() reads, and also nan/inf, which are refused below
        columns = {h: list(map(float, col)) for h, col in zip(header, zip(*body))}
    except ValueError:
        raise _Unusual from None
    if not all(all(map(math.isfinite, col)) for col in columns.values()):
        raise _Unusual  # nan and inf are not numbers here; 1e400 is, exactly: leave it to _csv
    exact = _naming_point(lambda i: {h: _exact_number(c.strip()) for h, c in zip(header, body[i])},
                          where)
    return Points(len(body), exact, columns=columns)


def _exact_json(line: str) -> dict[str, Value]:
    return json.loads(line, parse_float=_exact_number, parse_int=_exact_number,
                      parse_constant=_refuse_constant)


def _exact_number(token: str) -> Fraction:
    """``Fraction(token)``; an odd token (see ``_ODD``) gets ``--at``'s verdict instead."""
    return read_number(token, "number") if _ODD.search(token) else Fraction(token)


def _at_line(e: JacliError, where: str, n: int) -> JacliError:
    """``read_number``'s refusal, naming the file's line."""
    message = e.message.removeprefix("number: ")
    return type(e)(f"{where} line {n}: {message}", hint=e.hint, line=n, where=where)


def _naming_point(exact: Callable[[int], dict[str, Value]], where: str):
    """``exact``, its refusal (of a number the fast reader took as a float) naming the point."""
    def read(i: int) -> dict[str, Value]:
        try:
            point = exact(i)
        except JacliError as e:
            message = e.message.removeprefix("number: ")
            raise type(e)(f"{where} point {i + 1}: {message}", hint=e.hint,
                          where=where) from None
        for name, value in point.items():  # null, a string: the fast reader took any value
            if not _numeric(value):
                raise ValueInputError(f"{where} point {i + 1}: {name} is not a number or a "
                                      "list of numbers", where=where)
        return point
    return read


def _refuse_constant(token: str):
    raise ValueError(f"{token} is not a finite number")


def _jsonl(text: str, where: str) -> list[dict[str, Value]]:
    """The exact reader: every number a ``Fraction``; errors name the line."""
    points = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = _exact_json(line)
        except ValueError as e:
            raise ValueInputError(f"{where} line {n}: not a JSON object of numbers ({e})",
                                  line=n, where=where) from None
        except RecursionError:
            raise ValueInputError(f"{where} line {n}: lists nest too deep", line=n,
                                  where=where) from None
        except JacliError as e:
            raise _at_line(e, where, n) from None
        if not isinstance(obj, dict) or not all(_numeric(v) for v in obj.values()):
            raise ValueInputError(f"{where} line {n}: expected {{\"name\": number or list}}",
                                  line=n, where=where)
        points.append(obj)
    return points


def _numeric(v) -> bool:
    if isinstance(v, list):
        return all(_numeric(i) for i in v)
    return type(v) in (Fraction, int, float)  # not bool: JSON true is not a number


def _csv(text: str, where: str) -> list[dict[str, Value]]:
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    points = []
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueInputError(f"{where} line {n}: {len(row)} values for {len(header)} "
                                  "columns", line=n, where=where)
        try:
            points.append({h: _exact_number(c.strip()) for h, c in zip(header, row)})
        except ValueError:
            raise ValueInputError(f"{where} line {n}: not all numbers", line=n,
                                  where=where) from None
        except JacliError as e:
            raise _at_line(e, where, n) from None
    return points


def floats(value):
    """Exact values to floats, rounded once (an overflow is an infinity, as ``--at`` has it)."""
    if isinstance(value, list):
        return [floats(v) for v in value]
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def at_text(point: dict) -> str:
    """A point as ``--at`` text, exactly (``x=[1/2,3]``)."""
    def txt(v):
        return "[" + ",".join(txt(i) for i in v) + "]" if isinstance(v, list) else \
            f"{v.numerator}/{v.denominator}"

    return ",".join(f"{k}={txt(v)}" for k, v in point.items())
