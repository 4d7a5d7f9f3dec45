"""The two stages and the ``Result`` they make: autograd's numbers, SymPy's formulas.

``numeric`` runs torch at the point (forward, vectorised Jacobian, ``y.backward(v)``);
``symbolic`` runs SymPy (formulas, exact values at the point). ``assemble`` orders them,
skips the symbolic side with a notice when it is off, too big or out of time and numbers
exist, compares the two, and fills the ``Result``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from jacli.compare import Entry, compare
from jacli.compute import Problem, Setup, stage, v_for, variables_info
from jacli.errors import LimitError, ValueInputError
from jacli.interpret import run
from jacli.result import VJP, Matrix, Result
from jacli.symbolic import SymbolicBackend, classify, jacobian, labels, substitute
from jacli.values import flatten, shape_of

STRATEGY = "reverse mode, vectorised: torch.autograd.functional.jacobian(vectorize=True)"


@dataclass
class Numeric:
    """Autograd's side: floats, flat row-major."""

    out_shape: tuple[int, ...]
    value: list[float]
    v: list | None = None  # exact v entries (SymPy numbers)
    J: list[list[float]] | None = None
    vjp: list[float] | None = None
    grads: dict[str, Any] = field(default_factory=dict)
    grad_repr: dict[str, str] = field(default_factory=dict)
    untouched: list[str] = field(default_factory=list)


@dataclass
class Symbolic:
    """SymPy's side: expressions; ``exact`` ones are at the point (``None`` without one)."""

    out_shape: tuple[int, ...]
    value: list[sp.Expr]
    J: list[list[sp.Expr]]
    v: list | None = None
    vjp: list[sp.Expr] | None = None
    value_exact: list[sp.Expr] | None = None
    J_exact: list[list[sp.Expr]] | None = None
    vjp_exact: list[sp.Expr] | None = None


def assemble(problem: Problem, setup: Setup) -> Result:
    notices: list[str] = []
    timeout = problem.limits.timeout
    num = stage(timeout, "numeric stage", lambda: numeric(problem, setup)) if setup.point else None
    sym = _symbolic_or_notice(problem, setup, num, notices)
    out_shape = num.out_shape if num else sym.out_shape
    outputs = labels(setup.program.output_label, out_shape)
    inputs = [lab for name in setup.wrt for lab in labels(name, setup.shapes[name])]
    check = None
    if num is not None and sym is not None and sym.J_exact is not None:
        check, why = compare(_entries(num, sym, outputs, inputs), problem.dtype)
        notices.extend(why)
    notices.extend(_structure_notices(num, sym, outputs, inputs, setup))
    return Result(
        command=problem.command, source=setup.program.source,
        variables=variables_info(setup), inputs=tuple(inputs), outputs=tuple(outputs),
        output_shape=out_shape, output_label=setup.program.output_label, order=setup.order,
        point=_json_point(setup.point), point_text=_point_text(setup.point),
        value_exact=_strs(sym.value_exact if sym else None),
        value_numeric=num.value if num else None,
        jacobian=_matrix(num, sym), vjp=_vjp(num, sym, setup), check=check,
        notices=tuple(notices), dtype=problem.dtype, device=problem.device,
        strategy=STRATEGY if num else None,
        extras={"ignored": list(setup.program.ignored)} if setup.program.ignored else {})


# -- the numeric stage --------------------------------------------------------------------
def numeric(problem: Problem, setup: Setup) -> Numeric:
    from jacli import autograd as ag  # torch is imported here and only here

    B = ag.TorchBackend(problem.dtype, problem.device)
    point = {k: B.tensor(val) for k, val in setup.point.items()}
    y = ag.forward(setup.program, B, point).detach()
    out_shape = tuple(y.shape)
    v = v_for(problem.command, *_raw_v(setup), out_shape, setup.program.output_label)
    num = Numeric(out_shape, y.reshape(-1).tolist(), v=v)
    m, n = y.numel(), sum(point[w].numel() for w in setup.wrt)
    if m * n <= problem.limits.jacobian_entries:
        num.J = ag.jacobian(setup.program, B, point, setup.wrt).tolist()
    if v is not None:
        v_tensor = B.tensor([_to_fraction(x) for x in v])
        _, info = ag.backward(setup.program, B, point, v_tensor)
        num.grads = {k: g.tolist() for k, g in info["grads"].items()}
        num.grad_repr = {k: ag.torch_repr(g) for k, g in info["grads"].items()}
        num.untouched = info["untouched"]
        num.vjp = [x for w in setup.wrt for x in info["grads"][w].reshape(-1).tolist()]
    return num


