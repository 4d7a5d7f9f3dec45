"""``Problem`` in, ``Result`` out: the one entry point of the analysis.

Pure: no printing, no exits. Imports no SymPy and no torch itself: parsing needs neither,
and a one-shot command forks its numbers (``split``) before SymPy is imported, so that the
two imports overlap. Parses (``prepare``), then runs the numeric side (torch) when
there is a point and the symbolic side (SymPy) unless it is switched off or too big, compares
them and fills the ``Result`` (``assemble``). When the symbolic side cannot finish while
numbers exist, the numbers are still given with a notice.
"""

from __future__ import annotations

import sys

from jacli.analysis.prepare import prepare, stage
from jacli.analysis.split import split
from jacli.bounds import RECURSION
from jacli.request.command import Command as C
from jacli.errors import NameLookupError, ParseError, ShapeError, UsageError, ValueInputError
from jacli.language.script import is_script
from jacli.request.problem import Problem
from jacli.result import Result


def compute(problem: Problem) -> Result:
    """Answer ``problem``; raises ``JacliError`` for anything the user can fix. A program the
    straight-line language refuses runs as a script (``analysis.script``), whose chosen
    event is replayed through ``compute_program``."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION))
    try:
        try:
            setup = stage(problem.limits.timeout, "input parsing", lambda: prepare(problem))
        except (ParseError, NameLookupError, UsageError, ValueInputError, ShapeError) as e:
            if not is_script(problem.source) or e.where == "--output":
                raise  # (an --output the program lacks is that, not a reason to run a script)
            if problem.output is not None:
                raise UsageError("--output picks the output of a straight-line program; a "
                                 "script's output is what its backward() or autograd call "
                                 "differentiates", where="--output",
                                 hint="choose among a script's gradient events with --event")
            return _as_script(problem)
        if problem.event not in (None, "last") and str(problem.event) != "1":
            raise UsageError(f"--event {problem.event}: a straight-line program has one "
                             "gradient event", hint="--event 1 (or leave it out)",
                             where="--event")
        if _runs_as_pytorch(problem, setup):
            return _as_script(problem)
        stages = split(problem, setup)  # the numbers forked now, before SymPy loads
        try:
            from jacli.analysis.assemble import assemble  # SymPy

            return assemble(problem, setup, stages)
        finally:
            if stages is not None:
                stages.cancel()  # (reaped, or killed if an error came first)
    finally:
        sys.setrecursionlimit(old)


def _as_script(problem: Problem) -> Result:
    from jacli.analysis.script import compute_script  # torch: only scripts need it

    return compute_script(problem, compute_program)


def _runs_as_pytorch(problem: Problem, setup) -> bool:
    """Pasted PyTorch that declares its own tensors (``x = torch.tensor([...],
    requires_grad=True)``), asked for what ``.grad`` holds (``vjp``, ``grad``), is run as
    PyTorch runs it, as a script: in its tensors' dtype (float32 unless it says otherwise),
    with PyTorch's own errors (a ``backward(v)`` of the wrong shape, a saved tensor written
    in place), so what ``.grad`` shows is what ``print(x.grad)`` prints. The tables come
    from the replay, in jacli's dtype."""
    return bool(setup.program.leaves) and problem.command in (C.vjp, C.grad) and \
        not problem.emit and not problem.at and is_script(problem.source)


def compute_program(problem: Problem) -> Result:
    """A straight-line program only (a script's replay is one by construction)."""
    from jacli.analysis.assemble import assemble

    setup = stage(problem.limits.timeout, "input parsing", lambda: prepare(problem))
    return assemble(problem, setup)
