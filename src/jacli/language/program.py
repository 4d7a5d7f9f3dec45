"""Programs: statements, pasted PyTorch, the output and the free variables.

Owns the statement forms of DESIGN §2: assignments, subscript assignments, ``with
torch.no_grad():`` blocks, leaves declared with ``requires_grad=True``, one ``y.backward(v)``
call, and the lines of pasted tutorial code that are accepted and ignored (imports of torch,
``print(...)``, notebook display lines). Expressions are delegated to ``ExprParser``.
"""

from __future__ import annotations

import ast
import re
import warnings

from jacli.errors import LimitError, NameLookupError, ParseError
from jacli.language import ir
from jacli.language.aliases import Memory, op_symbol
from jacli.language.labels import expression_label, fresh_label
from jacli.language.leaves import declares_leaf, is_ctor, leaf
from jacli.language.calls import dotted
from jacli.language.parse import ExprParser
from jacli.language.text import check_size, clean, syntax_error
from jacli.bounds import DEFAULT_LIMITS, Limits

_REFUSED_STMT = {
    ast.FunctionDef: "'def' is not supported: write the body as statements",
    ast.For: "loops are not supported; jacli shows the whole Jacobian at once (`jacli jacobian`)",
    ast.While: "loops are not supported; jacli shows the whole Jacobian at once (`jacli jacobian`)",
    ast.If: "'if' is not supported; use relu, abs, maximum or minimum for piecewise functions",
    ast.ClassDef: "'class' is not supported",
    ast.Return: "'return' is not supported: the output is the last expression",
    ast.Delete: "'del' is not supported",
    ast.Global: "'global' is not supported",
    ast.Try: "'try' is not supported",
    ast.Raise: "'raise' is not supported",
    ast.Assert: "'assert' is not supported",
}


