"""The symbolic stage: SymPy's formulas and their exact values at the point.

The program is run on object arrays of real symbols, differentiated entry by entry, and
substituted at the point exactly; vᵀJ, J u, H and H v are formed from the formulas. The stage
is skipped with a notice (numbers standing alone) when it is switched off, too big or out of
time and numbers exist.
"""

from __future__ import annotations

import math
import pickle
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from jacli.analysis.compare import compare
from jacli.analysis.entries import entries
from jacli.analysis.directions import Directions, directions
from jacli.analysis.kinks import candidates, notices_at
from jacli.analysis.numeric import Numeric
from jacli.analysis.prepare import Setup, stage, untimed
from jacli.analysis.shorten import Rows, shorten
from jacli.backends.piecewise import on_reals
from jacli.backends.exact_at import pair, point_of, rationals
from jacli.backends.symbolic import SymbolicBackend, jacobian, substitute
from jacli.bounds import OutOfTime, within
from jacli.request.command import Command as C
from jacli.result import Check
from jacli.result.labels import labels
from jacli.errors import LimitError, UsageError, ValueInputError
from jacli.request.lazy import exact_of
from jacli.request.problem import Problem
from jacli.runtime.interpret import run
from jacli.runtime.lru import Lru


@dataclass
class Symbolic:
    """SymPy's side: expressions; the ``*_exact`` ones are at the point (``None`` without)."""

    out_shape: tuple[int, ...]
    value: list[sp.Expr]
    J: list[list[sp.Expr]]
    d: Directions = field(default_factory=Directions)
    parts: dict[str, Any] = field(default_factory=dict)  # vjp, jvp, H, hvp formulas
    exact: dict[str, Any] = field(default_factory=dict)  # value, J, vjp, ... at the point
    kinks: list[str] = field(default_factory=list)


def symbolic_or_notice(problem, setup, num, notices, run=None) -> Symbolic | None:
    """The symbolic stage, or ``None`` with a notice where numbers stand alone. ``run``:
    the stage's outcome when it already ran (``analysis.split``: returns it or raises its
    ``LimitError``), instead of running it here."""
    mode = problem.symbolic
    if mode == "never":
        if num is None:
            raise UsageError("--symbolic never without --at leaves nothing to compute",
                             hint="give a point with --at", where="--symbolic")
        return None
    n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)  # not np.prod: 6 µs a call
    if num is not None and mode == "auto" and len(num.value) * n > problem.limits.symbolic_entries:
        notices.append(f"symbolic Jacobian skipped: {len(num.value) * n} entries exceeds budget "
                       f"{problem.limits.symbolic_entries} (use --symbolic always to force)")
        return None
    try:
        return run() if run else stage(problem.limits.timeout, "symbolic stage",
                                       lambda: symbolic(problem, setup, num))
    except LimitError as e:
        if num is None:
            raise
        notices.append(f"symbolic side skipped: {e.message}; the numeric results stand alone")
        return None


def compare_within(seconds: float, num: Numeric, sym: Symbolic, outputs: list[str],
                   inputs: list[str], dtype: str) -> tuple[Check | None, list[str]]:
    """The exact comparison as a stage of its own, under its own ``seconds``: each exact
    value may take up to ``EVALF_SECONDS`` to evaluate, and a J has many. Out of time, no
    ``Check`` and a notice: the numbers stand, the exact values are shown unchecked."""
    try:
        with within(seconds, "exact comparison"):
            return compare(entries(num, sym, outputs, inputs), dtype)
    except OutOfTime as e:
        if e.stage != "exact comparison":
            raise
    return None, [f"exact comparison skipped: evaluating the exact values ran out of time "
                  f"({seconds:g} s); the numeric results stand, the exact values are shown "
                  "unchecked (raise the limit with --timeout)"]


def symbolic(problem: Problem, setup: Setup, num: Numeric | None) -> Symbolic:
    d = _derived(problem, setup, num)
    J = Rows(d.J)  # this request's own list; the rows and expressions are shared, never written
    J.short, J.printed = d.J.short, d.printed  # printed once per program (``pack.matrix``)
    sym = Symbolic(d.out_shape, list(d.values), J)
    sym.d = num.d if num else directions(problem, setup, sym.out_shape, len(d.inputs))
    _products(sym, list(d.inputs), problem.command)
    if setup.point is not None:
        at, point = _exact_point(SymbolicBackend(problem.limits), d.bindings, setup)
        cache = d.compiled  # (formulas compiled once per program)
        sym.exact = {"value": substitute(sym.value, point, at, cache),
                     "J": [substitute(row, point, at, cache) for row in sym.J]}
        sym.exact.update({k: sym.exact["J"][0] if J and f is J[0] else _subst(f, point, at)
                          for k, f in sym.parts.items()})  # vᵀJ that is J's row: its values
        kinks = d.kinks()
        sym.kinks = notices_at(kinks, point()) if kinks else []
    return sym