def _raw_v(setup: Setup) -> tuple[list | None, tuple[int, ...] | None]:
    """v from ``--v``, else from the program's ``backward(v)``, as exact flat values."""
    if setup.v is not None:
        return flatten(setup.v), shape_of(setup.v, "--v")
    if setup.program.v is None:
        return None, None
    B = SymbolicBackend()
    bindings = {k: B.exact(val) if setup.point else B.variable(k, setup.shapes[k])
                for k, val in (setup.point or dict.fromkeys(setup.variables)).items()}
    value = np.asarray(run(setup.program, B, bindings, node=setup.program.v))
    return list(value.flat), value.shape


def _to_fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    value, kind = classify(sp.sympify(x))
    if value is None:
        raise ValueInputError(f"v entry {x} is not a real number", where="--v")
    return Fraction(value)


# -- the symbolic stage --------------------------------------------------------------------
def _symbolic_or_notice(problem, setup, num, notices) -> Symbolic | None:
    mode = problem.symbolic
    if mode == "never":
        if num is None:
            raise LimitError("--symbolic never without --at leaves nothing to compute",
                             hint="give a point with --at")
        return None
    n = sum(int(np.prod(setup.shapes[w], dtype=np.int64)) for w in setup.wrt)
    if num is not None and mode == "auto":
        entries = len(num.value) * n
        if entries > problem.limits.symbolic_entries:
            notices.append(f"symbolic Jacobian skipped: {entries} entries exceeds budget "
                           f"{problem.limits.symbolic_entries} (use --symbolic always to force)")
            return None
    try:
        return stage(problem.limits.timeout, "symbolic stage", lambda: symbolic(problem, setup, num))
    except LimitError as e:
        if num is None:
            raise
        notices.append(f"symbolic side skipped: {e.message}; the numeric results stand alone")
        return None


def symbolic(problem: Problem, setup: Setup, num: Numeric | None) -> Symbolic:
    B = SymbolicBackend(problem.limits)
    bindings = {name: B.variable(name, setup.shapes[name]) for name in setup.variables}
    out = np.asarray(run(setup.program, B, bindings))
    values = list(out.flat)
    _refuse_placeholders(B, values, labels(setup.program.output_label, out.shape))
    inputs = [s for w in setup.wrt for s in np.asarray(bindings[w]).flat]
    if num is None:
        _check_budget(problem, len(values) * len(inputs))
    sym = Symbolic(tuple(out.shape), values, jacobian(values, inputs))
    sym.v = num.v if num else v_for(problem.command, *_raw_v(setup), sym.out_shape,
                                    setup.program.output_label)
    if sym.v is not None:
        sym.vjp = [sp.Add(*(vi * row[j] for vi, row in zip(sym.v, sym.J)))
                   for j in range(len(inputs))]
    if setup.point is not None:
        _exact(sym, B, bindings, setup)
    return sym


def _check_budget(problem: Problem, entries: int) -> None:
    if problem.symbolic == "auto" and entries > problem.limits.symbolic_entries:
        raise LimitError(f"the symbolic Jacobian has {entries} entries; the budget is "
                         f"{problem.limits.symbolic_entries}",
                         hint="give a point with --at for numbers, or --symbolic always")


def _refuse_placeholders(B: SymbolicBackend, values: list, names: list[str]) -> None:
    if not B.placeholders:
        return
    for name, value in zip(names, values):
        if value.free_symbols & B.placeholders:
            raise ValueInputError(
                f"{name} reads an element of a torch.randn/rand/empty tensor that was never "
                "written", hint="write every element before using it, or make it a variable "
                "and give its value with --at", where="expression")


