"""Many points (``--at-file``): one program, N points, batched autograd, streamed results.

The points file is JSON Lines (``{"x1": 1, "x": [1, 2]}`` per line) or CSV (a header of
variable names, one row of numbers per point; scalar variables only). Numbers are read
exactly (JSON's number text goes straight to ``Fraction``). Every point must give every
variable, with the same shape.

Numerics are batched over points in chunks: the Jacobian with ``vmap(jacrev)`` (or
``jacfwd`` when inputs are fewer than outputs), the VJP with one ``Y.backward(V)`` over a
vmapped forward. The symbolic Jacobian is derived once; exact values are computed and
compared at the first ``CHECKED`` points only (per-point exact arithmetic would dominate).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from fractions import Fraction
from typing import Iterator

from jacli.errors import LimitError, ShapeError, ValueInputError
from jacli.values import Value, shape_of

CHUNK = 8192  # points per batched call: bounds memory at N × m × n floats per chunk
CHECKED = 3  # points checked against SymPy's exact values
MAX_POINTS = 10_000_000


def read_points(text: str, where: str) -> list[dict[str, Value]]:
    """Points from JSONL (a line starting with '{') or CSV text."""
    body = text.lstrip()
    points = _jsonl(text, where) if body.startswith("{") else _csv(text, where)
    if not points:
        raise ValueInputError(f"{where}: no points in the file", where=where)
    if len(points) > MAX_POINTS:
        raise LimitError(f"{where}: {len(points)} points; the limit is {MAX_POINTS}", where=where)
    return points


def _exact_number(text: str) -> Fraction:
    return Fraction(text)


def _refuse_constant(token: str):
    raise ValueError(f"{token} is not a finite number")


def _jsonl(text: str, where: str) -> list[dict[str, Value]]:
    points = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=_exact_number, parse_int=_exact_number,
                             parse_constant=_refuse_constant)
        except ValueError as e:
            raise ValueInputError(f"{where} line {n}: not a JSON object of numbers ({e})",
                                  line=n, where=where) from None
        if not isinstance(obj, dict) or not all(_numeric(v) for v in obj.values()):
            raise ValueInputError(f"{where} line {n}: expected {{\"name\": number or list}}",
                                  line=n, where=where)
        points.append(obj)
    return points


def _numeric(v) -> bool:
    return isinstance(v, Fraction) or (isinstance(v, list) and all(_numeric(i) for i in v))


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
            points.append({h: Fraction(c.strip()) for h, c in zip(header, row)})
        except ValueError:
            raise ValueInputError(f"{where} line {n}: not all numbers", line=n,
                                  where=where) from None
    return points


def evaluate_many(problem, points: list[dict[str, Value]]) -> Iterator[dict]:
    """One JSON-ready dict per point, in order; the first is preceded by a header object."""
    from jacli.compute import compute, prepare

    first = replace(problem, at=(_at_text(points[0]),))
    setup = prepare(first)
    checked = compute(replace(first, at=(_at_text(points[0]),)))  # symbolic, once
    yield {"schema": "jacli/1", "command": problem.command, "points": len(points),
           "variables": [{"name": v.name, "shape": list(v.shape)} for v in checked.variables],
           "inputs": list(checked.inputs), "outputs": list(checked.outputs),
           "jacobian_symbolic": checked.jacobian.symbolic if checked.jacobian else None,
           "strategy": "batched over points: torch.func.vmap(jacrev), or jacfwd when inputs "
                       "are fewer than outputs, for J; one Y.backward(V) for vᵀJ"}
    yield from _numeric_rows(problem, setup, points, checked)


def _at_text(point: dict[str, Value]) -> str:
    def txt(v):
        return "[" + ",".join(txt(i) for i in v) + "]" if isinstance(v, list) else \
            f"{v.numerator}/{v.denominator}"

    return ",".join(f"{k}={txt(v)}" for k, v in point.items())


def _numeric_rows(problem, setup, points, checked) -> Iterator[dict]:
    from jacli import autograd as ag
    from jacli.batched import batched
    from jacli.compute import compute

    B = ag.TorchBackend(problem.dtype, problem.device)
    v = None
    if problem.command in ("vjp", "grad"):
        v_exact = checked.vjp.v if checked.vjp is not None else [1.0]
        v = B.tensor([Fraction(x) for x in v_exact])
    names = list(setup.variables)
    shapes = {n: setup.shapes[n] for n in names}
    for start in range(0, len(points), CHUNK):
        chunk = points[start:start + CHUNK]
        X = {n: B.tensor([_get(p, n, shapes[n], start + i) for i, p in enumerate(chunk)])
             for n in names}
        rows = batched(setup.program, B, X, setup.wrt, problem.command, v)
        for i in range(len(chunk)):
            row = {"index": start + i, "value": rows["value"][i]}
            if "jacobian" in rows:
                row["jacobian"] = rows["jacobian"][i]
            if "vjp" in rows:
                row["vjp"] = rows["vjp"][i]
            if start + i < CHECKED:
                one = checked if start + i == 0 else compute(
                    replace(problem, at=(_at_text(chunk[i]),)))
                row["check"] = None if one.check is None else one.check.agree
            yield row


def _get(point: dict, name: str, shape, index: int) -> Value:
    if name not in point:
        raise ValueInputError(f"point {index + 1} has no value for {name!r}", where="--at-file")
    value = point[name]
    if shape_of(value, f"point {index + 1} {name}") != shape:
        raise ShapeError(f"point {index + 1}: {name} has shape {shape_of(value)}, the first "
                         f"point gave {shape}", where="--at-file")
    return value

