"""The ``Result``: the numeric and symbolic stages in order, compared, packed.

``assemble`` runs the numeric stage (when there is a point) and the symbolic stage (unless
it is off, too big or out of time while numbers exist), compares the two entry by entry (and
with finite differences for ``check``), gathers the notices and fills the ``Result``.
"""

from __future__ import annotations

import importlib
from itertools import compress

import sympy as sp

from jacli.analysis import artifacts, pack
from jacli.analysis.compare import compare_fd
from jacli.analysis.directions import Directions
from jacli.analysis.formulas import Symbolic, compare_within, symbolic_or_notice
from jacli.analysis.numeric import Numeric, numeric
from jacli.analysis.prepare import Setup, stage, variables_info
from jacli.analysis.modes import mode_line
from jacli.analysis.structure import structure
from jacli.request.command import Command as C
from jacli.result.labels import joined_labels
from jacli.request.problem import Problem
from jacli.result import VJP, Floats, Result


def assemble(problem: Problem, setup: Setup, stages=None) -> Result:
    """The Result. ``stages(notices)``, when given, runs the numeric and symbolic stages
    instead (``analysis.split``: the numbers in a child process) and returns ``(num, sym,
    structure)``, the notices gathered on the way added to ``notices``."""
    if problem.command == C.graph:
        return artifacts.graph(problem, setup)
    notices: list[str] = []
    timeout = problem.limits.timeout
    if stages is not None:
        num, sym, shape = stages(notices)
    else:
        num, sym, shape = _stages(problem, setup, notices)
    out_shape = num.out_shape if num else sym.out_shape
    outputs = joined_labels(((setup.program.output_label, tuple(out_shape)),))
    inputs = joined_labels(tuple((name, tuple(setup.shapes[name])) for name in setup.wrt))
    check = None
    if num is not None and sym is not None and "J" in sym.exact:
        check, why = compare_within(timeout, num, sym, outputs, inputs, problem.dtype)
        notices.extend(why)
    if num is not None and num.fd is not None:
        check, why = compare_fd(check, num.J, num.fd, outputs, inputs, problem.dtype)
        notices.extend(why)
    notices.extend(sym.kinks if sym else [])
    notices.extend(_structure_notices(num, sym, outputs, inputs))
    notices.extend(num.warned if num else ())
    d = num.d if num else sym.d
    jacobian = pack.matrix(num and num.J, sym and sym.J, sym and sym.exact.get("J"))
    return Result(
        command=problem.command, source=setup.program.source,
        variables=variables_info(setup), inputs=inputs, outputs=outputs,
        output_shape=out_shape, output_label=setup.program.output_label, order=setup.order,
        point=pack.json_point(setup.point), point_text=pack.point_text(setup.point),
        value_exact=pack.later(sym.exact.get("value") if sym else None),
        value_numeric=num.value if num else None,
        jacobian=jacobian, vjp=_vjp(num, sym, setup, d, jacobian),
        jvp=_product("u", d.u, num and num.jvp, sym, "jvp"),
        hessian=_hessian(num, sym), hvp=_product("v", d.hv, num and num.hvp, sym, "hvp"),
        check=check, notices=tuple(notices), dtype=problem.dtype, device=problem.device,
        strategy=num.strategy if num else None,
        strategy_short=mode_line(len(outputs), len(inputs), num.choice if num else None),
        structure=shape if shape is not None else structure(
            num.J if num else None, len(outputs), len(inputs), num.choice if num else None),
        extras=artifacts.extras(problem, setup, d, sym))


def _stages(problem: Problem, setup: Setup, notices: list[str]):
    """The numeric stage (when there is a point), then the symbolic one, here."""
    if setup.point:
        # import torch outside any time budget: an alarm inside a module's first import
        # leaves it half-initialised for the rest of the process
        importlib.import_module("jacli.analysis.autograd")
    timeout = problem.limits.timeout
    num = stage(timeout, "numeric stage", lambda: numeric(problem, setup)) if setup.point else None
    return num, symbolic_or_notice(problem, setup, num, notices), None


SUPPORT_MAX = 1_000_000  # past the default entry limit, J is not read again for notices: a
# 256×65536 J (``max_entries`` raised) takes 20–25 ms a pass, a fifth of computing it


