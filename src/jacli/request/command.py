"""The commands, and which options each one takes.

One table serves everyone who builds a request: the CLI builds each command's options (and
so its ``--help``) from it, ``jacli batch`` checks a request's keys against it, and the
``Problem`` builder refuses an option the command would ignore. Pure data: no imports of
the stages, so ``--help`` can read it.
"""

from __future__ import annotations

from enum import Enum

from jacli.errors import UsageError


class Command(str, Enum):
    """What to compute. A ``str`` Enum: ``Command.vjp == "vjp"``, and JSON writes "vjp"."""

    jacobian = "jacobian"
    vjp = "vjp"
    grad = "grad"
    jvp = "jvp"
    hessian = "hessian"
    check = "check"
    graph = "graph"

    def __str__(self) -> str:
        return self.value


C = Command
NUMERIC_J = (C.jacobian, C.vjp, C.grad, C.jvp, C.hessian, C.check)  # they build a numeric J
MANY_POINTS = (C.jacobian, C.vjp, C.grad)  # the commands the many-points stream answers

# An option not listed here is taken by every command. Keys are parameter names (at_file).
TAKES: dict[str, tuple[Command, ...]] = {
    "at_file": MANY_POINTS,
    "v": (C.vjp, C.hessian),  # y.backward(v); hessian: H v
    "u": (C.jvp,),
    "wrt": NUMERIC_J,  # the columns of J (the graph records every leaf)
    "symbolic": NUMERIC_J,  # graph runs the torch side only
    "mode": NUMERIC_J,
    "explain": NUMERIC_J,
    "emit": (C.vjp, C.grad),  # the script ends in y.backward(v): exactly these two
    "out_file": MANY_POINTS,  # the many-points results as arrays
    "plot": NUMERIC_J,  # a picture of one point's J (graph has its own: --format dot)
    "pretty": NUMERIC_J,  # the commands with SymPy formulas
    "seed": NUMERIC_J,  # scripts' random tensors (graph: one straight-line program)
    "event": NUMERIC_J,
}
# Refusals that deserve more than "X takes no --opt": (message, hint).
WHY_NOT = {
    (C.grad, "v"): ("grad takes no --v: grad is y.backward() on a scalar output, so v = 1",
                    "for a weight vector v use `jacli vjp EXPR --at POINT --v V`"),
    (C.jacobian, "v"): ("jacobian takes no --v: it shows the whole J",
                        "for vᵀJ (what y.backward(v) leaves in .grad) use `jacli vjp ... --v V`"),
}


def command(name: str) -> Command:
    """``name`` as a ``Command``; a clear error for anything else."""
    try:
        return Command(name)
    except ValueError:
        raise UsageError(f"unknown command {name!r}",
                         hint=", ".join(c.value for c in Command)) from None


def takes(command: str, option: str) -> bool:
    """Whether ``command`` takes ``option`` (a parameter name such as ``at_file``)."""
    return command in TAKES.get(option, (command,))


def not_taken(command: str, option: str) -> UsageError:
    """The one-line refusal of an option the command does not take, naming who takes it."""
    flag = "--" + option.replace("_", "-")
    if (command, option) in WHY_NOT:
        message, hint = WHY_NOT[command, option]
    else:
        users = ", ".join(c.value for c in TAKES.get(option, ()))
        message = f"{command} takes no {flag}"
        hint = f"{flag} is an option of {users}" if users else f"see `jacli {command} --help`"
    return UsageError(message, hint=hint, where=flag)
