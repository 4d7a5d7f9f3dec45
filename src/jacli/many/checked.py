"""``--at-file``'s checked points: the first ``CHECKED`` computed one at a time, exactly.

Each is the whole one-point pipeline (``analysis.compute``: SymPy's exact values against
autograd), so the stream can say ``check`` on its first rows and print J's formulas in its
header. The batches never need SymPy; these do. In a one-shot process (``overlap.usable(
torch_loaded=True)``) they are computed by a child forked once torch is imported and before
it has run anything: the child inherits torch, imports SymPy and computes, while the parent
batches and writes the first chunk — SymPy's import (0.5 s here) leaves the critical path.
Elsewhere (the API, tests, a bad value among the checked points' own) they are computed
here, when first read, in the order the serial stream met them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from jacli.errors import JacliError
from jacli.runtime import overlap

CHECKED = 3  # points also computed one at a time, exactly, and checked against SymPy
STAGES = 5  # budgeted stages of one point's computation (parsing, autograd, SymPy, compare,
# printing): the child computing the checked points may take this many --timeouts each


class Checked:
    """The checked points of ``problem`` at the ``--at`` texts ``ats()`` gives: ``summary``
    (see ``_summary``), from a child forked now where that is usable, else computed when
    first read. ``cancel`` ends a child whose answer will not be read."""

    def __init__(self, problem, ats: Callable[[], list[str]]) -> None:
        self.problem, self.ats, self._summary = problem, ats, None
        self._pending = self._fork()

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
    from jacli.result import strict

    if child:
        import torch

        torch.set_num_threads(1)
        overlap.started()
    results = [compute(replace(problem, at=(a,))) for a in ats]
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
