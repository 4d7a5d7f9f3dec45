"""Leaves declared in pasted code: ``x = torch.tensor([...], requires_grad=True)``,
``Variable(torch.Tensor([...]), requires_grad=True)``, ``torch.ones(2, 2, requires_grad=True)``.

A leaf is a variable whose value the program itself gives (exactly, from the literal's
text), so no ``--at`` is needed; ``torch.randn`` leaves have no usable value and must get
one from ``--at``.
"""

from __future__ import annotations

import ast
from fractions import Fraction

from jacli.language import ir
from jacli.language.parse import ExprParser, dotted

LEAF_CTORS = {"tensor", "Tensor", "FloatTensor", "DoubleTensor", "as_tensor", "ones", "zeros",
              "randn", "rand", "empty", "full", "Variable", "ones_like", "zeros_like"}
RANDOM = {"randn", "rand", "empty"}


def declares_leaf(value: ast.expr) -> bool:
    """True for a constructor call with ``requires_grad=True`` (or any ``Variable(...)``)."""
    if not isinstance(value, ast.Call):
        return False
    chain = dotted(value.func) or []
    if not chain or chain[-1] not in LEAF_CTORS:
        return False
    if chain[-1] == "Variable":
        return True
    return any(kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant)
               and kw.value.value is True for kw in value.keywords)


def leaf(p: ExprParser, name: str, call: ast.Call) -> ir.Leaf:
    """The leaf ``name`` declared by ``call``, with its exact value (or why it has none)."""
    p.leaf_keywords(call)
    if call.args and isinstance(call.args[0], ast.Call):
        p.leaf_keywords(call.args[0])  # Variable(torch.Tensor([...], dtype=...))
    ctor, data = _ctor(call)
    pos = p.pos(call)
    if ctor in RANDOM:
        return ir.Leaf(name, None, pos, f"{name} = torch.{ctor}(...) is random")
    if ctor in ("ones", "zeros", "full"):
        shape = _flat_shape(tuple(p.static(a) for a in data))
        p.check_elements(call, shape)
        return ir.Leaf(name, _filled(shape, Fraction(1 if ctor == "ones" else 0)), pos)
    return ir.Leaf(name, literal(p, data[0] if data else call), pos)


def literal(p: ExprParser, node: ast.expr):
    """A nested list of numbers from the source, exactly."""
    if isinstance(node, ast.Call) and (dotted(node.func) or [""])[-1] in LEAF_CTORS and node.args:
        return literal(p, node.args[0])  # Variable(torch.Tensor([...]))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(p, e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = literal(p, node.operand)
        if isinstance(v, Fraction):
            return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return p.number(node)
    raise p.fail(node, "a variable's declared value must be numbers",
                 "e.g. x = torch.tensor([1.0, 2.0], requires_grad=True); or give it with --at")


def _ctor(call: ast.Call) -> tuple[str, list]:
    name = (dotted(call.func) or [""])[-1]
    if name == "Variable" and call.args and isinstance(call.args[0], ast.Call):
        inner = (dotted(call.args[0].func) or [""])[-1]
        if inner in LEAF_CTORS:
            return inner, list(call.args[0].args)
    return name, list(call.args)


def _flat_shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], tuple):
        return shape[0]
    return shape


def _filled(shape: tuple, value: Fraction):
    if not shape:
        return value
    return [_filled(shape[1:], value) for _ in range(shape[0])]