@dataclass(frozen=True)
class _Derived:
    """A program's formulas and symbolic J, independent of the point: derived once per
    process (``DERIVED``) and substituted per point (batch, the API in a loop)."""

    program: Any  # kept, so its id stays unique while cached
    out_shape: tuple[int, ...]
    values: tuple
    J: Rows
    inputs: tuple
    bindings: dict
    printed: dict = field(default_factory=dict)  # J's printed rows, its support: per program
    compiled: dict = field(default_factory=dict)  # exact_at's evaluators, by formula id
    kinked: list = field(default_factory=list)  # kinks.candidates(values), found on first ask

    def kinks(self) -> list:
        if not self.kinked:
            self.kinked.append(candidates(list(self.values)))
        return self.kinked[0]


DERIVED = Lru(16)  # by program object, variables, shapes, wrt and limits
ALIKE = Lru(16)  # the same, by what the formulas depend on: see ``_alike``


def _derived(problem: Problem, setup: Setup, num: Numeric | None) -> _Derived:
    shapes = tuple(setup.shapes[v] for v in setup.variables)
    rest = (setup.variables, shapes, tuple(setup.wrt), untimed(problem.limits))
    key = (id(setup.program), *rest)
    hit = DERIVED.get(key)
    if hit is None or hit.program is not setup.program:
        alike = (_alike(setup.program), *rest)
        hit = ALIKE.get(alike)
        if hit is None:
            return DERIVED.put(key, ALIKE.put(alike, _derive(problem, setup, num)))
        hit = DERIVED.put(key, replace(hit, program=setup.program))  # its parts shared
    if num is None:
        _check_budget(problem, len(hit.values) * len(hit.inputs))
    return hit


def _alike(program) -> bytes:
    """What a program's formulas depend on, as bytes: its statements, output and leaves
    (positions included), and every identifier of its text (``_readable`` avoids them). Two
    programs alike differ at most in ``backward``'s v: a script's events replayed one by
    one (16 ``autograd.grad`` rows of one layer derived one J, not 8). Pickled, not
    hashed by value: ``ir.Real`` equals its float, but pickles its exact value too."""
    return pickle.dumps((program.statements, program.output, program.output_label,
                         program.variables, program.leaves,
                         sorted(set(re.findall(r"[A-Za-z_]\w*", program.source)))))


def _derive(problem: Problem, setup: Setup, num: Numeric | None) -> _Derived:
    """The formulas and symbolic J of ``setup.program``, from scratch."""
    B = SymbolicBackend(problem.limits)
    bindings = {name: B.variable(name, setup.shapes[name]) for name in setup.variables}
    out = np.asarray(run(setup.program, B, bindings))
    values = [on_reals(v) for v in out.flat]  # sqrt(x**2) is SymPy's complex Abs(x)
    _refuse_placeholders(B, values, labels(setup.program.output_label, out.shape))
    inputs = [s for w in setup.wrt for s in np.asarray(bindings[w]).flat]
    if num is None:
        _check_budget(problem, len(values) * len(inputs))
    own = _own_names(setup, B, bindings, values, labels(setup.program.output_label, out.shape))
    J, printed = _readable(jacobian(values, inputs), setup, own)
    return _Derived(setup.program, tuple(out.shape), tuple(values), J, tuple(inputs), bindings,
                    printed={"full": printed} if printed else {})


def _readable(J: list[list], setup: Setup, own) -> tuple[Rows, list[list[str]] | None]:
    """J as ``Rows``, carrying the short form with common subexpressions named (inside the
    stage's time budget; fresh names avoid every identifier of the program), and J's rows
    printed when shortening printed them (``None`` otherwise)."""
    rows, printed = Rows(J), []
    reserved = set(re.findall(r"[A-Za-z_]\w*", setup.program.source))
    rows.short = shorten(J, reserved | set(setup.variables) | {setup.program.output_label}, own,
                         printed)
    width = len(J[0]) if J else 0
    return rows, [printed[i:i + width] for i in range(0, len(printed), width)] or None


