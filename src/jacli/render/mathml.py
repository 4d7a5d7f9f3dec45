"""SymPy's ``str`` printing of a formula, typeset as Presentation MathML, without SymPy.

The formulas in a ``Result`` are strings such as ``exp(x2)*cos(x1)/x1 - 2*a[0,1]**2``.
``to_mathml`` reads one with Python's ``ast.parse(text, mode="eval")`` — a parser only:
nothing is evaluated — and walks the tree to MathML: ``mfrac`` for ``/``, ``msup`` for
``**``, ``msqrt`` for ``sqrt``, ``msub`` for ``a[0,1]`` and ``x1``. Anything the walker does
not know (comparisons, keywords, ``Piecewise``'s tuples, a syntax error) comes back as an
escaped ``<code>`` block, so a formula is always shown, typeset or verbatim, never dropped.
"""

from __future__ import annotations

import ast
import re
from html import escape

MAX_CHARS = 4000  # longer formulas are shown verbatim: MathML that size reads no better

# SymPy's names for constants, and functions drawn as symbols rather than as f(x).
CONSTANTS = {"pi": "π", "E": "e", "oo": "∞", "zoo": "z̃∞", "nan": "NaN", "I": "i"}
SPELLED = {"Abs": "abs"}

# Binding strength: who needs parentheses around whom (mfrac and msup draw their own).
ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5


class Unknown(Exception):
    """A node the walker does not typeset: the caller falls back to ``<code>``."""


def to_mathml(text: str, variables: frozenset[str] | set[str] = frozenset()) -> str:
    """``<math>…</math>`` for the formula ``text``, or ``<code>text</code>`` (escaped) when
    it is not plain arithmetic. Names in ``variables`` are the user's, never constants (a
    variable called ``E`` stays ``E``)."""
    try:
        if len(text) > MAX_CHARS:
            raise Unknown
        tree = ast.parse(text.strip(), mode="eval").body
        body, _ = _walk(tree, frozenset(variables))
    except (Unknown, SyntaxError, RecursionError, ValueError):
        return f'<code class="formula">{escape(text)}</code>'
    return f'<math display="inline"><mrow>{body}</mrow></math>'


def _walk(node: ast.AST, names: frozenset[str]) -> tuple[str, int]:
    """(MathML, binding strength) of one node."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return f"<mn>{escape(repr(node.value))}</mn>", ATOM
    if isinstance(node, ast.Name):
        return _name(node.id, names), ATOM
    if isinstance(node, ast.Subscript):
        return _subscript(node, names), ATOM
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _wrap(node.operand, names, NEG)
        return f"<mo>{'−' if isinstance(node.op, ast.USub) else '+'}</mo>{inner}", NEG
    if isinstance(node, ast.BinOp):
        return _binop(node, names)
    if isinstance(node, ast.Call):
        return _call(node, names), ATOM
    raise Unknown


def _wrap(node: ast.AST, names: frozenset[str], at_least: int) -> str:
    """The node, in parentheses when it binds weaker than ``at_least``."""
    body, strength = _walk(node, names)
    return _parens(body) if strength < at_least else body


def _parens(body: str) -> str:
    return f"<mrow><mo>(</mo>{body}<mo>)</mo></mrow>"


def _binop(node: ast.BinOp, names: frozenset[str]) -> tuple[str, int]:
    op = node.op
    if isinstance(op, ast.Div):
        left, _ = _walk(node.left, names)
        right, _ = _walk(node.right, names)
        return f"<mfrac><mrow>{left}</mrow><mrow>{right}</mrow></mfrac>", ATOM
    if isinstance(op, ast.Pow):
        base = _wrap(node.left, names, ATOM)
        exponent, _ = _walk(node.right, names)
        if base.startswith("<msub>") and base.endswith("</msub>"):  # x₁²: one script column
            return f"<msubsup>{base[6:-7]}<mrow>{exponent}</mrow></msubsup>", POW
        return f"<msup><mrow>{base}</mrow><mrow>{exponent}</mrow></msup>", POW
    if isinstance(op, (ast.Add, ast.Sub)):
        left = _wrap(node.left, names, ADD)
        # a − (b + c) and a + (−b): the tree keeps them apart, so must the page
        right = _wrap(node.right, names, MUL)
        if isinstance(node.right, ast.UnaryOp):
            right = _parens(right)
        return f"{left}<mo>{'+' if isinstance(op, ast.Add) else '−'}</mo>{right}", ADD
    if isinstance(op, ast.Mult):
        left = _wrap(node.left, names, MUL)  # (2·x)·y reads as 2·x·y
        right = _wrap(node.right, names, POW)  # x·(−y), x·(y·z): as the tree has them
        # 2 x: a number before a symbol is read as a product; elsewhere a visible dot
        times = "&#x2062;" if _is_number(node.left) and not _is_number(node.right) else "·"
        return f"{left}<mo>{times}</mo>{right}", MUL
    raise Unknown


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _call(node: ast.Call, names: frozenset[str]) -> str:
    if node.keywords or not isinstance(node.func, ast.Name) or not node.args:
        raise Unknown
    fn = node.func.id
    args = [_walk(a, names)[0] for a in node.args]
    if fn == "sqrt" and len(args) == 1:
        return f"<msqrt>{args[0]}</msqrt>"
    if fn in ("Abs", "abs") and len(args) == 1:
        return f"<mrow><mo>|</mo>{args[0]}<mo>|</mo></mrow>"
    joined = "<mo>,</mo>".join(f"<mrow>{a}</mrow>" for a in args)
    return (f"<mrow><mi>{escape(SPELLED.get(fn, fn))}</mi><mo>&#x2061;</mo>"
            f"{_parens(joined)}</mrow>")


def _name(name: str, names: frozenset[str]) -> str:
    """``x1`` → x₁ (a name's trailing digits as its subscript); SymPy's constants as symbols."""
    if name not in names and name in CONSTANTS:
        return f"<mi>{CONSTANTS[name]}</mi>"
    match = re.fullmatch(r"([A-Za-z_]*[A-Za-z])(\d+)", name)
    if match:
        return f"<msub><mi>{escape(match[1])}</mi><mn>{match[2]}</mn></msub>"
    return f"<mi>{escape(name)}</mi>"


def _subscript(node: ast.Subscript, names: frozenset[str]) -> str:
    """``a[0,1]`` → a with subscript 0,1 (an element of a tensor variable)."""
    if not isinstance(node.value, ast.Name):
        raise Unknown
    index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if not all(_is_number(i) and isinstance(i.value, int) for i in index):
        raise Unknown
    sub = "<mo>,</mo>".join(f"<mn>{i.value}</mn>" for i in index)
    return f"<msub><mi>{escape(node.value.id)}</mi><mrow>{sub}</mrow></msub>"
