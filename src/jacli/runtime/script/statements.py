"""Statements of a script: assignment and unpacking, ``def``/``class``/``return``, loops and
branches decided by the real values, ``with torch.no_grad()``, imports through the whitelist.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

import torch

from jacli.errors import ScriptError
from jacli.runtime.script.definitions import Definitions
from jacli.runtime.script.expressions import BINARY
from jacli.backends.sizes import check_operands
from jacli.runtime.script.objects import Break, Builtin, Continue, Instance, Return

_IN_PLACE_OP = {ast.Add: "add_", ast.Sub: "sub_", ast.Mult: "mul_", ast.Div: "div_",
                ast.Pow: "pow_"}
_CONTEXTS = (torch.no_grad, torch.enable_grad, torch.set_grad_enabled)
_REFUSED = {ast.Try: "'try'", ast.Raise: "'raise'", ast.Global: "'global'",
            ast.Nonlocal: "'nonlocal'", ast.AsyncFunctionDef: "'async def'"}


class Statements(Definitions):
    """Mixin of the machine: ``block(statements)``."""

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.step(stmt)
            method = getattr(self, "s_" + type(stmt).__name__, None)
            if method is None:
                what = _REFUSED.get(type(stmt), f"'{type(stmt).__name__}'")
                raise self.fail(stmt, f"{what} is not supported in scripts")
            method(stmt)

    # -- simple statements ----------------------------------------------------------------
    def s_Expr(self, stmt: ast.Expr) -> None:
        node = stmt.value
        if _is_super_init(node):
            return  # nn.Module's __init__ already ran: the machine made a real Module
        value = self.evaluate(node)
        if self.scope is self.globals and isinstance(value, torch.Tensor):
            self.last_output = (stmt.lineno, ast.unparse(node)[:40], value)

    def s_Pass(self, stmt) -> None:
        pass

    def s_Assign(self, stmt: ast.Assign) -> None:
        value = self.evaluate(stmt.value)
        for target in stmt.targets:
            self.bind(target, value)
        target = stmt.targets[-1]
        if self.scope is self.globals and isinstance(target, ast.Name) and \
                isinstance(value, torch.Tensor):
            self.last_output = (stmt.lineno, target.id, value)

    def s_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            self.bind(stmt.target, self.evaluate(stmt.value))

    def s_AugAssign(self, stmt: ast.AugAssign) -> None:
        target = stmt.target
        current = self.evaluate(_load(target))
        operand = self.evaluate(stmt.value)
        if isinstance(current, torch.Tensor) and type(stmt.op) in _IN_PLACE_OP:
            # x += y on a tensor is in place, as in Python: a leaf needs no_grad, views share
            method = Builtin(f"Tensor.{_IN_PLACE_OP[type(stmt.op)]}",
                             getattr(current, _IN_PLACE_OP[type(stmt.op)]), owner=current)
            self.in_place(method, method.name[7:], [operand], {}, stmt)
            return
        fn, symbol = BINARY.get(type(stmt.op), (None, None))
        if fn is None:
            raise self.fail(stmt, f"the operator {type(stmt.op).__name__}= is not supported")
        check_operands(symbol or "", current, operand, stmt.lineno)
        out = self.real(stmt, fn, current, operand)
        self.bind(target, out)

    def s_Delete(self, stmt: ast.Delete) -> None:
        for t in stmt.targets:
            if isinstance(t, ast.Name) and self.scope.find(t.id) is not None:
                del self.scope.find(t.id).names[t.id]

    def s_Assert(self, stmt: ast.Assert) -> None:
        if not self.truth(self.evaluate(stmt.test), stmt):
            raise self.fail(stmt, "the script's assert failed", kind=ScriptError)

    # -- binding --------------------------------------------------------------------------
    def bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            if "__" in target.id:
                raise self.fail(target, f"name {target.id!r} is refused")
            if target.id in self.overrides:
                self.override(target.id, value, target)
            self.scope.names[target.id] = value
            self.trace.label(value, target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target, value)
        elif isinstance(target, ast.Subscript):
            self.set_item(target, value)
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.evaluate(target.value), target.attr, value, target)
        else:
            raise self.fail(target, "this assignment target is not supported")

    def unpack(self, target, value) -> None:
        items = self.iterate(value, target)
        items = list(items.values()) if isinstance(items, dict) else list(items)
        starred = [i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
        if not starred and len(items) != len(target.elts):
            raise self.fail(target, f"cannot unpack {len(items)} values into "
                            f"{len(target.elts)} names", kind=ScriptError)
        if starred:
            k = starred[0]
            tail = len(target.elts) - k - 1
            items = items[:k] + [list(items[k:len(items) - tail])] + items[len(items) - tail:]
        for e, item in zip(target.elts, items):
            self.bind(e.value if isinstance(e, ast.Starred) else e, item)

    def set_item(self, target: ast.Subscript, value) -> None:
        base, index = self.evaluate(target.value), self.index(target.slice)
        if isinstance(base, torch.Tensor):
            before = self.trace.before_write(base)
            self.real(target, operator.setitem, base, index, value)
            self.written(base, before, "setitem", [value], {}, target, index=index)
        elif isinstance(base, (list, dict)):
            self.real(target, operator.setitem, base, index, value)
        else:
            raise self.fail(target, f"cannot write into a {type(base).__name__}")

    def set_attribute(self, obj, name: str, value, node) -> None:
        if name.startswith("_"):
            raise self.fail(node, f"attribute {name!r} is refused")
        if isinstance(obj, torch.Tensor) and name in ("requires_grad", "grad", "data"):
            self.real(node, setattr, obj, name, value)
        elif isinstance(obj, torch.nn.Module) and "_jacli_class" in obj.__dict__:
            if isinstance(value, (torch.nn.Module, torch.nn.Parameter)):
                self.real(node, setattr, obj, name, value)
            else:
                obj.__dict__["_jacli_fields"][name] = value
        elif isinstance(obj, Instance):
            obj.fields[name] = value
        elif isinstance(obj, torch.autograd.function.FunctionCtx) or \
                type(obj).__name__ == "Context":
            obj.__dict__.setdefault("_jacli_fields", set()).add(name)
            setattr(obj, name, value)
        elif isinstance(obj, torch.nn.Module) and name in ("weight", "bias"):
            self.real(node, setattr, obj, name, value)
        else:
            raise self.fail(node, f"setting .{name} of a {type(obj).__name__} is not supported")

    # -- control flow ---------------------------------------------------------------------
    def s_If(self, stmt: ast.If) -> None:
        self.block(stmt.body if self.truth(self.evaluate(stmt.test), stmt.test) else stmt.orelse)

    def s_For(self, stmt: ast.For) -> None:
        items = iter(self.iterate(self.evaluate(stmt.iter), stmt.iter))
        done = object()

        def next_item() -> bool:
            item = next(items, done)
            if item is not done:
                self.bind(stmt.target, item)
            return item is not done

        self.loop(stmt, "for", next_item)

    def s_While(self, stmt: ast.While) -> None:
        self.loop(stmt, "while", lambda: self.truth(self.evaluate(stmt.test), stmt.test))

    def loop(self, stmt, kind: str, again) -> None:
        """Run ``stmt.body`` while ``again()`` (which binds a for's target), ``break`` and
        ``continue`` as Python has them, ``else`` when no break; each iteration is a step."""
        count = 0
        while again():
            self.step(stmt)
            count += 1
            try:
                self.block(stmt.body)
            except Break:
                break
            except Continue:
                continue
        else:
            self.block(stmt.orelse)
        self.loop_note(stmt, kind, count)

    def loop_note(self, stmt, kind: str, count: int) -> None:
        note = self.loops.setdefault(stmt.lineno, [kind, 0, 0])
        note[1] += count
        note[2] += 1

    def s_Break(self, stmt) -> None:
        raise Break()

    def s_Continue(self, stmt) -> None:
        raise Continue()

    def s_Return(self, stmt: ast.Return) -> None:
        if self.depth == 0:
            raise self.fail(stmt, "'return' outside a function")
        raise Return(None if stmt.value is None else self.evaluate(stmt.value))

    def s_With(self, stmt: ast.With) -> None:
        if len(stmt.items) != 1 or stmt.items[0].optional_vars is not None:
            raise self.fail(stmt, "only `with torch.no_grad():` (or enable_grad) is supported")
        context = self.evaluate(stmt.items[0].context_expr)
        if not isinstance(context, _CONTEXTS):
            raise self.fail(stmt, "only `with torch.no_grad():` (or enable_grad) is supported")
        with context:
            self.block(stmt.body)

def _is_super_init(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr == "__init__" and isinstance(node.func.value, ast.Call) and \
        isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "super"


def _load(target: ast.expr) -> ast.expr:
    """The target of ``x += 1`` read as an expression."""
    copy = ast.fix_missing_locations(ast.copy_location(type(target)(**{
        **{f: getattr(target, f) for f in target._fields}, "ctx": ast.Load()}), target))
    return copy

