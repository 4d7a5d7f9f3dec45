"""Long formulas made readable: common subexpressions of J named once (``s1 = …``).

``exp(x)/sum(exp(x))`` has nine entries that each spell ``exp(x[0]) + exp(x[1]) + exp(x[2])``
out, some twice. ``shorten`` runs ``sympy.cse`` over all of J's entries together, keeps the
definitions worth a name (long enough and used at least twice), inlines the rest, and returns
the shortened entries with the ordered definitions. The full formulas stay as they were: this
is a second view of the same expressions, and substituting the definitions back (last first)
gives formulas equal to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

MAX_ENTRIES = 400  # past this J is read as a picture or numbers, not entry by entry
LONG = 60  # an entry printed longer than this makes J worth shortening
MIN_DEFINITION = 20  # a definition printed shorter than this reads better inline
PREFIXES = ("s", "t", "w", "q", "c", "k")  # the first free one names the definitions
SECONDS = 2.0  # a slice of the stage's budget: past it J is shown in full, never skipped


@dataclass
class Shortened:
    """J in terms of ``definitions`` (name symbol, formula; each may use earlier names)."""

    rows: list[list[sp.Expr]]
    definitions: list[tuple[sp.Symbol, sp.Expr]]


class Rows(list):
    """J's rows, a plain list of lists of expressions, that also carry the short form
    (``None`` when J is short already): everything that reads J as a list is unchanged."""

    short: Shortened | None = None


def shorten(rows: list[list[sp.Expr]], reserved: set[str]) -> Shortened | None:
    """The shortened J, or ``None`` when J is short already, too big, cse saves nothing or
    takes longer than ``SECONDS``. ``reserved``: every name the program or its labels use;
    definitions never take one."""
    from jacli.bounds import OutOfTime, within

    try:
        with within(SECONDS, "shortening"):
            return _shorten(rows, reserved)
    except OutOfTime as t:
        if t.stage != "shortening":
            raise  # the stage's own budget ended: not ours to swallow
    except RecursionError:
        pass  # a formula too deep to print or walk: shown in full
    return None


def _shorten(rows: list[list[sp.Expr]], reserved: set[str]) -> Shortened | None:
    flat = [e for row in rows for e in row]
    if not flat or len(flat) > MAX_ENTRIES:
        return None
    full = [str(e) for e in flat]
    if max(len(t) for t in full) <= LONG:
        return None
    prefix = _prefix(reserved | {s.name for e in flat for s in e.free_symbols})
    if prefix is None:
        return None
    defs, reduced = sp.cse(flat, symbols=sp.numbered_symbols("_cse"), order="none")
    defs, reduced = _prune(defs, reduced)
    if not defs:
        return None
    defs, reduced = _rename(defs, reduced, prefix)
    shown = sum(len(str(e)) for e in reduced) + sum(len(str(f)) for _, f in defs)
    if shown >= 0.8 * sum(len(t) for t in full):
        return None  # not worth the indirection
    width = len(rows[0])
    return Shortened([reduced[i:i + width] for i in range(0, len(reduced), width)], defs)


def _prefix(names: set[str]) -> str | None:
    """A prefix p such that no name in use reads p1, p2, …"""
    for p in PREFIXES:
        if not any(re.fullmatch(rf"{p}\d+", n) for n in names):
            return p
    return None


def _prune(defs, reduced):
    """Inline each definition that is short, used by fewer than two formulas, or a whole
    entry (a table cell reading ``s8`` hides its formula), until none is left to inline."""
    defs, reduced = list(defs), list(reduced)
    changed = True
    while changed:
        changed = False
        for k, (name, formula) in enumerate(defs):
            users = [f for _, f in defs[k + 1:]] + reduced
            uses = sum(1 for f in users if name in f.free_symbols)
            whole = any(e == name for e in reduced)
            if uses < 2 or whole or len(str(formula)) < MIN_DEFINITION:
                swap = {name: formula}
                defs = defs[:k] + [(n, f.xreplace(swap)) for n, f in defs[k + 1:]]
                reduced = [e.xreplace(swap) for e in reduced]
                changed = True
                break
    return defs, reduced


def _rename(defs, reduced, prefix: str):
    """Number the kept definitions 1, 2, … in order under ``prefix``."""
    new = {name: sp.Symbol(f"{prefix}{i}") for i, (name, _) in enumerate(defs, start=1)}
    return ([(new[n], f.xreplace(new)) for n, f in defs],
            [e.xreplace(new) for e in reduced])
