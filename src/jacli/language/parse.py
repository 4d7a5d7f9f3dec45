"""Expressions: Python ``ast`` nodes in, IR nodes out, through an allow-list.

Only the node types named here become IR; everything else is refused with its position and
a reason. Function names resolve to function-table rows now, so an unknown name fails at
parse time with the closest known names. Static arguments (shapes, dims, indices) are
folded to Python ints here, bounded, so ``ones(10**5, 10**5)`` is refused before any memory
is touched. Nothing is evaluated.
"""

from __future__ import annotations

import ast
import difflib
import re
from fractions import Fraction
from typing import Any

from jacli.errors import JacliError, LimitError, NameLookupError, ParseError
from jacli.language.signatures import Signature, known_names, lookup, shape_arg
from jacli.language import ir
from jacli.language.text import ColumnMap
from jacli.bounds import Limits
from jacli.language.unsupported import foreign, unsupported

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
           ast.MatMult: "matmul"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}
# Prefixes that only say where a function lives in PyTorch: torch.sin is sin.
NAMESPACES = {("torch",), ("torch", "nn", "functional"), ("F",), ("nn", "functional"),
              ("torch", "autograd"), ("torch", "linalg"), ("torch", "special")}
_DTYPES = {"float", "float32", "float64", "double", "half", "float16", "bfloat16"}
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


def closest(name: str, candidates) -> str:
    """A "did you mean" hint, or a pointer to the list of known functions."""
    near = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    return "`jacli functions` lists every function jacli knows"


