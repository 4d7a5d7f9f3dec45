"""Calls: a function name resolved against the signatures, its operands and static arguments.

``CallReader`` is the part of ``ExprParser`` that reads ``f(x, 2, dim=0)`` and ``x.f()``: the
callee (a leading ``torch.``/``F.`` only says where the function lives), the tensor operands,
the static parameters folded to bounded Python ints now (so ``ones(10**5, 10**5)`` is refused
before any memory is touched), and the keywords a signature accepts. Known-but-unsupported
PyTorch APIs are refused naming the construct (``unsupported``).
"""

from __future__ import annotations

import ast
import difflib

from jacli.errors import LimitError, NameLookupError
from jacli.language import ir
from jacli.language.signatures import Signature, known_names, lookup, shape_arg
from jacli.language.unsupported import foreign, unsupported

# Prefixes that only say where a function lives in PyTorch: torch.sin is sin.
NAMESPACES = {("torch",), ("torch", "nn", "functional"), ("F",), ("nn", "functional"),
              ("torch", "autograd"), ("torch", "linalg"), ("torch", "special")}
DTYPES = {"float", "float32", "float64", "double", "half", "float16", "bfloat16"}


def closest(name: str, candidates) -> str:
    """A "did you mean" hint, or a pointer to the list of known functions."""
    near = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    return "`jacli functions` lists every function jacli knows"


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


class CallReader:
    """Mixed into ``ExprParser``: uses its ``expr``, ``fail``, ``pos``, ``number``,
    ``check_attr``, ``check_elements`` and ``limits``."""

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
        args = ([receiver] if receiver is not None else []) + list(node.args)
        if name in ("max", "min"):
            name = self.minmax(name, node, args)
        row = lookup(name)
        if row is None:
            refused = unsupported(chain)
            if refused:
                raise self.fail(node.func, *refused)
            raise self.fail(node.func, f"unknown function {name!r}",
                            closest(name, known_names()), NameLookupError)
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

    def minmax(self, name: str, node: ast.Call, args: list) -> str:
        """Which function ``torch.max``/``torch.min`` (or ``a.max()``) is: one tensor, the
        whole-tensor ``amax``/``amin``; two tensors, ``maximum``/``minimum``. A number as the
        second argument, or a dim=/keepdim= keyword, is torch.max(a, dim), which returns
        (values, indices): refused, never read as ``maximum(a, 0)``."""
        numeric = len(args) > 1 and all(
            isinstance(n, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.operator, ast.unaryop))
            for n in ast.walk(args[1]))
        if node.keywords or numeric or len(args) > 2:
            raise self.fail(node, f"torch.{name}(a, dim) returns (values, indices), not one "
                            "tensor", f"use a{name}(a, dim) for the values, e.g. "
                            f"a{name}(a, dim=0, keepdim=True); torch.{name}(a, b) with two "
                            f"tensors is {name}imum")
        return f"a{name}" if len(args) <= 1 else f"{name}imum"

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
            if not (chain and chain[-1] in DTYPES and tuple(chain[:-1]) in NAMESPACES):
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
