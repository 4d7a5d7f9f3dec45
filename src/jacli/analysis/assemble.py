"""The two stages and the ``Result`` they make: autograd's numbers, SymPy's formulas.

``numeric`` runs torch at the point (forward, vectorised Jacobian, ``y.backward(v)``, and per
command J u, H, H v, finite differences); ``symbolic`` runs SymPy (formulas, exact values at
the point). ``assemble`` orders them, skips the symbolic side with a notice when it is off,
too big or out of time and numbers exist, compares the two, and fills the ``Result``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from jacli.analysis import artifacts, pack
from jacli.analysis.compare import compare, compare_fd, entries
from jacli.analysis.directions import v_for
from jacli.analysis.prepare import Setup, stage, variables_info
from jacli.request.problem import Problem
from jacli.result.labels import shape_text
from jacli.errors import LimitError, ShapeError, ValueInputError
from jacli.runtime.interpret import run
from jacli.analysis.kinks import kink_notices
from jacli.result import VJP, Result
from jacli.analysis.structure import choose_mode, mode_line, strategy_text, structure
from jacli.backends.symbolic import SymbolicBackend, jacobian, labels, substitute
from jacli.request.values import flatten, parse_vector, shape_of



@dataclass
class Directions:
    """The vectors a command multiplies J (or H) by, as exact flat lists."""

    v: list | None = None  # vᵀJ: one entry per output
    u: list | None = None  # J u: one entry per input
    hv: list | None = None  # H v: one entry per input


@dataclass
class Numeric:
    """Autograd's side: floats, flat row-major."""

    out_shape: tuple[int, ...]
    value: list[float]
    d: Directions = field(default_factory=Directions)
    J: list[list[float]] | None = None
    vjp: list[float] | None = None
    grads: dict[str, Any] = field(default_factory=dict)
    grad_repr: dict[str, str] = field(default_factory=dict)
    untouched: list[str] = field(default_factory=list)
    jvp: list[float] | None = None
    H: list[list[float]] | None = None
    hvp: list[float] | None = None
    fd: Any = None
    strategy: str | None = None
    choice: tuple[str, str, str] | None = None  # choose_mode's (mode, implementation, reason)


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


def assemble(problem: Problem, setup: Setup) -> Result:
    if problem.command == "graph":
        return artifacts.graph(problem, setup)
    notices: list[str] = []
    timeout = problem.limits.timeout
    if setup.point:
        # import torch outside any time budget: an alarm inside a module's first import
        # leaves it half-initialised for the rest of the process
        importlib.import_module("jacli.analysis.autograd")
    num = stage(timeout, "numeric stage", lambda: numeric(problem, setup)) if setup.point else None
    sym = _symbolic_or_notice(problem, setup, num, notices)
    out_shape = num.out_shape if num else sym.out_shape
    outputs = labels(setup.program.output_label, out_shape)
    inputs = [lab for name in setup.wrt for lab in labels(name, setup.shapes[name])]
    check = None
    if num is not None and sym is not None and "J" in sym.exact:
        check, why = compare(entries(num, sym, outputs, inputs), problem.dtype)
        notices.extend(why)
    if num is not None and num.fd is not None:
        check, why = compare_fd(check, num.J, num.fd, outputs, inputs)
        notices.extend(why)
    notices.extend(sym.kinks if sym else [])
    notices.extend(_structure_notices(num, sym, outputs, inputs))
    d = num.d if num else sym.d
    return Result(
        command=problem.command, source=setup.program.source,
        variables=variables_info(setup), inputs=tuple(inputs), outputs=tuple(outputs),
        output_shape=out_shape, output_label=setup.program.output_label, order=setup.order,
        point=pack.json_point(setup.point), point_text=pack.point_text(setup.point),
        value_exact=pack.later(sym.exact.get("value") if sym else None),
        value_numeric=num.value if num else None,
        jacobian=pack.matrix(num and num.J, sym and sym.J, sym and sym.exact.get("J")),
        vjp=_vjp(num, sym, setup, d),
        jvp=_product("u", d.u, num and num.jvp, sym, "jvp"),
        hessian=_hessian(num, sym), hvp=_product("v", d.hv, num and num.hvp, sym, "hvp"),
        check=check, notices=tuple(notices), dtype=problem.dtype, device=problem.device,
        strategy=num.strategy if num else None,
        strategy_short=mode_line(len(outputs), len(inputs), num.choice if num else None),
        structure=structure(num.J if num else None, len(outputs), len(inputs),
                            num.choice if num else None),
        extras=artifacts.extras(problem, setup, d, sym))