MAX_OWN = 12  # intermediates looked at for their names (each is one more run of the program)


def _own_names(setup: Setup, B, bindings: dict, values: list, outputs: list[str]):
    """``shorten``'s ``names``: the program's intermediates (run again, a name at a time,
    only when J is worth shortening) and its outputs. Names that are also variables are
    left out: ``x = 2*x`` would print two different ``x[0]``."""
    from jacli.analysis.shorten import Names
    from jacli.language import ir

    def names() -> Names:
        label = setup.program.output_label
        taken = set(setup.variables) | {label}
        wanted = list(dict.fromkeys(st.name for st in setup.program.statements
                                    if st.name not in taken))[:MAX_OWN]
        own = {}
        for name in wanted:
            value = np.asarray(run(setup.program, B, bindings, node=ir.Name(name, None)))
            if value.size <= 64:
                own.update((lab, v) for lab, v in zip(labels(name, value.shape), value.flat)
                           if isinstance(v, sp.Expr) and not v.is_Atom)
        free = label in setup.variables
        return Names(own, [] if free else list(zip(outputs, values)))

    return names


def _products(sym: Symbolic, inputs: list, command: str) -> None:
    """vᵀJ, J u, H and H v as formulas."""
    J, d = sym.J, sym.d
    if d.v is not None:
        vjp = [sp.Add(*(vi * row[j] for vi, row in zip(d.v, J))) for j in range(len(inputs))]
        # a scalar output and v = 1 (``loss.backward()``): vᵀJ is J's one row, the same
        # expressions; said once, so they are substituted and printed once (``assemble``)
        same = len(J) == 1 and all(a is b for a, b in zip(vjp, J[0]))
        sym.parts["vjp"] = J[0] if same else vjp
    if d.u is not None:
        sym.parts["jvp"] = [sp.Add(*(row[j] * d.u[j] for j in range(len(inputs)))) for row in J]
    if command == C.hessian:
        sym.parts["H"] = jacobian(J[0], inputs)
        if d.hv is not None:
            sym.parts["hvp"] = [sp.Add(*(h * x for h, x in zip(row, d.hv)))
                                for row in sym.parts["H"]]


def _subst(formulas, point, at):
    if formulas and isinstance(formulas[0], list):
        return [substitute(row, point, at) for row in formulas]
    return substitute(formulas, point, at)


def _exact_point(B: SymbolicBackend, bindings: dict, setup: Setup):
    """The point as ``exact_at``'s rationals (``None`` where a value is not one), and a
    function giving it as SymPy values, made on its first call: only the formulas
    ``exact_at`` leaves to SymPy, and the kinks, read those (making them cost a small
    request at a fresh point ~17 µs)."""
    scalars = [(symbols.item(), exact_of(setup.point[name]))
               for name, symbols in bindings.items() if not setup.shapes[name]]
    if len(scalars) == len(bindings) and all(isinstance(x, (int, Fraction))
                                             for _, x in scalars):
        at = point_of((s, pair(x)) for s, x in scalars)
        made: list[dict] = []  # (a list, not functools.cache: that wrapper cost 4 µs)

        def sympy_point() -> dict:
            if not made:
                made.append({s: sp.Rational(x.numerator, x.denominator) for s, x in scalars})
            return made[0]

        return at, sympy_point
    point, scalar = {}, dict(scalars)
    for name, symbols in bindings.items():
        if not setup.shapes[name]:  # a scalar: its Rational, without object arrays (batch)
            x = scalar[symbols.item()]
            point[symbols.item()] = sp.Rational(x.numerator, x.denominator)
            continue
        exact = np.asarray(B.exact(setup.point[name]))
        point.update(zip(np.asarray(symbols).flat, exact.flat))
    return rationals(point), lambda: point


def _check_budget(problem: Problem, entries: int) -> None:
    if problem.symbolic == "auto" and entries > problem.limits.symbolic_entries:
        raise LimitError(f"the symbolic Jacobian has {entries} entries; the budget is "
                         f"{problem.limits.symbolic_entries}",
                         hint="give a point with --at for numbers, or --symbolic always")


def _refuse_placeholders(B: SymbolicBackend, values: list, names: list[str]) -> None:
    for name, value in zip(names, values):
        if B.placeholders and value.free_symbols & B.placeholders:
            raise ValueInputError(
                f"{name} reads an element of a torch.randn/rand/empty tensor that was never "
                "written", hint="write every element before using it, or make it a variable "
                "and give its value with --at", where="expression")