class ExprParser:
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
            return method(node)
        reason = _REFUSED.get(type(node), f"{type(node).__name__} is not part of jacli's language")
        raise self.fail(node, reason, "see `jacli --help` for the language")

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
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return Ellipsis
        return self.static_int(node)

    def _Attribute(self, node: ast.Attribute) -> ir.Node:
        self.check_attr(node)
        if node.attr in ("T", "mT", "H"):
            return ir.Call("T", (self.expr(node.value),), (), self.pos(node))
        if node.attr == "data":
            return ir.Call("detach", (self.expr(node.value),), (), self.pos(node))
        if node.attr == "grad":
            raise self.fail(node, "reading .grad is what jacli computes for you",
                            "use `jacli vjp` or `jacli grad`: the output shows every .grad")
        chain = dotted(node)
        if chain and len(chain) == 2 and chain[0] in ("torch", "np", "numpy", "math") and \
                chain[1] in CONSTANTS:  # math.pi is the same number as pi
            return ir.Const(chain[1], self.pos(node))
        if chain and chain[-1] in _DTYPES and tuple(chain[:-1]) in NAMESPACES:
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

    # -- calls --------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> ir.Node:
        chain = dotted(node.func)
        if chain is None and isinstance(node.func, ast.Attribute):  # (x*2).register_hook()
            chain = ["(...)", node.func.attr]
        if isinstance(node.func, ast.Call):  # nn.ReLU()(x): the module is what is refused
            refused = unsupported(dotted(node.func.func))
            if refused:
                raise self.fail(node.func, *refused)
        refused = foreign(chain, chain is not None and lookup(chain[-1]) is not None)
        if refused:
            raise self.fail(node.func, *refused)
        name, receiver = self.callee(node.func)
        row = lookup(name)
        if row is None:
            refused = unsupported(chain)
            if refused:
                raise self.fail(node.func, *refused)
            raise self.fail(node.func, f"unknown function {name!r}",
                            closest(name, known_names()), NameLookupError)
        args = ([receiver] if receiver is not None else []) + list(node.args)
        tensors, statics = self.split_args(row, node, args)
        params = self.bind_params(row, node, statics)
        if row.kind == "constructor" and tensors == []:  # zeros(10**5, 10**5): refuse now
            named = dict(params)
            if "n" in named:  # eye(n) is n×n, eye(n, m) is n×m
                shape = (named["n"], named.get("m") or named["n"])
            else:
                shape = shape_arg(named.get("*shape") or ())
            self.check_elements(node, shape)
        return ir.Call(row.name, tuple(tensors), params, self.pos(node))

    def callee(self, func: ast.expr) -> tuple[str, ast.expr | None]:
        """The function name and, for a method call ``x.f()``, the receiver ``x``."""
        if isinstance(func, ast.Name):
            if "__" in func.id:
                raise self.fail(func, f"name {func.id!r} is refused")
            return func.id, None
        if isinstance(func, ast.Attribute):
            self.check_attr(func)
            chain = dotted(func)
            if chain and tuple(chain[:-1]) in NAMESPACES:
                return chain[-1], None
            return func.attr, func.value
        raise self.fail(func, "only named functions can be called", "e.g. sin(x) or x.sum()")

    def split_args(self, row: Signature, node: ast.Call, args: list) -> tuple[list, list]:
        low, high = row.tensors
        if low == -1:  # one list of tensors: stack([a, b], dim=0)
            if not args or not isinstance(args[0], (ast.List, ast.Tuple)):
                raise self.fail(node, f"{row.name}() takes a list of tensors, e.g. {row.name}([a, b])")
            seq = ir.ListLit(tuple(self.expr(e) for e in args[0].elts), self.pos(args[0]))
            return [seq], args[1:]
        if len(args) < low:
            raise self.fail(node, f"{row.name}() needs {low} tensor argument(s), got {len(args)}",
                            f"{row.name}: {row.doc}")
        return [self.expr(a) for a in args[:high]], args[high:]

    def bind_params(self, row: Signature, node: ast.Call, statics: list) -> tuple:
        names = list(row.params)
        if names and names[0].startswith("*"):
            values = [self.static(s) for s in statics]
            if not values and row.kind == "shape":
                raise self.fail(node, f"{row.name}() needs a shape, e.g. {row.name}(2, 2)")
            bound = [(names[0], tuple(values))]
        else:
            if len(statics) > len(names):
                raise self.fail(node, f"{row.name}() takes {row.tensors[1]} tensor argument(s)"
                                f"{' and ' + ', '.join(names) if names else ''}; "
                                f"got {row.tensors[1] + len(statics)} arguments",
                                f"{row.name}: {row.doc}")
            bound = [(n, self.static(s)) for n, s in zip(names, statics)]
        for kw in node.keywords:
            bound.extend(self.keyword(row, kw, names))
        return tuple(bound)

    def leaf_keywords(self, call: ast.Call) -> None:
        """Keywords of a leaf declaration: requires_grad=True/False, dtype=torch.<float>,
        device='…'; nothing else."""
        for kw in call.keywords:
            if kw.arg == "requires_grad":
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                    raise self.fail(kw.value, "requires_grad= must be True or False")
            elif kw.arg in ("dtype", "device"):
                self.keyword(lookup("zeros"), kw, [])
            else:
                raise self.fail(kw.value, f"keyword {kw.arg!r} is not supported here",
                                "a variable is declared with requires_grad=True, dtype=, device=")

    def keyword(self, row: Signature, kw: ast.keyword, names: list[str]) -> list:
        key = "dim" if kw.arg == "axis" else kw.arg
        if key is None or kw.arg not in row.keywords:
            raise self.fail(kw.value, f"{row.name}() takes no keyword {kw.arg!r}",
                            f"it accepts: {', '.join(sorted(row.keywords)) or 'none'}")
        if key == "requires_grad":
            raise self.fail(kw.value, f"torch.{row.name}(..., requires_grad=True) declares a "
                            "variable only as the whole right side of an assignment",
                            f"declare it first, then use the name: w = torch.{row.name}"
                            "(..., requires_grad=True)")
        if key == "dtype":
            chain = dotted(kw.value) or []
            if not (chain and chain[-1] in _DTYPES and tuple(chain[:-1]) in NAMESPACES):
                raise self.fail(kw.value, "dtype= must be a torch floating dtype",
                                "e.g. dtype=torch.float64 (jacli computes in --dtype anyway)")
            return []  # jacli computes in --dtype; the snippet's choice is not used
        if key == "device":
            if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)):
                raise self.fail(kw.value, "device= must be a string such as 'cpu'",
                                "jacli computes on --device")
            return []
        return [(key, self.static(kw.value))]

    # -- static arguments ---------------------------------------------------------------
    def static(self, node: ast.expr):
        """An int, bool, or tuple of ints known without evaluating anything."""
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.static(e) for e in node.elts)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        return self.static_int(node)

    def static_int(self, node: ast.expr) -> int:
        value = self._fold(node)
        if abs(value) > self.limits.static_int:
            raise self.fail(node, f"{value} is larger than the limit {self.limits.static_int}",
                            "shapes, dims and indices must be modest integers", LimitError)
        return value

    def _fold(self, node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            self.number(node)  # same literal rules as everywhere else
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self._fold(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Pow):
            a, b = self._fold(node.left), self._fold(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if b < 0 or b * max(abs(a), 2).bit_length() > 64:
                raise self.fail(node, "this integer power is too large for a shape or index",
                                cls=LimitError)
            return a**b
        raise self.fail(node, "expected an integer constant here",
                        "shapes, dims and indices are integers, e.g. x[0], x.view(2, 2)")


def dotted(node: ast.expr) -> list[str] | None:
    """``torch.nn.functional.relu`` as ``["torch", "nn", "functional", "relu"]``, or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _op_text(op: ast.AST) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
            ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~",
            ast.Not: "not"}.get(type(op), type(op).__name__)
