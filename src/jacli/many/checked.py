"""``--at-file``'s checked points: the first ``CHECKED`` computed one at a time, exactly.

Each is the whole one-point pipeline (``analysis.compute``: SymPy's exact values against
autograd), so the stream can say ``check`` on its first rows and print J's formulas in its
header. The batches never need SymPy; these do. In a one-shot process (``overlap.usable(
torch_loaded=True)``) they are computed by a child forked once torch is imported and before
it has run anything: the child inherits torch, imports SymPy and computes, while the parent
batches and writes the first chunk — SymPy's import (0.5 s here) leaves the critical path.
Elsewhere (the API, tests, a bad value among the checked points' own) they are computed
here, when first read, in the order the serial stream met them.

Earlier still (``early``, the console script's ``--at-file`` of a straight-line program): a
child forked before torch is imported — the one that parses a large points file, or one of
its own — imports SymPy and derives the checked points' formulas while the parent imports
torch, on the core the import leaves idle; once torch is in, the parent computes their
numbers (``split.numbers``) and sends them (``Pending.send``); the child joins the two as a
one-shot run's split does (``split.Stages``) and answers the summary.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from jacli.errors import JacliError, internal_error
from jacli.request.command import Command as C
from jacli.runtime import overlap

WHERE = "--at-file"
NO_LIMIT = 1e9  # seconds: reading a points file has no budget, in a child or here

CHECKED = 3  # points also computed one at a time, exactly, and checked against SymPy
STAGES = 5  # budgeted stages of one point's computation (parsing, autograd, SymPy, compare,
# printing): the child computing the checked points may take this many --timeouts each


def first_ats(points) -> list[str]:
    """The first ``CHECKED`` points as ``--at`` texts, exactly (``points.at_text``)."""
    from jacli.request.points import at_text

    return [at_text(points.exact(i)) for i in range(min(CHECKED, len(points)))]


class Checked:
    """The checked points of ``problem`` at the ``--at`` texts ``ats()`` gives: ``summary``
    (see ``_summary``), from the ``early`` child (sent its numbers now), or from a child
    forked now where that is usable, else computed when first read. ``cancel`` ends a child
    whose answer will not be read."""

    def __init__(self, problem, ats: Callable[[], list[str]],
                 early: overlap.Pending | None = None) -> None:
        self.problem, self.ats, self._summary = problem, ats, None
        self._pending = early or self._fork()
        if early is not None:
            early.send(_numbers(problem, ats))

    def _fork(self) -> overlap.Pending | None:
        if not overlap.usable(torch_loaded=True):
            return None
        try:
            ats = self.ats()
        except JacliError:  # a bad value: the columns report it first, here, later
            return None
        return overlap.in_child(_summary, self.problem, ats, True)

    @property
    def summary(self) -> dict:
        if self._summary is None and self._pending is None:
            self._summary = _summary(self.problem, self.ats())
        if self._summary is None:
            try:
                self._summary = self._pending.result(
                    self.problem.limits.timeout * STAGES * CHECKED, "checked points")
            finally:
                self._pending.cancel()
        return self._summary

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()


def _summary(problem, ats: list[str], child: bool = False) -> dict:
    """The points ``ats`` computed one at a time (the whole pipeline: SymPy's exact values
    against autograd), as plain data: the header's fields, v, and per point ``None`` (no
    verdict) or its verdict and numbers. ``child``: in a forked child, torch on one thread
    (its pool, if the parent had one, did not survive the fork)."""
    from jacli.analysis.compute import compute

    if child:
        import torch

        torch.set_num_threads(1)
        overlap.started()
    return _summarised([compute(replace(problem, at=(a,))) for a in ats])


def _summarised(results: list) -> dict:
    """The checked points' ``Result``s as the stream reads them (see ``_summary``)."""
    from jacli.result import strict

    one = results[0]
    header = strict({  # JSON-ready: the formulas as strings, whatever printed them
        "variables": [{"name": v.name, "shape": list(v.shape)} for v in one.variables],
        "inputs": list(one.inputs), "outputs": list(one.outputs),
        "jacobian_symbolic": _full(one.jacobian)})
    return {**header, "v": list(one.vjp.v) if one.vjp is not None else None,
            "points": [None if r.check is None or r.check.agree is None else overlap.plain({
                "agree": r.check.agree, "value": r.value_numeric,
                "jacobian": r.jacobian.numeric if r.jacobian else None,
                "vjp": r.vjp.numeric if r.vjp else None}) for r in results]}


