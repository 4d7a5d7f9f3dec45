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
from jacli.language.calls import dotted
from jacli.language.parse import ExprParser

LEAF_CTORS = {"tensor", "Tensor", "FloatTensor", "DoubleTensor", "as_tensor", "ones", "zeros",
              "randn", "rand", "empty", "full", "Variable", "ones_like", "zeros_like", "eye"}
RANDOM = {"randn", "rand", "empty"}
# Constructors whose dtype follows the literal: integers make an integer tensor, and
# PyTorch refuses requires_grad on those.
_INFERRED = {"tensor", "as_tensor", "full"}
_FLOAT_DTYPE_HINT = "write the numbers as floats (1.0 rather than 1), or add dtype=torch.float"


def unwrap(value: ast.expr) -> ast.expr:
    """``torch.tensor([...]).requires_grad_()`` is the constructor call itself, made a leaf."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
            value.func.attr == "requires_grad_" and not value.keywords and \
            all(isinstance(a, ast.Constant) and a.value is True for a in value.args) and \
            len(value.args) <= 1 and is_ctor(value.func.value):
        return value.func.value
    return value


def is_ctor(value: ast.expr) -> bool:
    """True for a call of one of the constructors a leaf can be declared with."""
    return isinstance(value, ast.Call) and (dotted(value.func) or [""])[-1] in LEAF_CTORS


def declares_leaf(value: ast.expr) -> bool:
    """True for a constructor call with ``requires_grad=True`` (or any ``Variable(...)``),
    or one followed by ``.requires_grad_()``."""
    if unwrap(value) is not value:
        return True
    if not is_ctor(value):
        return False
    if dotted(value.func)[-1] == "Variable":
        return True
    return any(kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant)
               and kw.value.value is True for kw in value.keywords)


def leaf(p: ExprParser, name: str, call: ast.Call) -> ir.Leaf:
    """The leaf ``name`` declared by ``call``, with its exact value (or why it has none)."""
    call = unwrap(call)
    p.leaf_keywords(call)
    if call.args and isinstance(call.args[0], ast.Call):
        p.leaf_keywords(call.args[0])  # Variable(torch.Tensor([...], dtype=...))
    ctor, data = _ctor(call)
    pos = p.pos(call)
    _refuse_integer(p, call, ctor, data)
    if ctor in RANDOM:
        return ir.Leaf(name, None, pos, f"{name} = torch.{ctor}(...) is random")
    if ctor == "full":
        if len(data) != 2:
            raise p.fail(call, "torch.full needs a shape and a fill value",
                         "e.g. w = torch.full((2, 2), 0.5, requires_grad=True)")
        shape = _flat_shape((p.static(data[0]),))
        p.check_elements(call, shape)
        return ir.Leaf(name, _filled(shape, literal(p, data[1])), pos)
    if ctor in ("ones", "zeros"):
        shape = _flat_shape(tuple(p.static(a) for a in data))
        p.check_elements(call, shape)
        return ir.Leaf(name, _filled(shape, Fraction(1 if ctor == "ones" else 0)), pos)
    if ctor == "eye":
        return ir.Leaf(name, _eye(p, call, data), pos)
    return ir.Leaf(name, literal(p, data[0] if data else call), pos)


def _refuse_integer(p: ExprParser, call: ast.Call, ctor: str, data: list) -> None:
    """PyTorch's own refusal: an integer tensor cannot require gradients."""
    if ctor not in _INFERRED or not data or _has_dtype(call):
        return
    values = data[-1] if ctor == "full" else data[0]
    if _all_integers(values):
        raise p.fail(call, "Only Tensors of floating point and complex dtype can require "
                     f"gradients (PyTorch): torch.{ctor}(...) of integer literals is an "
                     "integer tensor", _FLOAT_DTYPE_HINT)


def _has_dtype(call: ast.Call) -> bool:
    calls = [call] + [a for a in call.args[:1] if isinstance(a, ast.Call)]
    return any(kw.arg == "dtype" for c in calls for kw in c.keywords)


def _all_integers(node: ast.expr) -> bool:
    """True when every number in the literal is an int (so torch infers an integer dtype)."""
    numbers = [n for n in ast.walk(node) if isinstance(n, ast.Constant)]
    return bool(numbers) and all(type(n.value) is int for n in numbers) and \
        all(isinstance(n, (ast.List, ast.Tuple, ast.Constant, ast.UnaryOp, ast.unaryop,
                           ast.Load)) for n in ast.walk(node))


def _eye(p: ExprParser, call: ast.Call, data: list):
    """``torch.eye(n)`` or ``torch.eye(n, m)``: ones on the diagonal, exactly."""
    if not 1 <= len(data) <= 2:
        raise p.fail(call, "torch.eye takes n or n, m", "e.g. w = torch.eye(3, requires_grad=True)")
    n = p.static_int(data[0])
    m = p.static_int(data[1]) if len(data) == 2 else n
    p.check_elements(call, (n, m))
    return [[Fraction(int(i == j)) for j in range(m)] for i in range(n)]


def literal(p: ExprParser, node: ast.expr):
    """A nested list of numbers from the source, exactly."""
    if isinstance(node, ast.Call) and (dotted(node.func) or [""])[-1] in LEAF_CTORS and node.args:
        return literal(p, node.args[0])  # Variable(torch.Tensor([...]))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(p, e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = literal(p, node.operand)
        if isinstance(v, Fraction) and v == 0 and isinstance(node.op, ast.USub) and \
                isinstance(node.operand, ast.Constant) and type(node.operand.value) is float:
            # PyTorch's -0.0 keeps its sign (1/x is -inf there); an exact point cannot: a
            # pasted script then runs as written, on PyTorch's own numbers
            raise p.fail(node, "-0.0 as a variable's value: PyTorch keeps its sign, an exact "
                         "point reads it as 0", "write 0.0, or paste the whole script")
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
