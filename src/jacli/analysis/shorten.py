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
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from jacli.analysis.pack import texts

MAX_ENTRIES = 400  # past this J is read as a picture or numbers, not entry by entry
LONG = 60  # an entry printed longer than this makes J worth shortening
MIN_DEFINITION = 20  # a definition printed shorter than this reads better inline
PREFIXES = ("s", "t", "w", "q", "c", "k")  # the first free one names the definitions
SECONDS = 2.0  # a slice of the stage's budget: past it J is shown in full, never skipped


@dataclass
class Names:
    """The program's own names for expressions: its assigned intermediates (label → scalar
    value, ``s`` or ``h[1]``) and its outputs (label, value), preferred to ``s1``."""

    intermediates: dict[str, sp.Expr]
    outputs: list[tuple[str, sp.Expr]]


@dataclass
class Shortened:
    """J in terms of ``definitions`` (name symbol, formula; each may use earlier names), and
    both as ``pack.text`` prints them: printed once, to measure the saving, and shown so."""

    rows: list[list[sp.Expr]]
    definitions: list[tuple[sp.Symbol, sp.Expr]]
    printed_rows: list[list[str]]
    printed_definitions: list[str]


class Rows(list):
    """J's rows, a plain list of lists of expressions, that also carry the short form
    (``None`` when J is short already): everything that reads J as a list is unchanged."""

    short: Shortened | None = None


def shorten(rows: list[list[sp.Expr]], reserved: set[str],
            names: Callable[[], Names] | None = None,
            printed: list[str] | None = None) -> Shortened | None:
    """The shortened J, or ``None`` when J is short already, too big, cse saves nothing or
    takes longer than ``SECONDS``. ``reserved``: every name the program or its labels use;
    fresh names never take one. ``names()``: the program's own names, asked for only when
    J is worth shortening. ``printed``: a list that receives J's entries as ``pack.text``
    prints them (flat, row-major) when shortening printed them all, for the caller to keep:
    printing a J of long formulas costs as much as shortening it."""
    from jacli.bounds import OutOfTime, within

    try:
        with within(SECONDS, "shortening"):
            return _shorten(rows, reserved, names, printed)
    except OutOfTime as t:
        if t.stage != "shortening":
            raise  # the stage's own budget ended: not ours to swallow
    except RecursionError:
        pass  # a formula too deep to print or walk: shown in full
    return None


def _shorten(rows: list[list[sp.Expr]], reserved: set[str],
             names: Callable[[], Names] | None, printed: list[str] | None) -> Shortened | None:
    flat = [e for row in rows for e in row]
    if not flat or len(flat) > MAX_ENTRIES:
        return None
    full = texts(flat)
    if printed is not None:
        printed.extend(full)
    if max(len(t) for t in full) <= LONG:
        return None
    prefix = _prefix(reserved | {s.name for e in flat for s in e.free_symbols})
    if prefix is None:
        return None
    defs, reduced = sp.cse(flat, symbols=sp.numbered_symbols("_cse"), order="none")
    defs, reduced = _prune(defs, reduced)
    own = names() if names is not None else Names({}, [])
    defs, reduced = _rename(defs, reduced, prefix, own.intermediates)
    defs, reduced = _outputs(defs, reduced, own.outputs)
    defs, reduced = _renumber(*_used(defs, reduced), prefix)
    if not defs and reduced == flat:
        return None
    entries, formulas = texts(reduced), texts([f for _, f in defs])
    shown = sum(map(len, entries)) + sum(map(len, formulas))
    if shown >= 0.8 * sum(len(t) for t in full):
        return None  # not worth the indirection
    width = len(rows[0])
    starts = range(0, len(reduced), width)
    return Shortened([reduced[i:i + width] for i in starts], defs,
                     [entries[i:i + width] for i in starts], formulas)


def _prefix(names: set[str]) -> str | None:
    """A prefix p such that no name in use reads p1, p2, …"""
    for p in PREFIXES:
        if not any(re.fullmatch(rf"{p}\d+", n) for n in names):
            return p
    return None


def _prune(defs, reduced):
    """Inline each definition that is short, used by fewer than two formulas, or a whole
    entry (a table cell reading ``s8`` hides its formula). One pass from the last definition
    to the first: a definition's users are then final (later ones already kept or inlined
    into their own users), and its own formula is still as cse wrote it (it uses earlier
    names only). ``users`` maps a name to the formulas that contain it; the decisions read
    names only, and the inlined formulas are put in at the end, once per formula: putting
    each in as it was decided rebuilt a user per definition (0.4–0.7 s for a J of a few
    dozen entries)."""
    n = len(defs)
    names = {name for name, _ in defs}
    items = [f for _, f in defs] + list(reduced)
    deps = [f.free_symbols & names for f in items]
    users: dict = {name: set() for name in names}
    for i, ds in enumerate(deps):
        for name in ds:
            users[name].add(i)
    bare = [f if f.is_Symbol else None for f in items]  # the name a formula is, while it is one
    inlined: dict = {}
    for k in range(n - 1, -1, -1):
        name, formula = defs[k][0], items[k]
        us = users[name]
        whole = any(i >= n and bare[i] == name for i in us)
        if len(us) >= 2 and not whole and len(str(formula)) >= MIN_DEFINITION:
            continue
        inlined[name] = formula
        for i in us:
            if bare[i] == name:
                bare[i] = formula if formula.is_Symbol else None
            deps[i] = (deps[i] - {name}) | deps[k]
        for m in deps[k]:
            users[m].discard(k)
            users[m] |= us
    return _inline(defs, items, inlined)