def natural_key(name: str):
    """``x2`` before ``x10``: digit runs compare as numbers."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name) if p]


def parse_program(text: str, *, output: str | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> ir.Program:
    """Parse and validate ``text``; raise ``JacliError`` (with a position) if it is not jacli.

    ``output`` names the output (``--output``), overriding the program's own choice.
    """
    rewritten, cmap = clean(text, limits)
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" warnings are ours to say
            warnings.simplefilter("ignore", SyntaxWarning)
            module = ast.parse(rewritten, mode="exec")
    except SyntaxError as e:
        raise syntax_error(e, text, cmap) from None
    except (RecursionError, MemoryError, ValueError):
        raise LimitError("the expression is too deeply nested to parse",
                         hint="simplify it", where="expression") from None
    check_size(module, limits)
    return _Builder(ExprParser(text, rewritten, cmap, limits)).build(module, output)


class _Builder:
    """Walks module statements once, collecting IR statements, leaves, outputs and v."""

    def __init__(self, p: ExprParser) -> None:
        self.p = p
        self.statements: list[ir.Statement] = []
        self.leaves: dict[str, ir.Leaf] = {}
        self.bare: list[ir.Node] = []
        self.assigned: list[str] = []
        self.backward: tuple[str, ir.Node | None] | None = None
        self.ignored: list[str] = []
        self.values: dict[str, ast.expr] = {}
        self.memory = Memory()  # b = a, a[0], a.view(…): a write into b changes a in PyTorch

    def build(self, module: ast.Module, output: str | None) -> ir.Program:
        for stmt in module.body:
            self.statement(stmt, no_grad=False)
        out, label = self.choose_output(output)
        variables = self.free_variables(out)
        if label is None:  # an unnamed output: a label that names no input or program name
            label = fresh_label(set(variables) | set(self.assigned) | set(self.leaves))
        return ir.Program(
            source=self.p.source, statements=tuple(self.statements), output=out,
            output_label=label, variables=variables, leaves=tuple(self.leaves.values()),
            v=self.backward[1] if self.backward else None, ignored=tuple(self.ignored))

    # -- statements -----------------------------------------------------------------
    def statement(self, stmt: ast.stmt, no_grad: bool) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return self.import_(stmt)
        if isinstance(stmt, ast.Expr):
            return self.expression_statement(stmt)
        if isinstance(stmt, ast.Assign):
            return self.assign(stmt, no_grad)
        if isinstance(stmt, ast.AugAssign):
            return self.aug_assign(stmt, no_grad)
        if isinstance(stmt, ast.With):
            return self.with_block(stmt)
        if isinstance(stmt, ast.Pass):
            return None
        reason = _REFUSED_STMT.get(type(stmt), f"{type(stmt).__name__} statements are not supported")
        raise self.p.fail(stmt, reason, "jacli reads assignments, expressions and one backward()")

    def import_(self, stmt) -> None:
        names = [stmt.module or ""] if isinstance(stmt, ast.ImportFrom) else [a.name for a in stmt.names]
        if all(n == "torch" or n.startswith("torch.") for n in names):
            self.ignored.append(f"line {stmt.lineno}: import (ignored)")
            return
        raise self.p.fail(stmt, f"import of {', '.join(names)!s} is refused",
                          "only `import torch` lines are accepted (and ignored)")

    def expression_statement(self, stmt: ast.Expr) -> None:
        node = stmt.value
        if isinstance(node, ast.Call) and _is_name(node.func, "print"):
            self.p.check_inert(node)
            self.ignored.append(f"line {stmt.lineno}: print (ignored)")
            return
        if isinstance(node, ast.Call) and _is_backward(node):
            return self.backward_call(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "requires_grad_":
            return self.requires_grad_(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "zero_":
            raise self.p.fail(node, f".{node.func.attr}() is not needed in jacli",
                              "jacli computes each gradient fresh, as if .grad started at zero")
        if _is_display(node):
            self.ignored.append(f"line {stmt.lineno}: display (ignored)")
            return
        if isinstance(node, ast.Tuple):
            items = tuple(self.p.expr(e) for e in node.elts)
            self.bare.append(ir.Outputs(items, self.p.pos(node)))
        else:
            self.bare.append(self.p.expr(node))

    def requires_grad_(self, node: ast.Call) -> None:
        """``x.requires_grad_()`` right after ``x = torch.tensor([...])`` declares the leaf x,
        exactly as ``x = torch.tensor([...], requires_grad=True)`` would. Anywhere else x
        may already have been used as a constant, so the line is refused."""
        target = node.func.value
        name = target.id if isinstance(target, ast.Name) else None
        last = self.statements[-1] if self.statements else None
        ok = name is not None and isinstance(last, ir.Assign) and last.name == name and \
            not last.no_grad and self.assigned.count(name) == 1 and \
            is_ctor(self.values.get(name)) and not node.keywords and \
            all(isinstance(a, ast.Constant) and a.value is True for a in node.args)
        if not ok:
            what = f"{name}.requires_grad_()" if name else ".requires_grad_()"
            raise self.p.fail(node, f"{what} is supported only on the line right after "
                              "the name is made by a constructor (x = torch.tensor([...]))",
                              "declare the variable in one line: "
                              f"{name or 'x'} = torch.tensor([1.0, 2.0], requires_grad=True)")
        self.statements.pop()
        self.assigned.remove(name)
        self.leaves[name] = leaf(self.p, name, self.values[name])

    def backward_call(self, node: ast.Call) -> None:
        if self.backward is not None:
            raise self.p.fail(node, "a second backward() call",
                              "PyTorch would add both gradients into .grad; jacli shows one "
                              "backward(v) at a time, or the whole Jacobian: `jacli jacobian`")
        args = list(node.args)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "backward" and \
                dotted(node.func) not in (["torch", "autograd", "backward"],):
            target = node.func.value
        else:  # torch.autograd.backward(y, v)
            if not args:
                raise self.p.fail(node, "torch.autograd.backward needs the output tensor")
            target = args.pop(0)
        v = args[0] if args else None
        for kw in node.keywords:
            if kw.arg in ("gradient", "grad_tensors"):
                v = kw.value
            elif kw.arg not in ("retain_graph", "create_graph", "inputs"):
                raise self.p.fail(kw.value, f"backward() takes no keyword {kw.arg!r}")
        # (x**2).sum().backward() is fine too: the expression itself becomes the output
        out = ir.Name(target.id, self.p.pos(target)) if isinstance(target, ast.Name) \
            else self.p.expr(target)
        label = target.id if isinstance(target, ast.Name) else expression_label(self.p, target)
        self.backward = (out, None if v is None else self.p.expr(v), label)

    def assign(self, stmt: ast.Assign, no_grad: bool) -> None:
        if len(stmt.targets) != 1:
            raise self.p.fail(stmt, "chained assignment (a = b = ...) is not supported")
        target, value = stmt.targets[0], stmt.value
        if isinstance(target, ast.Name):
            self.check_name(target)
            if declares_leaf(value):
                if target.id in self.leaves or target.id in self.assigned:
                    raise self.p.fail(value, f"{target.id!r} is declared twice")
                self.leaves[target.id] = leaf(self.p, target.id, value)
                self.memory.bind(target.id, None)
                return None
            node = self.p.expr(value)
            self.memory.bind(target.id, node)
            stops = no_grad and not _same_tensor(node)
            self.statements.append(ir.Assign(target.id, node, stops, self.p.pos(stmt)))
            self.assigned.append(target.id)
            self.values[target.id] = value  # a later x.requires_grad_() may make it a leaf
            return None
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.memory.check_write(self.p, target.value, f"{target.value.id}[...] = ...")
            self.statements.append(ir.SetItem(target.value.id, self.p.index(target.slice),
                                              self.p.expr(value), no_grad, self.p.pos(stmt)))
            return None
        if isinstance(target, ast.Attribute):
            raise self.p.fail(target, f"assigning to .{target.attr} is not supported",
                              "autograd does not record such writes; write the function as formulas")
        raise self.p.fail(target, "only names and name[index] can be assigned")

    def aug_assign(self, stmt: ast.AugAssign, no_grad: bool) -> None:
        """``y += x`` on a tensor is in place in PyTorch: where autograd saved y, its backward
        refuses. Only PyTorch's real graph says so, so such a program runs as a script."""
        what = ast.unparse(stmt.target) + f" {op_symbol(stmt.op)}= ..."
        raise self.p.fail(stmt, f"{what} writes in place", "it runs as a script, on "
                          "PyTorch's real tensors")

    def with_block(self, stmt: ast.With) -> None:
        ok = len(stmt.items) == 1 and isinstance(stmt.items[0].context_expr, ast.Call) and \
            (dotted(stmt.items[0].context_expr.func) or [""])[-1] == "no_grad" and \
            stmt.items[0].optional_vars is None
        if not ok:
            raise self.p.fail(stmt, "only `with torch.no_grad():` blocks are supported")
        for inner in stmt.body:
            self.statement(inner, no_grad=True)

    def check_name(self, target: ast.Name) -> None:
        if "__" in target.id:
            raise self.p.fail(target, f"name {target.id!r} is refused")

    # -- output and variables -------------------------------------------------------------
    def choose_output(self, output: str | None) -> tuple[ir.Node, str]:
        if output is not None:
            if output not in self.assigned and output not in self.leaves:
                known = self.assigned + list(self.leaves)
                raise NameLookupError(f"--output {output!r} is not a name in the program",
                                      hint=f"names assigned: {', '.join(known) or 'none'}",
                                      where="--output")
            return ir.Name(output, (1, 1)), output
        if self.backward is not None:
            return self.backward[0], self.backward[2]
        if self.bare:
            return self.bare[-1], None
        if self.assigned:
            return ir.Name(self.assigned[-1], (1, 1)), self.assigned[-1]
        raise ParseError("the program has no output",
                         hint="end with an expression, or name one with --output")

    def free_variables(self, out: ir.Node) -> tuple[str, ...]:
        seen: dict[str, None] = {name: None for name in self.leaves}
        bound = set(self.leaves)
        for stmt in self.statements:
            _collect(stmt.value, bound, seen)
            if isinstance(stmt, ir.SetItem) and stmt.name not in bound:
                raise self.p.fail_at(stmt.pos, f"{stmt.name!r} is written into before it exists",
                                     f"create it first, e.g. {stmt.name} = zeros(2)")
            bound.add(stmt.name)
        for node in self.bare + [out]:  # every free name is a variable, used by the output or not
            _collect(node, bound, seen)
        if self.backward and self.backward[1] is not None:
            _collect(self.backward[1], bound, seen)
        return tuple(sorted(seen, key=natural_key))


def _collect(node: ir.Node, bound: set[str], seen: dict[str, None]) -> None:
    for n in ir.walk(node):
        if isinstance(n, ir.Name) and n.id not in bound:
            seen.setdefault(n.id, None)


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_backward(node: ast.Call) -> bool:
    chain = dotted(node.func) or []
    return (isinstance(node.func, ast.Attribute) and node.func.attr == "backward") or \
        chain == ["torch", "autograd", "backward"]


def _is_display(node: ast.expr) -> bool:
    """Notebook lines that only show a value: ``x.grad``, ``x.data``, ``x.grad_fn``."""
    return isinstance(node, ast.Attribute) and node.attr in ("grad", "grad_fn", "is_leaf",
                                                             "requires_grad", "shape")


def _same_tensor(node: ir.Node) -> bool:
    """``x`` or ``+x``: PyTorch hands back the very tensor ``x`` (not a view, not a copy), so
    ``t = x`` under ``no_grad`` stops no gradient."""
    pos = isinstance(node, ir.Op) and node.op == "pos"
    return _same_tensor(node.args[0]) if pos else isinstance(node, ir.Name)