def _structure_notices(num, sym, outputs, inputs) -> list[str]:
    """Say so when an output depends on no input, or no output on an input."""
    rows = sym.J if sym is not None else (num.J if num is not None else None)
    if not rows or len(outputs) * len(inputs) > SUPPORT_MAX:
        return []
    kept = getattr(rows, "printed", None)  # (a program's derivation: its J's own support)
    found = kept.get("support") if kept is not None else None
    if found is None:
        found = _support(rows, exact=sym is not None)
        if kept is not None:  # SymPy's zeros are the formulas', the same at every point
            kept["support"] = found
    empty, used = found
    # SymPy's zeros are structural; autograd's numbers say only what holds at this point
    row, column = (("does not depend on any input", "no output depends on {}") if sym else
                   ("has a zero derivative for every input at this point",
                    "every output's derivative with respect to {} is 0 at this point"))
    notes = [f"output {o} {row}" for o, e in zip(outputs, empty) if e
             ] if any(empty) else []  # a dense J: no walk over 256 labels per API call
    if len(used) < len(inputs):
        notes += [column.format(x) for j, x in enumerate(inputs) if j not in used]
    if num is not None and num.untouched:
        notes.append(f"autograd left .grad as None for {', '.join(num.untouched)} (not in the "
                     "graph of the output); shown as zeros")
    return notes if len(notes) <= 12 else notes[:12] + [f"... and {len(notes) - 12} more"]


def _support(rows: list[list], exact: bool):
    """Which rows are all zero, and the columns some row uses. SymPy's structural zeros are
    the ``S.Zero`` singleton (one identity test each); autograd's are floats equal to 0,
    tested in C by truth (NaN is nonzero), and a row without zeros (a dense J) uses all."""
    if isinstance(rows, Floats):  # autograd's tensor, tested whole: one count when dense
        T = rows.tensor  # NaN counts as nonzero, as in the lists' truth test
        if _dense(T):
            return [False] * T.shape[0], range(T.shape[1])
        nonzero = T != 0  # one comparison for both answers (0.1 ms each at 256×256)
        return (~nonzero.any(1)).tolist(), set(nonzero.any(0).nonzero().flatten().tolist())
    columns = range(len(rows[0]))
    if exact:
        zero = sp.S.Zero
        nonzero = [[j for j, e in enumerate(row) if e is not zero] for row in rows]
    elif any(map(all, rows)):
        return [not any(row) for row in rows], columns
    else:
        nonzero = [list(compress(columns, row)) for row in rows]
    return [not cols for cols in nonzero], set().union(*nonzero)


def _dense(T) -> bool:
    """Whether no entry of the tensor ``T`` is zero (NaN is not): NumPy's ``all`` on a CPU
    tensor's memory (15 µs at 256×256, against 36 for ``count_nonzero``)."""
    if T.device.type == "cpu":
        try:
            return bool(T.detach().numpy().all())
        except (RuntimeError, TypeError):  # a dtype or a view NumPy does not take
            pass
    return int(T.count_nonzero()) == T.numel()


def _vjp(num: Numeric | None, sym: Symbolic | None, setup: Setup, d: Directions,
         jacobian) -> VJP | None:
    if d.v is None:
        return None
    source = "--v" if setup.v is not None else (
        f"{setup.program.output_label}.backward(v) in the program" if setup.program.v is not None
        else "1: the output is a scalar, as in backward()")
    exact, symbolic = _vjp_texts(sym, jacobian)
    return VJP(v=[pack.floats(x) for x in d.v], v_exact=pack.strs(d.v), exact=exact,
               numeric=num.vjp if num else None, symbolic=symbolic,
               grad=num.grads if num else None, grad_repr=num.grad_repr if num else None,
               v_source=source, grad_none=tuple(num.untouched) if num else ())


def _vjp_texts(sym: Symbolic | None, jacobian):
    """vᵀJ's exact values and formulas as strings; when vᵀJ is J's one row (``formulas``:
    a scalar output and v = 1), J's own rows, printed once for both (a network's formulas
    printed twice cost it a second)."""
    if sym is None:
        return None, None
    if sym.J and sym.parts.get("vjp") is sym.J[0]:
        full = jacobian.symbolic_full or jacobian.symbolic
        return (jacobian.exact[0] if jacobian.exact else None), full[0]
    return pack.later(sym.exact.get("vjp")), pack.later(sym.parts.get("vjp"))


def _product(name: str, direction, numbers, sym: Symbolic | None, key: str):
    if direction is None:
        return None
    return pack.product(name, direction, numbers, sym and sym.parts.get(key),
                        sym and sym.exact.get(key))


def _hessian(num: Numeric | None, sym: Symbolic | None):
    if (num is None or num.H is None) and (sym is None or "H" not in sym.parts):
        return None
    return pack.matrix(num and num.H, sym and sym.parts.get("H"), sym and sym.exact.get("H"))
