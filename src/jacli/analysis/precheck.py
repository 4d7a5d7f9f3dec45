"""Sizes known before torch: refuse a wrong ``--v``/``--u`` length from parsing alone.

Parsing tells the number of inputs (jvp's u, hessian's v) always, and vjp's output size when
every output is provably a scalar. Otherwise the numeric stage checks after evaluating, with
the same messages (``directions``). Imports neither torch nor SymPy.
"""

from __future__ import annotations

import math

from jacli.analysis.directions import input_vector, missing_u, v_for
from jacli.analysis.prepare import prepare, stage
from jacli.errors import JacliError
from jacli.language import ir
from jacli.language.script import is_script
from jacli.language.signatures import lookup
from jacli.request.command import Command as C
from jacli.request.values import flatten, shape_of


def precheck(problem) -> None:
    """Refuse a wrong ``--v``/``--u`` length (or jvp without --u) before torch is imported,
    where parsing alone tells the sizes: the number of inputs (jvp's u, hessian's v)
    always; vjp's output size only when every output is provably a scalar (``_scalar``).
    Otherwise ``compute`` checks after evaluating, with the same messages. Costs one more
    parse of the function and the point, so it runs only when there is something to check."""
    vector = problem.u if problem.command == C.jvp else problem.v
    if not problem.at or problem.command not in (C.vjp, C.jvp, C.hessian) or (
            vector is None and problem.command != C.jvp):
        return
    try:
        setup = stage(problem.limits.timeout, "input parsing", lambda: prepare(problem))
    except JacliError:
        if is_script(problem.source):
            return  # the straight-line language refuses it; the script machine may run it
        raise
    n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)
    if problem.command == C.jvp and problem.u is None:
        raise missing_u(n)
    if problem.command == C.jvp:
        input_vector(setup.u, "--u", n)
    elif problem.command == C.hessian and setup.v is not None:
        input_vector(setup.v, "--v", n)
    elif problem.command == C.vjp and setup.v is not None:
        out_shape = output_shape(setup)
        if out_shape is not None:
            v_for("vjp", flatten(setup.v), shape_of(setup.v, "--v"), out_shape,
                  setup.program.output_label)


def output_shape(setup) -> tuple[int, ...] | None:
    """The output's shape when parsing alone proves it: a scalar expression, or a comma list
    of scalar expressions; ``None`` when only evaluating can tell."""
    program = setup.program
    if program.statements:  # names may be rebound: leave it to evaluation
        return None
    items = program.output.items if isinstance(program.output, ir.Outputs) else None
    scalars = {v for v in setup.variables if setup.shapes[v] == ()}
    if items is None:
        return () if _scalar(program.output, scalars) else None
    return (len(items),) if all(_scalar(e, scalars) for e in items) else None


def _scalar(node, scalars: set[str]) -> bool:
    """True only when ``node`` is certainly 0-d: numbers, constants, scalar variables, and
    elementwise operators and functions of those (broadcasting 0-d with 0-d gives 0-d)."""
    if isinstance(node, (ir.Num, ir.Const)):
        return True
    if isinstance(node, ir.Name):
        return node.id in scalars
    if isinstance(node, ir.Op):
        return node.op != "matmul" and all(_scalar(a, scalars) for a in node.args)
    if isinstance(node, ir.Call):
        row = lookup(node.fn)
        return row is not None and row.kind in ("elementwise", "gradient") and all(
            _scalar(a, scalars) for a in node.args)
    return False
