"""The validated program: a small tree of frozen nodes, the only thing the interpreter walks.

Python's ``ast`` is how the text is read; this IR is what survives the whitelist. Every
function call is already resolved to a row of the function table, every static argument
(shapes, dims) is already a Python int, and every number is an exact ``Fraction``.
Positions are 1-based (line, column) in the user's original text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

Pos = tuple[int, int]  # (line, column), 1-based


class Real(float):
    """A real static argument (``beta=0.1``): a Python float, as torch takes it, that keeps
    its exact value in ``exact`` for the symbolic side."""

    exact: Fraction

    def __new__(cls, exact: Fraction) -> "Real":
        try:
            value = float(exact)
        except OverflowError:
            value = float("inf") if exact > 0 else float("-inf")
        real = super().__new__(cls, value)
        real.exact = exact
        return real


@dataclass(frozen=True)
class Num:
    value: Fraction
    text: str
    pos: Pos


@dataclass(frozen=True)
class Name:
    """A variable or a name assigned earlier in the program."""

    id: str
    pos: Pos


@dataclass(frozen=True)
class Const:
    """A named constant such as ``pi``."""

    id: str
    pos: Pos


@dataclass(frozen=True)
class Op:
    """An operator: ``add sub mul div pow matmul`` (two args) or ``neg pos`` (one)."""

    op: str
    args: tuple["Node", ...]
    pos: Pos


@dataclass(frozen=True)
class Call:
    """A call of function-table row ``fn`` on tensor ``args`` with static ``params``."""

    fn: str
    args: tuple["Node", ...]
    params: tuple[tuple[str, Any], ...]
    pos: Pos


@dataclass(frozen=True)
class Index:
    """``base[index]``; each index item is an int or a ``slice`` of ints."""

    base: "Node"
    index: tuple[Any, ...]
    pos: Pos


@dataclass(frozen=True)
class ListLit:
    """A list literal ``[a, b, ...]``: a tensor, stacked along a new first axis."""

    items: tuple["Node", ...]
    pos: Pos


@dataclass(frozen=True)
class Outputs:
    """A comma list of outputs ``f1, f2, f3``: flattened and concatenated."""

    items: tuple["Node", ...]
    pos: Pos


Node = Union[Num, Name, Const, Op, Call, Index, ListLit, Outputs]


@dataclass(frozen=True)
class Assign:
    """``name = value``; ``no_grad`` when inside a ``with torch.no_grad():`` block."""

    name: str
    value: Node
    no_grad: bool
    pos: Pos


@dataclass(frozen=True)
class SetItem:
    """``name[index] = value``: an out-of-place update of an existing tensor."""

    name: str
    index: tuple[Any, ...]
    value: Node
    no_grad: bool
    pos: Pos


Statement = Union[Assign, SetItem]


@dataclass(frozen=True)
class Leaf:
    """A variable declared in the program (``torch.tensor([...], requires_grad=True)``).

    ``value`` is the declared value as nested ``Fraction`` lists, or ``None`` when the
    program gave none that jacli can use (``torch.randn``): then ``--at`` must.
    """

    name: str
    value: Any
    pos: Pos
    why_missing: str | None = None


@dataclass(frozen=True)
class Program:
    """A parsed, validated program.

    ``statements`` run in order, then ``output`` is evaluated. ``variables`` are the free
    names (natural order), declared leaves included. ``v`` is the ``y.backward(v)``
    argument when the program had one. ``output_label`` names the output's rows.
    """

    source: str
    statements: tuple[Statement, ...]
    output: Node
    output_label: str
    variables: tuple[str, ...]
    leaves: tuple[Leaf, ...] = ()
    v: Node | None = None
    ignored: tuple[str, ...] = field(default=())  # lines accepted and ignored (imports, prints)


def walk(node: Node):
    """Every node of the expression ``node``, itself included (iterative: deep trees are
    fine; the order is unspecified)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (Op, Call)):
            stack.extend(n.args)
        elif isinstance(n, (ListLit, Outputs)):
            stack.extend(n.items)
        elif isinstance(n, Index):
            stack.append(n.base)