# -- directions --------------------------------------------------------------------------
def directions(problem: Problem, setup: Setup, out_shape: tuple[int, ...], n: int) -> Directions:
    """v, u and the Hessian's direction, checked against the output and input sizes."""
    label = setup.program.output_label
    if problem.command == "hessian":
        if int(np.prod(out_shape, dtype=np.int64)) != 1:
            raise ShapeError(f"hessian needs a scalar output; {label} has shape "
                             f"{shape_text(out_shape)}", hint="reduce it (sum, mean) first")
        return Directions(hv=_input_vector(setup.v, "--v", n) if setup.v is not None else None)
    d = Directions(v=v_for(problem.command, *_raw_v(setup), out_shape, label))
    if problem.command == "jvp":
        if problem.u is None:
            raise ShapeError("jvp needs --u: the direction, one number per input",
                             hint=f"e.g. --u {','.join(['1'] * min(n, 8))} ({n} inputs)",
                             where="--u")
        d.u = _input_vector(parse_vector(problem.u, "--u", problem.limits), "--u", n)
    return d


def _input_vector(value, where: str, n: int) -> list:
    flat = flatten(value)
    if len(flat) != n:
        raise ShapeError(f"{where} has {len(flat)} number(s) but there are {n} inputs",
                         hint=f"{where} needs one number per input ({n})", where=where)
    return flat


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


# -- the numeric stage -------------------------------------------------------------------
def numeric(problem: Problem, setup: Setup) -> Numeric:
    from jacli.analysis import autograd as ag  # torch is imported by the numeric stage only
    from jacli.backends.tensors import TorchBackend

    B = TorchBackend(problem.dtype, problem.device)
    point = B.point(setup.point)
    y = ag.forward(setup.program, B, point).detach()
    n = sum(point[w].numel() for w in setup.wrt)
    num = Numeric(tuple(y.shape), y.reshape(-1).tolist())
    num.d = directions(problem, setup, num.out_shape, n)
    if y.numel() * n > problem.limits.jacobian_entries:
        _too_big(problem, y.numel() * n)
    else:
        tensors = any(point[w].dim() > 0 for w in setup.wrt)
        num.choice = mode, impl, why = choose_mode(y.numel(), n, problem.mode, tensors)
        num.strategy = strategy_text(mode, impl, why)
        num.J = ag.jacobian(setup.program, B, point, setup.wrt, impl).tolist()
    if num.d.v is not None:
        _backward(num, ag, B, setup, point)
    vec = lambda xs: B.tensor([pack.to_fraction(x) for x in xs])  # noqa: E731
    if num.d.u is not None:
        num.jvp = ag.jvp(setup.program, B, point, setup.wrt, vec(num.d.u)).tolist()
    if problem.command == "hessian":
        num.H = ag.hessian(setup.program, B, point, setup.wrt).tolist()
        if num.d.hv is not None:
            num.hvp = ag.hvp(setup.program, B, point, setup.wrt, vec(num.d.hv)).tolist()
    if problem.command == "check":
        from jacli.analysis.finite_differences import finite_differences

        num.fd = finite_differences(setup.program, point, setup.wrt)
    return num


def _too_big(problem: Problem, entries: int) -> None:
    """A J too large to print: refused for ``jacobian``/``check``; other commands go on."""
    if problem.command in ("jacobian", "check"):
        raise LimitError(f"the Jacobian has {entries} entries; the limit is "
                         f"{problem.limits.jacobian_entries}",
                         hint="vjp (vᵀJ) and jvp (J u) need no full Jacobian")


def _backward(num: Numeric, ag, B, setup: Setup, point: dict) -> None:
    """``y.backward(v)`` on a fresh graph; read every leaf's ``.grad``."""
    v = B.tensor([pack.to_fraction(x) for x in num.d.v])
    _, info = ag.backward(setup.program, B, point, v)
    num.grads = {k: g.tolist() for k, g in info["grads"].items()}
    num.grad_repr = {k: ag.torch_repr(g) for k, g in info["grads"].items()}
    num.untouched = info["untouched"]
    num.vjp = [x for w in setup.wrt for x in info["grads"][w].reshape(-1).tolist()]


