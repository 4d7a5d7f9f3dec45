"""The first stage: parse the program and the values; fix the variable order, the shapes,
the point and the directions' texts (``--v``, ``--u``), all under the input-parsing budget.

``Setup`` is what every later stage reads; nothing here imports torch or computes a
derivative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from fractions import Fraction
from typing import Any

from jacli.bounds import Limits, OutOfTime, within
from jacli.errors import LimitError, UsageError, ValueInputError
from jacli.language import Program, parse_program
from jacli.language.labels import made_tensor
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.request.binding import bind, names_text
from jacli.request.lazy import exact_of
from jacli.request.values import Value, flatten, parse_vector, read_point, shape_of
from jacli.result import Variable
from jacli.runtime.lru import Lru


@dataclass
class Setup:
    """The problem after parsing: program, variable order, shapes, point and v."""

    program: Program
    variables: tuple[str, ...]
    order: str
    wrt: list[str]
    shapes: dict[str, tuple[int, ...]]
    point: dict[str, Value] | None
    v: Value | None  # --v, exact
    u: Value | None = None  # --u, exact


def prepare(problem: Problem) -> Setup:
    """Parse the program and the values; fix the variable order, the shapes and v."""
    program = parsed(problem.source, problem.output, problem.limits)
    variables, order = _order(program, problem.vars)
    if not variables:
        raise _no_variables(program)
    point = _point(program, variables, problem)
    shapes = {v: shape_of(point[v], f"--at {v}") if point else () for v in variables}
    _check_sizes(shapes, problem.limits)
    wrt = _wrt(variables, problem.wrt)
    v = _direction(problem.v, "--v", problem.limits, wrt)
    u = _direction(problem.u, "--u", problem.limits, wrt)
    return Setup(program, variables, order, wrt, shapes, point, v, u)


def _direction(value, where: str, limits: Limits, wrt: list[str]) -> Value | None:
    """``--v``/``--u`` exactly: a text parsed, an API value read, or (``u`` by variable) the
    values of the ``wrt`` variables, flat, in their order."""
    if value is None or isinstance(value, str):
        return None if value is None else parse_vector(value, where, limits)
    if not isinstance(value, tuple):
        return exact_of(value)  # nested, as the text's value would be
    given = dict(value)
    if sorted(given) != sorted(wrt):
        raise UsageError(f"{where} by name needs exactly the variables {names_text(wrt)}",
                         hint=f"given: {names_text(given) or 'none'}", where=where)
    return [x for name in wrt for x in flatten(given[name])]


PROGRAMS = Lru(128)  # parsed programs by (source, output, limits): immutable, shared


def parsed(source: str, output: str | None, limits: Limits) -> Program:
    """``parse_program``, once per process for the same text, output and limits (the API in a
    loop, batch, many points): the ``Program`` is frozen, so sharing it leaks nothing, and the
    lowerings cached by its identity are found again. Refusals are not cached."""
    key = (source, output, untimed(limits))  # the time budget parses alike
    program = PROGRAMS.get(key)
    if program is None:
        program = PROGRAMS.put(key, parse_program(source, output=output, limits=limits))
    return program


@lru_cache(maxsize=64)  # a handful of limits in practice
def untimed(limits: Limits) -> Limits:
    """``limits`` with the timeout zeroed (a cache key: the time budget computes alike),
    made once per limits: ``replace`` costs 15 µs, a tenth of an API call's own work."""
    return replace(limits, timeout=0.0)


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
    texts = [a for a in problem.at if isinstance(a, str)]
    if not problem.at and problem.command == C.graph and not declared:
        return {v: Fraction(1) for v in variables}  # the graph's shape needs some value
    if not problem.at and not all(v in declared for v in variables):
        random = [leaf for leaf in program.leaves if leaf.value is None]
        if random and len(declared) + len(random) == len(variables):
            leaf = random[0]
            raise ValueInputError(f"{leaf.why_missing}: jacli needs its value",
                                  hint=f"give it with --at {leaf.name}=[...] (e.g. the values "
                                  "the tutorial printed)", where="--at")
        return None
    named, positional = read_point(texts, problem.limits) if texts else ({}, [])
    for name, value in (a for a in problem.at if not isinstance(a, str)):  # the API's values
        if name in named:
            raise ValueInputError(f"--at: {name!r} is given twice", where="--at")
        named[name] = value
    return bind(variables, named, positional, declared)


def _check_sizes(shapes: dict[str, tuple[int, ...]], limits: Limits) -> None:
    for name, shape in shapes.items():
        size = math.prod(shape)
        if size > limits.tensor_elements:
            raise LimitError(f"--at {name}: {size} elements; the limit is {limits.tensor_elements}")


def variables_info(setup: Setup) -> tuple[Variable, ...]:
    return tuple(Variable(v, setup.shapes[v]) for v in setup.variables)


def stage(seconds: float, name: str, thunk) -> Any:
    """Run one stage under its own time budget; running out is a ``LimitError``."""
    try:
        with within(seconds, name):
            return thunk()
    except OutOfTime:
        raise out_of_time(name, seconds) from None
    except RecursionError:
        raise LimitError(f"the {name} recursed too deeply", hint="simplify the expression") from None


def out_of_time(name: str, seconds: float) -> LimitError:
    """A stage's budget spent: the one message for it, wherever the stage ran."""
    return LimitError(f"the {name} ran out of time ({seconds:g} s)",
                      hint="raise the limit with --timeout, or use --symbolic never for large "
                      "systems")