def _exact(sym: Symbolic, B: SymbolicBackend, bindings: dict, setup: Setup) -> None:
    point = {}
    for name, symbols in bindings.items():
        exact = np.asarray(B.exact(setup.point[name]))
        point.update(zip(np.asarray(symbols).flat, exact.flat))
    sym.value_exact = substitute(sym.value, point)
    sym.J_exact = [substitute(row, point) for row in sym.J]
    if sym.vjp is not None:
        sym.vjp_exact = substitute(sym.vjp, point)


# -- comparing and packing -------------------------------------------------------------------
def _entries(num: Numeric, sym: Symbolic, outputs: list[str], inputs: list[str]) -> list[Entry]:
    entries = []
    pairs = [(o, num.value[i], sym.value_exact[i]) for i, o in enumerate(outputs)]
    if num.J is not None:
        pairs += [(f"d{o}/d{x}", num.J[i][j], sym.J_exact[i][j])
                  for i, o in enumerate(outputs) for j, x in enumerate(inputs)]
    if num.vjp is not None and sym.vjp_exact is not None:
        pairs += [(f"(vᵀJ)[{x}]", num.vjp[j], sym.vjp_exact[j]) for j, x in enumerate(inputs)]
    for label, n, e in pairs:
        value, kind = classify(e)
        entries.append(Entry(label, float(n), value, kind, str(e), label not in outputs))
    return entries


def _structure_notices(num, sym, outputs, inputs, setup) -> list[str]:
    """Say so when an output depends on no input, or no output on an input."""
    if sym is not None:
        zero = [[e == 0 for e in row] for row in sym.J]
    elif num is not None and num.J is not None:
        zero = [[e == 0 for e in row] for row in num.J]
    else:
        return []
    notes = [f"output {o} does not depend on any input" for o, row in zip(outputs, zero) if all(row)]
    if zero:
        notes += [f"no output depends on {x}" for j, x in enumerate(inputs)
                  if all(row[j] for row in zero)]
    if num is not None and num.untouched:
        notes.append(f"autograd left .grad as None for {', '.join(num.untouched)} (not in the "
                     "graph of the output); shown as zeros")
    return notes if len(notes) <= 12 else notes[:12] + [f"... and {len(notes) - 12} more"]


def _matrix(num: Numeric | None, sym: Symbolic | None) -> Matrix:
    return Matrix(symbolic=_strs2(sym.J if sym else None),
                  exact=_strs2(sym.J_exact if sym else None),
                  numeric=num.J if num else None)


def _vjp(num: Numeric | None, sym: Symbolic | None, setup: Setup) -> VJP | None:
    v = num.v if num else (sym.v if sym else None)
    if v is None:
        return None
    source = "--v" if setup.v is not None else (
        f"{setup.program.output_label}.backward(v) in the program" if setup.program.v is not None
        else "1: the output is a scalar, as in backward()")
    return VJP(v_source=source, grad_none=tuple(num.untouched) if num else (),v=[classify(sp.sympify(x))[0] for x in v], v_exact=[str(x) for x in v],
               exact=_strs(sym.vjp_exact if sym else None),
               numeric=num.vjp if num else None, symbolic=_strs(sym.vjp if sym else None),
               grad=num.grads if num else None, grad_repr=num.grad_repr if num else None)


def _strs(exprs) -> list[str] | None:
    return None if exprs is None else [str(e) for e in exprs]


def _strs2(rows) -> list[list[str]] | None:
    return None if rows is None else [[str(e) for e in row] for row in rows]


def _json_point(point) -> dict[str, Any] | None:
    if point is None:
        return None

    def num(x):
        if isinstance(x, list):
            return [num(i) for i in x]
        return int(x) if x.denominator == 1 else float(x)

    return {k: num(v) for k, v in point.items()}


def _point_text(point) -> dict[str, str] | None:
    if point is None:
        return None
    return {k: exact_text(v) for k, v in point.items()}


def exact_text(x) -> str:
    """``1``, ``0.25``, ``1/3``, ``[1, 2]``: a value as the user would type it, exactly."""
    if isinstance(x, list):
        return "[" + ", ".join(exact_text(i) for i in x) + "]"
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return str(float(x)) if d == 1 and len(str(float(x))) < 18 else f"{x.numerator}/{x.denominator}"
