"""``--pretty``: SymPy's one-line formulas in Unicode maths, for the table view.

``pretty`` is a pure ``str -> str`` transform of SymPy's ``str`` printing: ``x**2`` → ``x²``,
``s1**(-2)`` → ``s1⁻²``, other powers ``a**(b + 1)`` → ``a^(b + 1)``, ``*`` → ``·``,
``sqrt(`` → ``√(``, minus signs → ``−``, ``pi`` → ``π``, ``oo`` → ``∞`` (unless a variable
has that name). It stays one line, so the tables measure and wrap it as before. ``prettify``
applies it to a ``Result``'s formulas; exact values that are plain rationals (``-3/4``) are
left alone: the renderers read them as numbers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

from jacli.result import Result, Texts

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
CONSTANTS = {"pi": "π", "oo": "∞"}

_POWER = re.compile(r"\*\*(\d+|\(-\d+\))")
_MINUS = re.compile(r"(^|[\s(\[,])-")


def pretty(text: str, names: frozenset[str] = frozenset()) -> str:
    """``text`` (a formula as SymPy prints it) in Unicode maths, still on one line."""
    out = _POWER.sub(lambda m: m[1].strip("()").translate(SUPERSCRIPT), text)
    out = out.replace("**", "^").replace("*", "·")
    out = re.sub(r"\bsqrt\(", "√(", out)
    out = _MINUS.sub(lambda m: m[1] + "−", out)
    for name, symbol in CONSTANTS.items():
        if name not in names:
            out = re.sub(rf"\b{name}\b", symbol, out)
    return out


def prettify(result: Result) -> Result:
    """``result`` with its formulas (and its exact values that are not plain numbers) in
    Unicode maths; rows stay lazy (``Texts``): a row is transformed when it is printed."""
    names = frozenset(v.name for v in result.variables)
    rows = _Rows(names)
    changes = {"value_exact": rows.exact(result.value_exact)}
    if result.jacobian is not None:
        changes["jacobian"] = rows.matrix(result.jacobian)
    if result.hessian is not None:
        changes["hessian"] = rows.matrix(result.hessian)
    if result.vjp is not None:
        changes["vjp"] = replace(result.vjp, symbolic=rows.formulas(result.vjp.symbolic),
                                 exact=rows.exact(result.vjp.exact))
    for key in ("jvp", "hvp"):
        product = getattr(result, key)
        if product is not None:
            changes[key] = replace(product, symbolic=rows.formulas(product.symbolic),
                                   exact=rows.exact(product.exact))
    return replace(result, **changes)


class _Rows:
    """The lazy per-row transforms, knowing the variables' names."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def formulas(self, row):
        return None if row is None else Texts(row, lambda r: [pretty(t, self.names) for t in r])

    def exact(self, row):
        return None if row is None else Texts(row, lambda r: [self._exact(t) for t in r])

    def _exact(self, text: str) -> str:
        try:
            Fraction(text.strip())
            return text  # a number: the renderers compare it with the float
        except (ValueError, ZeroDivisionError, OverflowError):
            return pretty(text, self.names)

    def matrix(self, m):
        return replace(m, symbolic=self._each(m.symbolic, self.formulas),
                       exact=self._each(m.exact, self.exact),
                       symbolic_full=self._each(m.symbolic_full, self.formulas),
                       definitions=[{"name": d["name"], "formula": pretty(d["formula"],
                                                                          self.names)}
                                    for d in m.definitions])

    @staticmethod
    def _each(rows, transform):
        return None if rows is None else [transform(row) for row in rows]
