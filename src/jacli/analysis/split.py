"""The one-shot command line's split: the numbers in a forked child, the formulas here.

A typed program at a point needs torch (~1.5 s to import) for its numbers and SymPy for its
formulas, and one process pays them one after the other. ``split`` forks at once
(``runtime.overlap``): the child imports torch, runs the numeric stage and the structure of
J (torch's LAPACK) and sends them back as plain lists; this process imports SymPy and runs
the symbolic stage meanwhile, in ``assemble``'s ``stages``. The fork comes before SymPy is
imported (this module and the numeric stage import none): the child's import of torch and
this one's of SymPy then overlap too. This process never imports torch, so all that
follows (compare, pack, the renderers) works on plain data.

The answer is the serial one: the numeric stage's error wins over the symbolic stage's (as
when the numbers come first), and the symbolic outcome goes through ``symbolic_or_notice``
with the numbers, as it would after them; an outcome that could differ with the numbers (an
error other than a limit) is recomputed with them.

Only where it is safe and can pay (``_splits``): ``overlap.usable()`` (a one-shot process,
torch not loaded), a command at a point other than ``check`` (its finite differences are
tensors) and ``graph``, CPU, no ``--emit torch``, a symbolic side that runs and is known to
fit its budget before any number exists — ``--symbolic always``, or an output whose size
parsing proves (``precheck.output_shape``). Elsewhere the budget needs the output's size
from the numbers before a symbolic run may start, so the stages run one after the other.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import fields, replace

from jacli.analysis.numeric import Numeric, numeric
from jacli.analysis.precheck import output_shape
from jacli.analysis.prepare import Setup, out_of_time, stage
from jacli.analysis.structure import structure
from jacli.bounds import OutOfTime
from jacli.watchdog import overrun
from jacli.errors import LimitError
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.runtime import overlap

SPLIT = (C.jacobian, C.vjp, C.jvp, C.grad, C.hessian)
NOT_RUN = object()  # ``Stages``' outcome: the formulas run when the stages are called


def split(problem: Problem, setup: Setup) -> Stages | None:
    """``assemble``'s ``stages`` for this problem, its numbers already forked, or ``None``:
    the stages run serially."""
    if not _splits(problem, setup):
        return None
    return Stages(problem, setup, overlap.in_child(numbers, problem, setup))


class Stages:
    """The numbers from elsewhere (``pending``: a forked child's, or ``Given``), the
    formulas here when called — or already (``outcome``: ``attempt``'s) — joined: ``(num,
    sym, structure)``. ``cancel`` ends a child if the stages are never run (an error first)."""

    def __init__(self, problem: Problem, setup: Setup, pending, outcome=NOT_RUN) -> None:
        self.problem, self.setup, self.pending, self.outcome = problem, setup, pending, outcome

    def __call__(self, notices: list[str]):
        return _overlapped(self.problem, self.setup, self.pending, notices, self.outcome)

    def cancel(self) -> None:
        self.pending.cancel()


class Given:
    """Numbers computed elsewhere and received (``numbers(problem, setup)``'s value, or its
    error), read as a child's answer is read."""

    def __init__(self, value=None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error

    def result(self, seconds: float, stage: str):
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self) -> None:
        pass


def _splits(problem: Problem, setup: Setup) -> bool:
    return overlap.usable() and formulas_first(problem, setup)


def formulas_first(problem: Problem, setup: Setup) -> bool:
    """Whether the symbolic stage may run before any number exists: a command at a point
    other than ``check`` and ``graph``, CPU, no ``--emit``, and a symbolic side known to fit
    its budget — ``--symbolic always``, or an output whose size parsing proves."""
    if not (setup.point and problem.command in SPLIT and problem.emit is None
            and problem.device == "cpu" and problem.symbolic != "never"):
        return False
    if problem.symbolic == "always":
        return True
    shape = output_shape(setup)
    n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)
    return shape is not None and math.prod(shape) * n <= problem.limits.symbolic_entries


def _overlapped(problem: Problem, setup: Setup, pending, notices: list[str],
                outcome=NOT_RUN):
    """Run the formulas (unless ``outcome`` is ``attempt``'s already, or ``None``: with the
    numbers) while the child computes the numbers, join: ``(num, sym, structure)``."""
    from jacli.analysis.artifacts import versions  # SymPy: imported after the fork
    from jacli.analysis.formulas import symbolic_or_notice

    try:
        outcome = attempt(problem, setup) if outcome is NOT_RUN else outcome
        versions()  # read from the installed metadata (30 ms), which assemble will need
        try:
            num, shape = pending.result(problem.limits.timeout, "numeric stage")
        except OutOfTime as e:  # stuck past its budget and GRACE: as the watchdog says it
            raise LimitError(overrun(e.stage, e.seconds),
                             hint=out_of_time(e.stage, e.seconds).hint) from None
    finally:
        pending.cancel()
    return num, symbolic_or_notice(problem, setup, num, notices, run=outcome), shape


def attempt(problem: Problem, setup: Setup):
    """The symbolic stage now, before any number: ``symbolic_or_notice``'s ``run`` (its
    value, or its ``LimitError`` raised again), or ``None`` (run it again, with the
    numbers) after any other error."""
    from jacli.analysis.formulas import symbolic

    try:
        sym = stage(problem.limits.timeout, "symbolic stage",
                    lambda: symbolic(problem, setup, None))
    except LimitError as e:
        error = e  # ``e`` is unbound after the except clause

        def again():
            raise error

        return again
    except Exception:  # noqa: BLE001 - recomputed with the numbers, so it reads as serially
        return None
    return lambda: sym


def numbers(problem: Problem, setup: Setup) -> tuple[Numeric, dict]:
    """The numeric stage as ``assemble`` runs it, and J's structure, plain (in the child, or
    for ``--at-file``'s checked points' child: ``many.checked``)."""
    importlib.import_module("jacli.analysis.autograd")  # torch, outside the budget
    overlap.started()
    num = stage(problem.limits.timeout, "numeric stage", lambda: numeric(problem, setup))
    n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)
    shape = structure(num.J, math.prod(num.out_shape), n, num.choice)
    return replace(num, **{f.name: overlap.plain(getattr(num, f.name)) for f in fields(num)}), shape
