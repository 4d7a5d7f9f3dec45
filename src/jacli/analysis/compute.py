"""``Problem`` in, ``Result`` out: runs both backends, compares them, applies the budgets.

Pure: no printing, no exits. The numeric side (torch) runs when there is a point; the
symbolic side (SymPy) runs unless it is switched off or too big, and when it cannot finish
while numbers exist, the numbers are still given with a notice. torch is imported only here,
only when there is a point.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from jacli.bounds import DEFAULT_LIMITS, RECURSION, Limits, OutOfTime, within
from jacli.errors import LimitError, ShapeError, UsageError, ValueInputError
from jacli.language import parse_program, Program
from jacli.language.labels import made_tensor
from jacli.result import Result, Variable
from jacli.request.values import Value, bind, names_text, parse_point, parse_vector, shape_of

COMMANDS = ("jacobian", "vjp", "grad", "jvp", "hessian", "check", "graph")


@dataclass(frozen=True)
class Problem:
    """What the user asked. Texts are parsed here; ``at`` holds ``--at`` strings."""

    source: str
    command: str = "jacobian"
    at: tuple[str, ...] = ()
    v: str | None = None
    u: str | None = None
    vars: tuple[str, ...] | None = None
    wrt: tuple[str, ...] | None = None
    output: str | None = None
    dtype: str = "float64"
    device: str = "cpu"
    symbolic: str = "auto"  # auto | always | never
    mode: str = "auto"  # how the numeric J is built: auto | fwd | rev
    emit: str | None = None  # "torch": also build a standalone PyTorch script
    latex: bool = False  # also typeset the formulas with SymPy's LaTeX printer
    limits: Limits = field(default=DEFAULT_LIMITS)


@dataclass
class Setup:
    """The problem after parsing: program, variable order, shapes, point and v."""

    program: Program
    variables: tuple[str, ...]
    order: str
    wrt: list[str]
    shapes: dict[str, tuple[int, ...]]
    point: dict[str, Value] | None
    v: Value | None


def compute(problem: Problem) -> Result:
    """Answer ``problem``; raises ``JacliError`` for anything the user can fix."""
    if problem.command not in COMMANDS:
        raise UsageError(f"unknown command {problem.command!r}", hint=", ".join(COMMANDS))
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION))
    try:
        setup = stage(problem.limits.timeout, "input parsing", lambda: prepare(problem))
        from jacli.analysis.assemble import assemble

        return assemble(problem, setup)
    finally:
        sys.setrecursionlimit(old)


def prepare(problem: Problem) -> Setup:
    """Parse the program and the values; fix the variable order, the shapes and v."""
    program = parse_program(problem.source, output=problem.output, limits=problem.limits)
    variables, order = _order(program, problem.vars)
    if not variables:
        raise _no_variables(program)
    point = _point(program, variables, problem)
    shapes = {v: shape_of(point[v], f"--at {v}") if point else () for v in variables}
    _check_sizes(shapes, problem.limits)
    wrt = _wrt(variables, problem.wrt)
    v = parse_vector(problem.v, "--v", problem.limits) if problem.v is not None else None
    return Setup(program, variables, order, wrt, shapes, point, v)


def _no_variables(program: Program) -> UsageError:
    """Nothing to differentiate: a snippet whose tensors all lack requires_grad=True, or an
    expression without names."""
    tensors, name = made_tensor(program)
    if tensors:
        return UsageError("no tensor has requires_grad=True, so there is nothing to differentiate",
                          hint=f"declare the input as a variable: {name or 'x'} = "
                          "torch.tensor([1.0, 2.0], requires_grad=True), or use a free name "
                          "and give its value with --at")
    return UsageError("the function has no variables: there is nothing to differentiate",
                      hint="use names like x, x1 or a in the expression")


def _order(program: Program, fixed: tuple[str, ...] | None) -> tuple[tuple[str, ...], str]:
    if not fixed:
        return program.variables, "natural order"
    missing = [v for v in program.variables if v not in fixed]
    if missing:
        raise UsageError(f"--vars leaves out {names_text(missing)}",
                         hint=f"list every variable: --vars {names_text(program.variables)}",
                         where="--vars")
    if len(set(fixed)) != len(fixed):
        raise UsageError("--vars names a variable twice", where="--vars")
    return tuple(fixed), "--vars order"


def _wrt(variables: tuple[str, ...], wrt: tuple[str, ...] | None) -> list[str]:
    if not wrt:
        return list(variables)
    unknown = [w for w in wrt if w not in variables]
    if unknown:
        raise UsageError(f"--wrt {names_text(unknown)}: not a variable",
                         hint=f"variables: {names_text(variables)}", where="--wrt")
    return [v for v in variables if v in wrt]


def _point(program: Program, variables, problem: Problem) -> dict[str, Value] | None:
    declared = {leaf.name: leaf.value for leaf in program.leaves if leaf.value is not None}
    if not problem.at and problem.command == "graph" and not declared:
        return {v: Fraction(1) for v in variables}  # the graph's shape needs some value
    if not problem.at and not all(v in declared for v in variables):
        random = [leaf for leaf in program.leaves if leaf.value is None]
        if random and len(declared) + len(random) == len(variables):
            leaf = random[0]
            raise ValueInputError(f"{leaf.why_missing}: jacli needs its value",
                                  hint=f"give it with --at {leaf.name}=[...] (e.g. the values "
                                  "the tutorial printed)", where="--at")
        return None
    named, positional = parse_point(list(problem.at), problem.limits) if problem.at else ({}, [])
    return bind(variables, named, positional, declared)


def _check_sizes(shapes: dict[str, tuple[int, ...]], limits: Limits) -> None:
    for name, shape in shapes.items():
        size = math.prod(shape)
        if size > limits.tensor_elements:
            raise LimitError(f"--at {name}: {size} elements; the limit is {limits.tensor_elements}")


def v_for(command: str, v: list | None, v_shape: tuple[int, ...] | None,
          out_shape: tuple[int, ...], label: str) -> list | None:
    """The flat weight vector ``v`` (exact values), or ``None`` for a plain Jacobian.

    ``grad`` is ``backward()`` on a scalar (v = 1); ``vjp`` without ``v`` is refused for a
    non-scalar output exactly as PyTorch refuses it, naming the shape ``v`` needs. ``v`` must
    have the output's shape or its flattened length.
    """
    numel = math.prod(out_shape)
    if command == "grad":
        if numel != 1:
            raise ShapeError(f"grad needs a scalar output; {label} has shape {shape_text(out_shape)}",
                             hint=f"use `jacli vjp ... --v` with shape {shape_text(out_shape)}, "
                             "or reduce the output (sum, mean)")
        return [Fraction(1)]
    if v is None:
        if command == "vjp" and numel == 1:
            return [Fraction(1)]
        if command == "vjp":
            raise ShapeError(f"grad can be implicitly created only for scalar outputs: {label} has "
                             f"shape {shape_text(out_shape)}",
                             hint=f"give --v with shape {shape_text(out_shape)}, e.g. --v "
                             f"{','.join(['1'] * min(numel, 8))}{',...' if numel > 8 else ''}",
                             where="--v")
        return None
    if len(v) != numel:
        raise ShapeError(f"v has shape {shape_text(v_shape or (len(v),))} but {label} has shape "
                         f"{shape_text(out_shape)}",
                         hint=f"v needs shape {shape_text(out_shape)} ({numel} numbers)", where="--v")
    return v


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def variables_info(setup: Setup) -> tuple[Variable, ...]:
    return tuple(Variable(v, setup.shapes[v]) for v in setup.variables)


def stage(seconds: float, name: str, thunk) -> Any:
    """Run one stage under its own time budget; running out is a ``LimitError``."""
    try:
        with within(seconds, name):
            return thunk()
    except OutOfTime:
        raise LimitError(f"the {name} ran out of time ({seconds:g} s)",
                         hint="raise the limit with --timeout, or use --symbolic never "
                         "for large systems") from None
    except RecursionError:
        raise LimitError(f"the {name} recursed too deeply", hint="simplify the expression") from None

