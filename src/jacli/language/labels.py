"""Names the program does not give: the label of an unnamed output, and what a snippet
with no declared leaf built (for the "nothing to differentiate" message).

An output's label heads its rows (``y``, ``y[0]``) and the JSON ``outputs``; it must never
read as one of the program's own names, least of all an input column's.
"""

from __future__ import annotations

import ast

from jacli.language.signatures import lookup
from jacli.language import ir
from jacli.language.parse import ExprParser

LABELS = ("y", "f", "out")  # an unnamed output's row label: the first that is free


def fresh_label(taken: set[str]) -> str:
    """The label of an unnamed output: ``y``, unless the program already uses that name
    (``jacobian "x*y"`` has an input y), then ``f``, ``out``, ``out2``, ..."""
    for label in LABELS:
        if label not in taken:
            return label
    n = 2
    while f"out{n}" in taken:
        n += 1
    return f"out{n}"


def expression_label(p: ExprParser, target: ast.expr) -> str | None:
    """``y.sum().backward()``: the output is ``y.sum()``, labelled by its own short text
    (not ``y``, which is another tensor); a long expression gets a fresh label."""
    text = p.segment(target).strip() if target.lineno == target.end_lineno else ""
    return text if 0 < len(text) <= 24 else None


def made_tensor(program: ir.Program) -> tuple[bool, str | None]:
    """Whether the program builds a tensor (a constructor call or a ``[..]`` literal), and
    the first name assigned one: what "no tensor has requires_grad=True" points at."""
    first = None
    found = False
    for node, name in [(s.value, s.name) for s in program.statements] + [(program.output, None)]:
        for n in ir.walk(node):
            if isinstance(n, ir.ListLit) or isinstance(n, ir.Call) and _constructs(n.fn):
                found = True
                if first is None and name is not None and n is node:
                    first = name
    return found, first


def _constructs(fn: str) -> bool:
    row = lookup(fn)
    return row is not None and row.kind == "constructor"
