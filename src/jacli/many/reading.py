"""``--at-file``'s points, read while the imports run.

A one-shot ``--at-file`` run must import torch (~1.5 s) and parse its points file (0.2 s
for 10⁵ JSON Lines points), and CPython does one after the other. For a large JSON Lines
file, ``points`` forks (``runtime.overlap``): the child parses the file and sends the points
back as plain data (``Points.plain``: columns of floats), while this process imports what
the stream computes with (torch; SymPy is the checked points' child's: ``stream._Run``). The points are the serial reader's, and so is any
refusal (the child's error, raised here); a small file, CSV, or a process where forking is
not safe (``overlap.usable``: not one-shot, torch loaded, threads) is read here, as before.
"""

from __future__ import annotations

import importlib

from jacli.request.points import Points, from_plain, read_points
from jacli.runtime import overlap

OVERLAP_BYTES = 1 << 20  # below ~30 k points, parsing costs less than a fork and its answer
WHERE = "--at-file"
NO_LIMIT = 1e9  # seconds: reading a points file has no budget, in a child or here


def points(text: str) -> Points:
    """``read_points(text, "--at-file")``: in a forked child while this process imports
    torch, for a large JSON Lines text in a one-shot process; else here."""
    if len(text) < OVERLAP_BYTES or not text.lstrip().startswith("{") or not overlap.usable():
        return read_points(text, WHERE)
    pending = overlap.in_child(_plain_points, text)
    try:
        for module in ("jacli.many.batched", "jacli.analysis.prepare"):  # torch, parsing
            importlib.import_module(module)
        return from_plain(pending.result(NO_LIMIT, "reading the points"), text, WHERE)
    finally:
        pending.cancel()


def _plain_points(text: str) -> tuple:
    """In the child: the points as ``read_points`` reads them, as plain data."""
    overlap.started()
    return read_points(text, WHERE).plain()