def _inline(defs, items, inlined: dict):
    """The kept definitions and the entries with every inlined definition put in, each
    inlined formula first written in kept names only (first to last: each uses earlier
    names)."""
    n, spelled = len(defs), {}
    for name, _ in defs:
        if name in inlined:
            spelled[name] = inlined[name].xreplace(spelled)
    put = (lambda f: f.xreplace(spelled)) if spelled else (lambda f: f)
    return ([(name, put(items[k])) for k, (name, _) in enumerate(defs) if name not in inlined],
            [put(e) for e in items[n:]])


def _rename(defs, reduced, prefix: str, intermediates: dict[str, sp.Expr]):
    """Name each kept definition after the program's intermediate that it equals (``s`` for
    ``s = exp(x).sum()``), the others ``prefix``1, 2, … in order."""
    own = {value: label for label, value in intermediates.items()}
    new, numbered, back = {}, 0, {}
    for name, formula in defs:
        whole = formula.xreplace(back)
        back[name] = whole
        if whole in own:
            new[name] = sp.Symbol(own.pop(whole))
        else:
            numbered += 1
            new[name] = sp.Symbol(f"{prefix}{numbered}")
    return ([(new[n], f.xreplace(new)) for n, f in defs],
            [e.xreplace(new) for e in reduced])


def _outputs(defs, reduced, outputs: list[tuple[str, sp.Expr]]):
    """Entries written with the outputs' own names where that is shorter (softmax:
    ``-y[0]*y[1]``), each rewrite checked: put back, it must expand to the entry. The outputs
    used become definitions, written with the earlier names. Within a slice of time of its
    own: past it the entries stay as they are."""
    from jacli.bounds import OutOfTime, within

    known = [(sp.Symbol(label), _in_terms(value, defs)) for label, value in outputs
             if not (value.is_Atom or len(str(value)) < MIN_DEFINITION // 2)]
    if not known or len(known) * len(reduced) > MAX_ENTRIES * 8:
        return defs, reduced
    names = {name for name, _ in defs}
    same = {w: y for y, w in known if w in names}  # a definition that is an output: its name
    if same:
        defs = [(same.get(n, n), f.xreplace(same)) for n, f in defs]
        reduced = [e.xreplace(same) for e in reduced]
        known = [(y, w) for y, w in known if w not in same]
    out = list(reduced)
    try:
        with within(SECONDS / 2, "output names"):
            for k, entry in enumerate(reduced):
                out[k] = _rewrite(entry, known)
    except OutOfTime as t:
        if t.stage != "output names":
            raise
    used = {y for e in out for y in e.free_symbols} & {y for y, _ in known}
    return defs + [(y, w) for y, w in known if y in used], out


def _rewrite(entry: sp.Expr, known) -> sp.Expr:
    """``entry`` with the outputs' names substituted, when shorter and provably the same."""
    rewritten, present = entry, entry.free_symbols
    for y, w in known:
        if w.free_symbols <= present:  # cheap: most outputs cannot occur in most entries
            rewritten = rewritten.subs(w, y)
    if rewritten == entry or len(str(rewritten)) >= len(str(entry)):
        return entry
    back = rewritten.xreplace({y: w for y, w in known})
    return rewritten if sp.expand(back - entry) == 0 else entry


def _in_terms(value: sp.Expr, defs) -> sp.Expr:
    """``value`` written with the definitions' names (the latest, largest, first)."""
    whole, back = [], {}
    for name, formula in defs:
        back[name] = formula.xreplace(back)
        whole.append((back[name], name))
    for formula, name in reversed(whole):
        value = value.xreplace({formula: name})
    return value


def _used(defs, reduced):
    """The definitions the entries need, directly or through a later definition."""
    need = {s for e in reduced for s in e.free_symbols}
    kept = []
    for name, formula in reversed(defs):
        if name in need:
            kept.append((name, formula))
            need |= formula.free_symbols
    return kept[::-1], reduced


def _renumber(defs, reduced, prefix: str):
    """The fresh names numbered 1, 2, … again, after some became the program's own."""
    fresh = [n for n, _ in defs if re.fullmatch(rf"{prefix}\d+", n.name)]
    new = {n: sp.Symbol(f"{prefix}{i}") for i, n in enumerate(fresh, start=1)}
    return ([(new.get(n, n), f.xreplace(new)) for n, f in defs],
            [e.xreplace(new) for e in reduced])
