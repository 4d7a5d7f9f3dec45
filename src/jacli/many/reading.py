"""``--at-file``'s points, read while the imports run.

A one-shot ``--at-file`` run must import torch (~1.5 s) and parse its points file (0.2 s
for 10⁵ JSON Lines points), and CPython does one after the other. For a large JSON Lines
file, ``points`` forks (``runtime.overlap``): the child parses the file and sends the points
back as plain data (``Points.plain``: columns of floats), while this process imports what
the stream computes with (torch). For a straight-line program that child goes on to derive
the checked points' formulas (``checked``'s ``early`` child; one of its own for a smaller
file), on the core the import of torch leaves idle. The points are the serial reader's, and
so is any refusal (the child's error, raised here); a small file, CSV, or a process where
forking is not safe (``overlap.usable``: not one-shot, torch loaded, threads) is read here.
"""

from __future__ import annotations

import importlib

from jacli.errors import JacliError
from jacli.many import checked
from jacli.request.points import Points, from_plain, read_points
from jacli.runtime import overlap

OVERLAP_BYTES = 1 << 20  # below ~30 k points, parsing costs less than a fork and its answer
WHERE, NO_LIMIT = checked.WHERE, checked.NO_LIMIT


def points(text: str, problem=None) -> tuple[Points, overlap.Pending | None]:
    """``read_points(text, "--at-file")``, and the checked points' ``early`` child for
    ``problem`` where the console script may fork it (``checked.early_usable``), else
    ``None``. A large JSON Lines text in a one-shot process is read in a forked child (the
    early one, if any) while this process imports torch; any other is read here."""
    early = problem is not None and checked.early_usable(problem)
    large = len(text) >= OVERLAP_BYTES and text.lstrip().startswith("{")
    if not large or not overlap.usable():
        read = read_points(text, WHERE)
        return read, (_early_from(problem, read) if early else None)
    pending = checked.fork_early(problem, text, None) if early else \
        overlap.in_child(_plain_points, text)
    try:
        for module in ("jacli.many.batched", "jacli.analysis.prepare"):  # torch, parsing
            importlib.import_module(module)
        read = from_plain(pending.part(NO_LIMIT, "reading the points") if early else
                          pending.result(NO_LIMIT, "reading the points"), text, WHERE)
    except BaseException:
        pending.cancel()
        raise
    if not early:
        pending.cancel()
    return read, (pending if early else None)


def _early_from(problem, read: Points) -> overlap.Pending | None:
    """The early child for points read here, from their first ``CHECKED`` (none if one of
    those cannot be read exactly: the stream meets that in its serial order)."""
    try:
        ats = checked.first_ats(read)
    except JacliError:
        return None
    return checked.fork_early(problem, None, ats)


def _plain_points(text: str) -> tuple:
    """In the child: the points as ``read_points`` reads them, as plain data."""
    overlap.started()
    return read_points(text, WHERE).plain()
