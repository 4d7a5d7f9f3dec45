"""Binding ``--at`` values to the program's variables, and naming variables in messages.

``bind`` matches named and positional ``--at`` values (and the values the program itself
declares) to the variables in their order, and refuses unknown, missing or surplus values
with a hint in the user's own names.
"""

from __future__ import annotations

import difflib
from fractions import Fraction

from jacli.errors import ValueInputError
from jacli.request.lazy import Numbers, exact_of
from jacli.request.values import Value, flatten


def names_text(names, limit: int = 10) -> str:
    """``x1, x2, x3`` or, for long lists, ``x1, x2, …, x200 (188 names)``."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit - 2]) + f", …, {names[-1]} ({len(names)} names)"


def bind(variables: tuple[str, ...], named: dict[str, Value], positional: list[Value],
         declared: dict[str, Value]) -> dict[str, Value]:
    """Values for every variable: ``--at`` overrides what the program declared.

    Raises ``ValueInputError`` naming the unknown, missing or surplus values.
    """
    for name in named:
        if name not in variables:
            near = difflib.get_close_matches(name, variables, n=2, cutoff=0.5)
            raise ValueInputError(
                f"--at: {name!r} is not a variable of this function",
                hint=f"variables: {names_text(variables) or 'none'}"
                + (f"; did you mean {' or '.join(map(repr, near))}?" if near else ""),
                where="--at")
    if positional:
        free = [v for v in variables if v not in declared]
        order = free if len(positional) == len(free) else list(variables)
        if len(positional) != len(order):
            raise _count_error(order, positional)
        named = dict(zip(order, positional))
    point = {**declared, **named}
    missing = [v for v in variables if v not in point]
    if missing:
        raise ValueInputError(f"--at: no value for {names_text(missing)}",
                              hint=f"variables in order: {names_text(variables)}; "
                              f"e.g. --at {missing[0]}=1", where="--at")
    return {v: point[v] for v in variables}


def _count_error(order: list[str], positional: list[Value]) -> ValueInputError:
    """Positional ``--at`` values that do not match the variables one to one, with a hint
    written in the function's own names: a vector is one bracketed value, not several."""
    names = names_text(order)
    if len(positional) == 1 and _vector(positional[0]) and len(order) > 1:
        numbers = [_text(x) for x in flatten(positional[0])]
        if len(numbers) != len(order):
            numbers = [str(i + 1) for i in range(len(order))]
        return ValueInputError(
            f"--at: a bracketed list is one vector value, but the function has {len(order)} "
            f"variables ({names})",
            hint=f"give one number per variable: --at {','.join(numbers)}, or name them: "
            + " ".join(f"--at {v}={x}" for v, x in zip(order[:3], numbers))
            + (" ..." if len(order) > 3 else ""),
            where="--at")
    message = f"--at: {len(positional)} value(s) for {len(order)} variable(s) ({names})"
    scalars = not any(map(_vector, positional))
    if len(order) == 1 and scalars:
        items = ",".join(_text(x) for x in positional)
        return ValueInputError(message, where="--at",
                               hint=f'if {order[0]} is a vector, give it as one bracketed list: '
                               f'--at "{order[0]}=[{items}]"')
    if len(positional) > len(order) and scalars:
        return ValueInputError(message, where="--at",
                               hint="one value per variable in this order; a vector variable "
                               f'takes one bracketed list, e.g. --at "{order[0]}=[1,2]"')
    return ValueInputError(message, where="--at",
                           hint="give one value per variable in this order, or name them: "
                           + " ".join(f"--at {v}=1" for v in order[:3])
                           + (" ..." if len(order) > 3 else ""))


def _vector(x: Value) -> bool:
    return isinstance(x, list) or isinstance(x, Numbers) and x.shape != ()


def _text(x: Fraction) -> str:
    """A number as ``--at`` reads it back: ``2``, ``2.5``, ``-1/3``."""
    x = exact_of(x)
    if x.denominator == 1:
        return str(x.numerator)
    short = repr(float(x))
    return short if "e" not in short and Fraction(short) == x else str(x)
