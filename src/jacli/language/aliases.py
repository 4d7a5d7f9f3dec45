"""Aliases and views: which tensor memory each name of a program holds.

In PyTorch ``b = a`` is the same tensor and ``b = a[0]``, ``a.view(…)``, ``a.T`` are views of
it, so an in-place write (``b[0] = …``, ``b += …``) changes ``a`` too. jacli writes a copy
(``ir.SetItem`` is out of place), so such a write would give a different answer: it is
refused, naming both names. A write into a tensor no other name holds is the same in both.
"""

from __future__ import annotations

import ast

from jacli.language import ir

# Calls whose result is a view of (or the same tensor as) their first argument in PyTorch;
# reshape/flatten are views whenever the memory allows, which is always the case here.
_VIEWS = {"view", "reshape", "flatten", "T", "t", "transpose", "unsqueeze", "squeeze",
          "detach", "permute", "expand", "narrow", "diagonal", "chunk", "split", "unbind"}


def viewed_name(node: ir.Node | None) -> str | None:
    """The name whose memory ``node`` shares (``a``, ``a[0]``, ``a.view(2, 2).T``), or None
    when ``node`` makes a new tensor. Indices are ints and slices only: always views."""
    while node is not None:
        if isinstance(node, ir.Name):
            return node.id
        if isinstance(node, ir.Index):
            node = node.base
        elif isinstance(node, ir.Call) and node.fn in _VIEWS and node.args:
            node = node.args[0]
        elif isinstance(node, ir.Op) and node.op == "pos":
            node = node.args[0]
        else:
            return None
    return None


class Memory:
    """Names to memory numbers, statement by statement: a name bound to a new tensor gets a
    new number, a name bound to an alias or view gets the number of the name it views."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}
        self.made = 0

    def _new(self) -> int:
        self.made += 1
        return self.made

    def _holding(self, name: str) -> int:
        if name not in self.of:  # a variable, not bound by the program: its own memory
            self.of[name] = self._new()
        return self.of[name]

    def bind(self, name: str, node: ir.Node | None) -> None:
        """``name = node`` (``node`` None: a new tensor, e.g. a declared leaf)."""
        source = viewed_name(node)
        self.of[name] = self._holding(source) if source else self._new()

    def check_write(self, p, target: ast.Name, what: str) -> None:
        """Refuse the in-place write ``what`` into ``target`` if another name holds its
        memory (``p`` is the parser, for the error's position)."""
        name = target.id
        if name not in self.of:
            return  # a name not made yet: the program's free_variables says so
        others = [n for n, m in self.of.items() if m == self.of[name] and n != name]
        if others:
            other = others[0]
            raise p.fail(target, f"{what} writes into {name!r}, which shares memory with "
                         f"{other!r} (one is an alias or a view of the other): PyTorch would "
                         f"change {other!r} too",
                         f"make a copy where it is made, e.g. {name} = {other}.clone() or "
                         f"{name} = {other}[0].clone(), then write")


def op_symbol(op: ast.operator) -> str:
    """``ast.Add`` as ``+``, for naming an augmented assignment."""
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@"}.get(type(op), "?")
