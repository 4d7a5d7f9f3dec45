"""Expressions of a script, evaluated on real values (the first half of the machine).

Operators, comparisons, literals, comprehensions, subscripts and f-strings, with Python's and
PyTorch's own semantics (``bool`` of a one-element tensor decides an ``if`` as Python does).
Each operation that yields a tensor requiring grad is written to the trace.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

import torch

from jacli.errors import LimitError, NameLookupError, ParseError, ScriptError
from jacli.runtime.script.objects import Func, Scope
from jacli.backends.sizes import check_operands
from jacli.runtime.script.messages import describe, first_line, hint_for, source_of
from jacli.runtime.script.trace import Untraceable, scalar_text

BINARY = {ast.Add: (operator.add, "+"), ast.Sub: (operator.sub, "-"),
          ast.Mult: (operator.mul, "*"), ast.Div: (operator.truediv, "/"),
          ast.Pow: (operator.pow, "**"), ast.MatMult: (operator.matmul, "@"),
          ast.FloorDiv: (operator.floordiv, None), ast.Mod: (operator.mod, None),
          ast.BitAnd: (operator.and_, None), ast.BitOr: (operator.or_, None)}
COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
           ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
           ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
MAX_ITEMS = 100_000  # one list a comprehension or range() may build


class Evaluator:
    """``evaluate(node)`` in the current scope; the machine supplies ``call``,
    ``attribute`` and ``step``."""

    trace: Any
    scope: Scope

    def fail(self, node, message: str, hint: str | None = None, kind=ParseError):
        return kind(message, hint=hint, line=getattr(node, "lineno", None),
                    column=getattr(node, "col_offset", -1) + 1 or None)

    def evaluate(self, node: ast.expr) -> Any:
        method = getattr(self, "e_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{describe(node)} is not supported in scripts")
        return method(node)

    # -- leaves ---------------------------------------------------------------------------
    def e_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, complex):
            raise self.fail(node, "complex numbers are not supported",
                            "jacli differentiates real functions")
        if isinstance(node.value, bytes):
            raise self.fail(node, "bytes literals are not supported")
        return node.value

    def e_Name(self, node: ast.Name) -> Any:
        return self.lookup(node.id, node)

    def e_Lambda(self, node: ast.Lambda) -> Func:
        return Func("<lambda>", node.args, node.body, self.scope,
                    [self.evaluate(d) for d in node.args.defaults],
                    [None if d is None else self.evaluate(d) for d in node.args.kw_defaults],
                    node.lineno)

    # -- operators ------------------------------------------------------------------------
    def e_BinOp(self, node: ast.BinOp) -> Any:
        a, b = self.evaluate(node.left), self.evaluate(node.right)
        fn, symbol = BINARY.get(type(node.op), (None, None))
        if fn is None:
            raise self.fail(node, f"the operator {type(node.op).__name__} is not supported")
        check_operands(symbol or "", a, b, node.lineno)
        out = self.real(node, fn, a, b)
        if isinstance(out, torch.Tensor) and out.numel() > self.limits.tensor_elements:
            raise self.fail(node, f"a tensor of {out.numel():.3g} elements; the limit is "
                            f"{self.limits.tensor_elements}", "use smaller tensors",
                            kind=LimitError)
        if symbol is None:
            self.untraceable(out, node, f"the operator {type(node.op).__name__}")
        else:
            self.record(out, node, f"({{}}) {symbol} ({{}})", [a, b])
        return out

    def e_UnaryOp(self, node: ast.UnaryOp) -> Any:
        a = self.evaluate(node.operand)
        if isinstance(node.op, ast.Not):
            return not self.truth(a, node)
        fn = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}[
            type(node.op)]
        out = self.real(node, fn, a)
        self.record(out, node, "-({})" if isinstance(node.op, ast.USub) else "({})", [a])
        return out

    def e_BoolOp(self, node: ast.BoolOp) -> Any:
        value = None
        for item in node.values:
            value = self.evaluate(item)
            if self.truth(value, item) == isinstance(node.op, ast.Or):
                return value
        return value

    def e_Compare(self, node: ast.Compare) -> Any:
        left, result = self.evaluate(node.left), True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.evaluate(right_node)
            result = self.real(node, COMPARE[type(op)], left, right)
            if len(node.ops) > 1 and not self.truth(result, node):
                return False
            left = right
        return result

    def e_IfExp(self, node: ast.IfExp) -> Any:
        self.step(node)
        return self.evaluate(node.body if self.truth(self.evaluate(node.test), node.test)
                         else node.orelse)

    # -- containers -----------------------------------------------------------------------
    def e_List(self, node: ast.List) -> list:
        return self.items(node.elts)

    def e_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.items(node.elts))

    def e_Set(self, node: ast.Set) -> set:
        return set(self.items(node.elts))

    def e_Dict(self, node: ast.Dict) -> dict:
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(self.evaluate(v))
            else:
                out[self.evaluate(k)] = self.evaluate(v)
        return out

    def items(self, elts) -> list:
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                out.extend(self.evaluate(e.value))
            else:
                out.append(self.evaluate(e))
        return out

    def e_Subscript(self, node: ast.Subscript) -> Any:
        base, index = self.evaluate(node.value), self.index(node.slice)
        out = self.real(node, operator.getitem, base, index)
        if isinstance(base, torch.Tensor):
            self.record_index(out, node, base, index)
        return out

    def record_index(self, out, node, base, index) -> None:
        try:
            text = ", ".join(scalar_text(i) for i in (index if isinstance(index, tuple)
                                                        else (index,)))
        except Untraceable as e:
            self.untraceable(out, node, str(e))
            return
        self.record(out, node, "{}[" + text + "]", [base])

    def index(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else self.evaluate(p)
                           for p in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Tuple):
            return tuple(self.index(e) for e in node.elts)
        return self.evaluate(node)

    def e_Slice(self, node: ast.Slice) -> slice:
        return self.index(node)

    # -- comprehensions -------------------------------------------------------------------
    def e_ListComp(self, node) -> list:
        return self.comprehension(node, lambda: self.evaluate(node.elt))

    e_GeneratorExp = e_ListComp

    def e_SetComp(self, node) -> set:
        return set(self.comprehension(node, lambda: self.evaluate(node.elt)))

    def e_DictComp(self, node) -> dict:
        return dict(self.comprehension(node, lambda: (self.evaluate(node.key),
                                                      self.evaluate(node.value))))

    def comprehension(self, node, element) -> list:
        outer, self.scope = self.scope, Scope(self.scope)
        out: list = []
        try:
            self._generators(node.generators, element, out)
        finally:
            self.scope = outer
        return out

    def _generators(self, generators, element, out: list) -> None:
        first, rest = generators[0], generators[1:]
        for item in self.iterate(self.evaluate(first.iter), first.iter):
            self.step(first)
            self.bind(first.target, item)
            if all(self.truth(self.evaluate(c), c) for c in first.ifs):
                if rest:
                    self._generators(rest, element, out)
                else:
                    out.append(element())
                    if len(out) > MAX_ITEMS:
                        raise self.fail(first, f"a comprehension of more than {MAX_ITEMS} "
                                        "items", kind=LimitError)

    # -- strings (only ever shown) --------------------------------------------------------
    def e_JoinedStr(self, node: ast.JoinedStr) -> str:
        return "".join(str(self.evaluate(v)) for v in node.values)

    def e_FormattedValue(self, node: ast.FormattedValue) -> str:
        value = self.evaluate(node.value)
        spec = "" if node.format_spec is None else self.evaluate(node.format_spec)
        try:
            return format(value, spec)
        except (TypeError, ValueError):
            return str(value)

    # -- helpers --------------------------------------------------------------------------
    def lookup(self, name: str, node) -> Any:
        if "__" in name and name != "__name__":
            raise self.fail(node, f"name {name!r} is refused")
        scope = self.scope.find(name)
        if scope is not None:
            return scope.names[name]
        if name == "__name__":
            return "__main__"
        builtin = self.builtin(name)
        if builtin is not None:
            return builtin
        raise self.fail(node, f"name {name!r} is not defined", "assign it before this line",
                        kind=NameLookupError)

    def truth(self, value: Any, node) -> bool:
        """``bool(value)`` as Python decides it; a tensor of many elements is PyTorch's
        error, said on this line."""
        try:
            return bool(value)
        except RuntimeError as e:
            raise self.fail(node, f"PyTorch: {first_line(e)}", "compare one element: "
                            "x.item(), x.norm(), or (x > 0).all()", kind=ScriptError) from None

    def iterate(self, value: Any, node) -> list:
        if isinstance(value, (int, float)) or value is None:
            raise self.fail(node, f"a {type(value).__name__} is not iterable", kind=ScriptError)
        if isinstance(value, range) and len(value) > MAX_ITEMS * 10:
            raise self.fail(node, f"a loop of {len(value)} iterations", kind=LimitError,
                            hint="the step budget allows fewer")
        try:
            return value if isinstance(value, (list, tuple, range, dict)) else list(value)
        except (TypeError, RuntimeError) as e:
            raise self.fail(node, f"cannot loop over this value: {first_line(e)}",
                            kind=ScriptError) from None

    def real(self, node, fn, *args, **kwargs) -> Any:
        """``fn(*args)`` on real values; PyTorch's and Python's errors become one line here."""
        try:
            return fn(*args, **kwargs)
        except OverflowError:  # Python's float arithmetic: "(34, 'Numerical result ...')"
            raise self.fail(node, "a number past float64's range (about 1.8e308)",
                            "use smaller numbers, or tensors (torch gives inf)",
                            kind=ScriptError) from None
        except MemoryError:
            raise self.fail(node, "out of memory", "use smaller tensors",
                            kind=LimitError) from None
        except (RuntimeError, TypeError, ValueError, IndexError, KeyError, ZeroDivisionError,
                AttributeError) as e:
            if "alloc" in str(e):  # torch's allocator: "can't allocate memory", alloc_cpu.cpp
                raise self.fail(node, f"out of memory: {first_line(e)}", "use smaller tensors",
                                kind=LimitError) from None
            raise self.fail(node, f"{source_of(fn)}{first_line(e)}", hint_for(e),
                            kind=ScriptError) from None

    def record(self, out, node, template: str, operands: list) -> None:
        """Write ``out = template(operands)`` to the trace (``{}`` for each operand; a
        Python operand is written inline)."""
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            return
        try:
            parts, tensors = [], []
            for o in operands:
                if isinstance(o, torch.Tensor):
                    parts.append("{%d}" % len(tensors))
                    tensors.append(o)
                else:
                    parts.append(scalar_text(o))
            text = template.format(*parts)
        except Untraceable as e:
            return self.untraceable(out, node, str(e))
        self.trace.record(out, text, tensors, node.lineno)

    def untraceable(self, out, node, what: str) -> None:
        self.trace.refuse(out, f"{what} (line {node.lineno}) cannot be replayed")
