"""Expressions: Python ``ast`` nodes in, IR nodes out, through an allow-list.

Only the node types named here become IR; everything else is refused with its position and
a reason. Calls are read by ``calls.CallReader`` (names resolve to signatures now, so an
unknown name fails at parse time with the closest known names; static arguments are folded
to bounded ints). Nothing is evaluated.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import Any

from jacli.bounds import Limits
from jacli.errors import JacliError, LimitError, NameLookupError, ParseError
from jacli.language import ir
from jacli.language.calls import DTYPES, NAMESPACES, CallReader, closest, dotted
from jacli.language.signatures import TABLE, known_names, lookup
from jacli.language.text import ColumnMap

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
           ast.MatMult: "matmul"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}
CONSTANTS = {"pi"}
_DANGEROUS = {"eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals",
              "locals", "vars", "input", "breakpoint", "memoryview", "system", "popen"}
_DECIMAL = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?(\d+))?$")
_REFUSED = {
    ast.Lambda: "lambdas are not part of jacli's language",
    ast.ListComp: "comprehensions are not part of jacli's language",
    ast.SetComp: "comprehensions are not part of jacli's language",
    ast.DictComp: "comprehensions are not part of jacli's language",
    ast.GeneratorExp: "generator expressions are not part of jacli's language",
    ast.JoinedStr: "strings are not part of jacli's language",
    ast.NamedExpr: "':=' is not part of jacli's language",
    ast.IfExp: "conditional expressions are not part of jacli's language; "
               "use relu, abs, maximum or minimum for piecewise functions",
    ast.Compare: "comparisons are not part of jacli's language",
    ast.BoolOp: "'and'/'or' are not part of jacli's language",
    ast.Dict: "dicts are not part of jacli's language",
    ast.Set: "sets are not part of jacli's language",
    ast.Starred: "'*' unpacking is not part of jacli's language",
    ast.Await: "'await' is not part of jacli's language",
    ast.Yield: "'yield' is not part of jacli's language",
}


class ExprParser(CallReader):
    """Turns one ``ast.expr`` into an IR node; raises ``JacliError`` for anything else."""

    def __init__(self, source: str, rewritten: str, cmap: ColumnMap, limits: Limits) -> None:
        self.source = source
        self.lines = rewritten.split("\n")
        self.cmap = cmap
        self.limits = limits

    # -- positions and errors ---------------------------------------------------------
    def pos(self, node: ast.AST) -> ir.Pos:
        line = getattr(node, "lineno", 1)
        return line, self.cmap.original(line, getattr(node, "col_offset", 0))

    def fail(self, node: ast.AST, message: str, hint: str | None = None,
             cls: type[JacliError] = ParseError) -> JacliError:
        line, column = self.pos(node)
        return cls(message, hint=hint, line=line, column=column, source=self.source,
                   where="expression")

    def fail_at(self, pos: ir.Pos, message: str, hint: str | None = None) -> JacliError:
        return ParseError(message, hint=hint, line=pos[0], column=pos[1], source=self.source,
                          where="expression")

    def check_elements(self, node: ast.AST, shape: tuple) -> None:
        count = 1
        for n in shape:
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise self.fail(node, f"bad shape {shape}", "a shape is non-negative integers")
            count *= n
        if count > self.limits.tensor_elements:
            raise self.fail(node, f"a tensor of shape {shape} has {count} elements; the limit is "
                            f"{self.limits.tensor_elements}", "use a smaller tensor", LimitError)

    def segment(self, node: ast.AST) -> str:
        line = self.lines[node.lineno - 1]
        if node.end_lineno != node.lineno:
            return line[node.col_offset:]
        return line[node.col_offset:node.end_col_offset]

    # -- expressions ----------------------------------------------------------------
    def expr(self, node: ast.expr) -> ir.Node:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is not None:
            return self.whole(method(node), node)
        reason = _REFUSED.get(type(node), f"{type(node).__name__} is not part of jacli's language")
        raise self.fail(node, reason, "see `jacli --help` for the language")

    def whole(self, value: ir.Node, node: ast.expr) -> ir.Node:
        """``value`` unless it is a tuple (``x.chunk(2)``, ``torch.max(a, 0)``) used whole:
        only an element of it (``[0]``, ``.values``) is a tensor."""
        if isinstance(value, ir.Call) and TABLE[value.fn].tuple_out and \
                "pick" not in dict(value.params):
            if value.fn in ("max_dim", "min_dim"):
                raise self.fail(node, f"torch.{value.fn[:3]}(a, dim) returns (values, indices), "
                                "not one tensor", "take .values (or [0]): the gradient goes "
                                f"to the returned index; or use a{value.fn[:3]}(a, dim)")
            raise self.fail(node, f"{value.fn}() returns a tuple of tensors",
                            f"take one of them, e.g. x.{value.fn}(...)[0]")
        return value

    def picked(self, call: ast.Call, pick: ast.expr | int) -> ir.Node | None:
        """Element ``pick`` of a call that returns a tuple; any other call indexed as usual."""
        value = self._Call(call)
        if not (isinstance(value, ir.Call) and TABLE[value.fn].tuple_out):
            return None
        index = pick if isinstance(pick, int) else self.static_int(pick)
        if value.fn in ("max_dim", "min_dim") and index % 2 == 1:
            raise self.fail(call, "the indices of torch.max/min(a, dim) are integers: no "
                            "gradient flows through them", "take .values or [0]")
        return ir.Call(value.fn, value.args, value.params + (("pick", index),), value.pos)

    def _BinOp(self, node: ast.BinOp) -> ir.Node:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator {_op_text(node.op)} is not supported",
                            "jacli knows + - * / ** ^ @ (and ^ means power)")
        return ir.Op(op, (self.expr(node.left), self.expr(node.right)), self.pos(node))

    def _UnaryOp(self, node: ast.UnaryOp) -> ir.Node:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator {_op_text(node.op)} is not supported")
        return ir.Op(op, (self.expr(node.operand),), self.pos(node))

    def _Constant(self, node: ast.Constant) -> ir.Node:
        value = node.value
        if isinstance(value, complex):
            raise self.fail(node, "complex numbers are not supported",
                            "jacli computes on the reals, as torch does with real dtypes")
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
            what = "strings" if isinstance(value, (str, bytes)) else repr(value)
            raise self.fail(node, f"{what} cannot be used as a value here",
                            "values are numbers, tensors [..] and variables")
        return ir.Num(self.number(node), self.segment(node), self.pos(node))

    def number(self, node: ast.Constant) -> Fraction:
        text = self.segment(node)
        m = _DECIMAL.match(text)
        if not m:
            raise self.fail(node, f"number {text!r} is not a plain decimal",
                            "write numbers in decimal, like 31, 1000, 0.5 or 1e-3 "
                            "(no hex, underscores or complex)")
        if m.group(3) and len(m.group(3)) > 3:
            raise self.fail(node, f"number {text!r} has an exponent out of range",
                            "float64 spans about 1e-308 to 1e308", cls=LimitError)
        return Fraction(text)

    def _Name(self, node: ast.Name) -> ir.Node:
        name = node.id
        if "__" in name:
            raise self.fail(node, f"name {name!r} is refused", "names with '__' are not allowed")
        if name in CONSTANTS:
            return ir.Const(name, self.pos(node))
        if name in ("torch", "F", "nn", "np", "numpy", "math"):
            example = f"{name}.sin(x)" if name in ("torch", "F") else "torch.sin(x) or sin(x)"
            raise self.fail(node, f"{name!r} is a namespace, not a value",
                            f"call a function from it, e.g. {example}")
        row = lookup(name)
        if row is not None and row.kind == "elementwise":  # t, sum, dot stay usable as names
            raise self.fail(node, f"{name!r} is a function, not a value",
                            f"call it: {name}(x)", cls=NameLookupError)
        return ir.Name(name, self.pos(node))

    def _List(self, node: ast.List) -> ir.Node:
        if not node.elts:
            raise self.fail(node, "an empty list is not a tensor jacli can use")
        return ir.ListLit(tuple(self.expr(e) for e in node.elts), self.pos(node))

    def _Tuple(self, node: ast.Tuple) -> ir.Node:
        raise self.fail(node, "a tuple is not a value here",
                        "use [a, b] for a tensor; a comma list is only allowed as the outputs")

    def _Subscript(self, node: ast.Subscript) -> ir.Node:
        if isinstance(node.value, ast.Call) and not isinstance(node.slice, (ast.Slice, ast.Tuple)):
            value = self.picked(node.value, node.slice)  # x.chunk(2)[0]
            if value is not None:
                return value
        return ir.Index(self.expr(node.value), self.index(node.slice), self.pos(node))

    def index(self, node: ast.expr) -> tuple[Any, ...]:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        return tuple(self._index_item(item) for item in items)

    def _index_item(self, node: ast.expr):
        if isinstance(node, ast.Slice):
            parts = [None if p is None else self.static_int(p)
                     for p in (node.lower, node.upper, node.step)]
            if parts[2] is not None and parts[2] <= 0:
                raise self.fail(node, "a slice step must be positive (as in PyTorch)")
            return slice(*parts)
        if isinstance(node, ast.Constant) and (node.value is Ellipsis or node.value is None):
            return node.value  # ... and None (a new axis of length 1), as in PyTorch
        return self.static_int(node)

    def _Attribute(self, node: ast.Attribute) -> ir.Node:
        self.check_attr(node)
        if node.attr == "T":  # reverses all axes (torch: any ndim, deprecated unless 2-D)
            return ir.Call("T", (self.expr(node.value),), (), self.pos(node))
        if node.attr in ("mT", "mH"):  # batched: swaps only the last two axes
            return ir.Call("transpose", (self.expr(node.value),), (("dim0", -2), ("dim1", -1)),
                           self.pos(node))
        if node.attr == "H":  # conjugate transpose of a matrix; real here, so .t()
            return ir.Call("t", (self.expr(node.value),), (), self.pos(node))
        if node.attr == "data":
            return ir.Call("detach", (self.expr(node.value),), (), self.pos(node))
        if node.attr == "values" and isinstance(node.value, ast.Call):  # torch.max(a, 0).values
            value = self.picked(node.value, 0)
            if value is not None:
                return value
        if node.attr in ("real", "imag", "conj", "angle"):
            raise self.fail(node, f".{node.attr}: complex numbers are not supported",
                            "jacli computes on the reals, as torch does with real dtypes")
        if node.attr == "grad":
            raise self.fail(node, "reading .grad is what jacli computes for you",
                            "use `jacli vjp` or `jacli grad`: the output shows every .grad")
        chain = dotted(node)
        if chain and len(chain) == 2 and chain[0] in ("torch", "np", "numpy", "math") and \
                chain[1] in CONSTANTS:  # math.pi is the same number as pi
            return ir.Const(chain[1], self.pos(node))
        if chain and chain[-1] in DTYPES and tuple(chain[:-1]) in NAMESPACES:
            raise self.fail(node, f"{'.'.join(chain)} is a dtype, not a value",
                            "jacli computes in --dtype (float64 by default)")
        raise self.fail(node, f"unknown attribute .{node.attr}",
                        closest(node.attr, ["T", "data"] + known_names()), NameLookupError)

    def check_inert(self, node: ast.AST) -> None:
        """Lines jacli ignores (``print(...)``) are still read through the allow-list's
        eyes: no dunder names or attributes, no code-running builtins, no lambdas."""
        for sub in ast.walk(node):
            name = getattr(sub, "id", None) or getattr(sub, "attr", None) or ""
            if "__" in name or name in _DANGEROUS:
                raise self.fail(sub, f"{name!r} is refused, even in a line jacli ignores")
            if type(sub) in _REFUSED and not isinstance(sub, (ast.JoinedStr, ast.Compare)):
                raise self.fail(sub, _REFUSED[type(sub)])

    def check_attr(self, node: ast.Attribute) -> None:
        if "__" in node.attr or node.attr.startswith("_"):
            raise self.fail(node, f"attribute {node.attr!r} is refused",
                            "jacli only knows the tensor methods in its function table")

def _op_text(op: ast.AST) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
            ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~",
            ast.Not: "not"}.get(type(op), type(op).__name__)
