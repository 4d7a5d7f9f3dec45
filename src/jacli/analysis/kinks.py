"""Non-differentiable and singular points: say where the point sits on a kink, and why the
two derivations part ways there (shared/hostile/edge-points.md lists the cases).

Walks the SymPy formulas of the outputs, evaluates the argument of every kinked function
at the point exactly, and names each one that sits on its kink.
"""

from __future__ import annotations

import sympy as sp

from jacli.backends import piecewise as pw
from jacli.backends.object_arrays import amax, amin, relu

# (SymPy function, what makes the point special, what each side does there)
_RULES = [
    (pw.abs, "abs at 0", "the derivative is undefined; torch uses abs'(0) = 0 and jacli's "
             "SymPy meaning sign(0) = 0, so they agree by convention"),
    (relu, "relu at 0", "the derivative is undefined; torch's relu'(0) is 0 by convention and "
           "jacli's SymPy meaning uses heaviside(0, 0) = 0 to match"),
    (pw.sign, "sign at 0", "sign jumps here: the derivative is undefined, torch and jacli "
              "say 0"),
    (pw.heaviside, "heaviside at 0", "a step: the derivative is undefined, torch and jacli "
                   "say 0"),
]


def kink_notices(values: list[sp.Expr], point: dict[sp.Symbol, sp.Expr]) -> list[str]:
    """One notice per kinked function whose argument is at its kink at ``point``."""
    return notices_at(candidates(values), point)


_KINKED = (pw.abs, pw.sign, pw.heaviside, pw.maximum, pw.minimum, relu, amax, amin, sp.Abs,
           sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Pow, sp.log)


def candidates(values: list[sp.Expr]) -> list[sp.Basic]:
    """The nodes of ``values`` that may sit on a kink at some point, in preorder: what
    ``notices_at`` looks at, found once for a program's formulas (``formulas.DERIVED``)."""
    return [node for value in values for node in sp.preorder_traversal(value)
            if isinstance(node, _KINKED) and not _smooth_power(node)]


def _smooth_power(node: sp.Basic) -> bool:
    """``x**2``, ``x**3``…: a power ``_note`` never speaks of (only exponents below 1 have a
    pole or an infinite slope at 0), left out so a polynomial's J asks nothing per point."""
    return isinstance(node, sp.Pow) and not (node.exp.is_Number and node.exp < 1)


def notices_at(nodes: list[sp.Basic], point: dict[sp.Symbol, sp.Expr]) -> list[str]:
    """``kink_notices`` over the ``candidates``, at ``point``; each notice once, in order."""
    notes: list[str] = []
    seen: set[str] = set()
    for node in nodes:
        note = _note(node, point)
        if note and note not in seen:
            seen.add(note)
            notes.append(note)
    return notes


def _note(node: sp.Basic, point) -> str | None:
    from jacli.analysis.pack import text

    for cls, what, why in _RULES:
        if isinstance(node, cls) and _at(node.args[0], point) == 0:
            return f"{what}: {text(node)} sits on its kink at this point — {why}"
    if isinstance(node, (pw.maximum, pw.minimum)):
        args = [_at(a, point) for a in node.args]
        if None not in args and len(set(args)) < len(args):
            return (f"{type(node).__name__} tie: {text(node)} has equal arguments here — the "
                    "derivative is undefined; torch and jacli both split the gradient 1/2, 1/2")
    if isinstance(node, (amax, amin)):  # max(a), min(a): several elements may tie
        args = [_at(a, point) for a in node.args]
        ties = args.count(_at(node, point)) if None not in args else 0
        if ties > 1:
            kind = "largest" if isinstance(node, amax) else "smallest"
            return (f"{type(node).__name__} tie: {ties} elements share the {kind} value here — "
                    f"the derivative is undefined; torch and SymPy both split the gradient "
                    f"evenly (1/{ties} each)")
    if isinstance(node, sp.Pow) and node.exp.is_Number and node.exp < 1 and \
            _at(node.base, point) == 0:
        return (f"{text(node)} at base 0: the derivative is infinite or undefined here "
                "(sqrt'(0) = inf, x**(-1) has a pole)")
    if isinstance(node, sp.log) and _at(node.args[0], point) == 0:
        return f"{text(node)} at 0: log(0) = -inf and its derivative has a pole"
    return None


def _at(expr: sp.Expr, point) -> sp.Expr | None:
    try:
        value = expr.xreplace(point)
        return value if value.is_number else None
    except (TypeError, ValueError, RecursionError):
        return None