def _full(J) -> list | None:
    """J's formulas written out (the header carries no definitions for a shortened form)."""
    if J is None:
        return None
    return J.symbolic_full if J.symbolic_full is not None else J.symbolic


def early_usable(problem) -> bool:
    """Whether the console script may fork the ``early`` child for ``problem``: forking is
    usable before torch, a straight-line program (a script runs per point) whose checked
    points have formulas to derive (``jacobian``, ``vjp``, ``grad`` on the CPU, symbolic
    side on)."""
    from jacli.language import is_program

    return (overlap.usable() and problem.command in (C.jacobian, C.vjp, C.grad)
            and problem.symbolic != "never" and problem.device == "cpu"
            and problem.emit is None
            and is_program(problem.source, output=problem.output, limits=problem.limits))


def fork_early(problem, text: str | None, ats: list[str] | None) -> overlap.Pending:
    """The ``early`` child: given ``text``, it parses the points and sends them first (a
    part: ``Pending.part``, ``NO_LIMIT``), then works from their first ``CHECKED``; else
    from ``ats``. Its answer is ``_summary``'s, read through ``Checked(early=...)``."""
    return overlap.in_child(_early, problem, text, ats, inbox=True)


def _early(problem, text: str | None, ats: list[str] | None) -> dict:
    """In the child: the points (sent), each checked point's setup and formulas before any
    number (where their budget allows: ``split.formulas_first``), the parent's numbers
    (received), each joined into its ``Result`` as ``compute`` would give it."""
    import sys

    from jacli.analysis.assemble import assemble
    from jacli.analysis.split import Given, Stages, formulas_first
    from jacli.bounds import RECURSION

    overlap.started()
    if text is not None:
        from jacli.request.points import read_points

        points = read_points(text, WHERE)
        overlap.part(points.plain())
        ats = first_ats(points)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION))
    formulas = _formulas(problem, ats, formulas_first)
    given = overlap.receive()
    results = []
    for item, (kind, value) in zip(formulas, given):  # in order: an error stops it there
        if isinstance(item, BaseException):
            raise item
        p, setup, outcome = item
        numbers = Given(value) if kind == "r" else Given(error=overlap.unpacked(value))
        results.append(assemble(p, setup, Stages(p, setup, numbers, outcome)))
    return _summarised(results)


def _formulas(problem, ats: list[str], first) -> list:
    """Per point ``(problem, setup, outcome)`` — ``outcome`` the formulas' (``attempt``),
    or ``None``: derived with the numbers — up to a point that cannot be set up (its error,
    last)."""
    from jacli.analysis.prepare import prepare, stage
    from jacli.analysis.split import attempt

    out = []
    for a in ats:
        p = replace(problem, at=(a,))
        try:
            setup = stage(p.limits.timeout, "input parsing", lambda: prepare(p))
        except JacliError as e:
            return out + [e]
        out.append((p, setup, attempt(p, setup) if first(p, setup) else None))
    return out


def _numbers(problem, ats: Callable[[], list[str]]) -> list[tuple[str, object]]:
    """In the parent, torch in: each checked point's numbers (``split.numbers``), as
    ``("r", value)``, up to the first error, as ``("e", packed)``."""
    from jacli.analysis.prepare import prepare, stage
    from jacli.analysis.split import numbers

    out: list[tuple[str, object]] = []
    try:
        for a in ats():
            p = replace(problem, at=(a,))
            setup = stage(p.limits.timeout, "input parsing", lambda: prepare(p))
            out.append(("r", numbers(p, setup)))
    except Exception as e:  # noqa: BLE001 - the child raises it where serially it came
        out.append(("e", overlap.packed(e if isinstance(e, JacliError) else
                                        internal_error(e))))
    return out