# -- the symbolic stage ------------------------------------------------------------------
def _symbolic_or_notice(problem, setup, num, notices) -> Symbolic | None:
    mode = problem.symbolic
    if mode == "never":
        if num is None:
            raise LimitError("--symbolic never without --at leaves nothing to compute",
                             hint="give a point with --at")
        return None
    n = sum(int(np.prod(setup.shapes[w], dtype=np.int64)) for w in setup.wrt)
    if num is not None and mode == "auto" and len(num.value) * n > problem.limits.symbolic_entries:
        notices.append(f"symbolic Jacobian skipped: {len(num.value) * n} entries exceeds budget "
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
    sym.d = num.d if num else directions(problem, setup, sym.out_shape, len(inputs))
    _products(sym, inputs, problem.command)
    if setup.point is not None:
        point = _exact_point(B, bindings, setup)
        sym.exact = {"value": substitute(values, point),
                     "J": [substitute(row, point) for row in sym.J]}
        sym.exact.update({k: _subst(f, point) for k, f in sym.parts.items()})
        sym.kinks = kink_notices(values, point)
    return sym


def _products(sym: Symbolic, inputs: list, command: str) -> None:
    """vᵀJ, J u, H and H v as formulas."""
    J, d = sym.J, sym.d
    if d.v is not None:
        sym.parts["vjp"] = [sp.Add(*(vi * row[j] for vi, row in zip(d.v, J)))
                            for j in range(len(inputs))]
    if d.u is not None:
        sym.parts["jvp"] = [sp.Add(*(row[j] * d.u[j] for j in range(len(inputs)))) for row in J]
    if command == "hessian":
        sym.parts["H"] = jacobian(J[0], inputs)
        if d.hv is not None:
            sym.parts["hvp"] = [sp.Add(*(h * x for h, x in zip(row, d.hv)))
                                for row in sym.parts["H"]]


def _subst(formulas, point):
    if formulas and isinstance(formulas[0], list):
        return [substitute(row, point) for row in formulas]
    return substitute(formulas, point)


def _exact_point(B: SymbolicBackend, bindings: dict, setup: Setup) -> dict:
    point = {}
    for name, symbols in bindings.items():
        exact = np.asarray(B.exact(setup.point[name]))
        point.update(zip(np.asarray(symbols).flat, exact.flat))
    return point


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


# -- comparing and packing -------------------------------------------------------------------
def _structure_notices(num, sym, outputs, inputs) -> list[str]:
    """Say so when an output depends on no input, or no output on an input."""
    rows = sym.J if sym is not None else (num.J if num is not None else None)
    if not rows:
        return []
    nonzero = _nonzero_columns(rows, exact=sym is not None)
    used = set().union(*nonzero)
    notes = [f"output {o} does not depend on any input" for o, cols in zip(outputs, nonzero)
             if not cols]
    notes += [f"no output depends on {x}" for j, x in enumerate(inputs) if j not in used]
    if num is not None and num.untouched:
        notes.append(f"autograd left .grad as None for {', '.join(num.untouched)} (not in the "
                     "graph of the output); shown as zeros")
    return notes if len(notes) <= 12 else notes[:12] + [f"... and {len(notes) - 12} more"]


def _nonzero_columns(rows: list[list], exact: bool) -> list[list[int]]:
    """Per row, the columns that are not zero: SymPy's structural zeros are the ``S.Zero``
    singleton (one identity test each), autograd's are floats equal to 0."""
    if exact:
        zero = sp.S.Zero
        return [[j for j, e in enumerate(row) if e is not zero] for row in rows]
    return [[j for j, e in enumerate(row) if e != 0] for row in rows]


def _vjp(num: Numeric | None, sym: Symbolic | None, setup: Setup, d: Directions) -> VJP | None:
    if d.v is None:
        return None
    source = "--v" if setup.v is not None else (
        f"{setup.program.output_label}.backward(v) in the program" if setup.program.v is not None
        else "1: the output is a scalar, as in backward()")
    return VJP(v=[pack.floats(x) for x in d.v], v_exact=pack.strs(d.v),
               exact=pack.later(sym.exact.get("vjp") if sym else None),
               numeric=num.vjp if num else None,
               symbolic=pack.later(sym.parts.get("vjp") if sym else None),
               grad=num.grads if num else None, grad_repr=num.grad_repr if num else None,
               v_source=source, grad_none=tuple(num.untouched) if num else ())


def _product(name: str, direction, numbers, sym: Symbolic | None, key: str):
    if direction is None:
        return None
    return pack.product(name, direction, numbers, sym and sym.parts.get(key),
                        sym and sym.exact.get(key))


def _hessian(num: Numeric | None, sym: Symbolic | None):
    if (num is None or num.H is None) and (sym is None or "H" not in sym.parts):
        return None
    return pack.matrix(num and num.H, sym and sym.parts.get("H"), sym and sym.exact.get("H"))
