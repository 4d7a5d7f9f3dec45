"""Many points (``--at-file``): one program, N points, batched autograd, streamed results.

The points come from ``points.read_points`` (JSON Lines or CSV) or ``arrays.read_arrays``
(array files, read a chunk at a time). Every point must give every variable, and nothing
else, with the shapes of the first point.

Numerics are batched over points in chunks (``batched``); the symbolic Jacobian is derived
once. The first ``CHECKED`` points are also computed one at a time, exactly: their rows carry
``check``, true when SymPy's exact values agree with autograd there *and* the batched numbers
match the one-point ones (per-point exact arithmetic for every point would dominate).

Two views of the same stream: ``evaluate_many`` yields JSON-ready dicts (a header, then one
per point); ``json_lines`` yields the same objects already written as strict JSON text, a
chunk of lines at a time — byte for byte what ``json.dumps(strict(row))`` gives, written
from the chunk's arrays in bulk (``jsonl``); only the checked rows and rows holding a NaN or
an infinity go through ``strict`` and ``json.dumps``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Iterator

from jacli.analysis.tolerances import TOLERANCES
from jacli.errors import JacliError, ValueInputError
from jacli.many.checked import Checked, first_ats
from jacli.request.command import Command as C
from jacli.bounds import gc_paused
from jacli.request.points import Points, at_text, floats


KEYS = ("value", "jacobian", "vjp")  # a row's numeric keys, in the order rows print them


@dataclass
class Block:
    """A piece of the stream: JSON Lines text, how many points it finishes (cumulative),
    and whether a checked point in it disagreed."""

    text: str
    done: int
    disagree: bool = False


def evaluate_many(problem, points: Points) -> Iterator[dict]:
    """One JSON-ready dict per point, in order; the first is preceded by a header object."""
    run = _Run(problem, points)
    yield run.header
    for start, arrays, _ in run.chunks():
        with gc_paused():
            rows = {k: arrays[k].tolist() for k in run.keys}
        for i in range(len(rows["value"])):
            yield run.row(start, {k: rows[k][i] for k in run.keys}, i)


def json_lines(problem, points: Points, early=None) -> Iterator[Block]:
    """The stream as strict JSON Lines text: the header line, then a block per chunk. The
    first chunk is computed and written before the header, which waits for the checked
    points (computed meanwhile by a child process, where there is one: ``checked``)."""
    from jacli.result import strict

    from jacli.many.jsonl import lines as bulk_lines

    run = _Run(problem, points, early)
    for start, arrays, nonfinite in run.chunks(check=False):
        with gc_paused():
            lines = bulk_lines(start, arrays, run.keys)
            run.check_chunk(start, arrays)  # after the writing: the child had that long
            mine = range(start, start + len(lines))
            slow = nonfinite | {i - start for i in run.checks if i in mine}
            for i in slow:  # "Infinity" for inf, and the checked rows' "check"
                row = run.row(start, {k: arrays[k][i].tolist() for k in run.keys}, i)
                lines[i] = json.dumps(strict(row), allow_nan=False) + "\n"
        if start == 0:
            yield Block(json.dumps(strict(run.header), allow_nan=False) + "\n", 0)
        yield Block("".join(lines), start + len(lines),
                    any(run.checks.get(start + i) is False for i in slow))


def tensors(problem, points: Points) -> Iterator:
    """The stream as tensors (``--out-file``): the header dict, then per chunk
    ``(start, {key: tensor}, checks)``; ``checks`` maps a checked point to its verdict."""
    run = _Run(problem, points)
    yield run.header
    for start, out in run.outs():
        yield start, {k: out[k] for k in run.keys}, run.checks


class _Run:
    """One ``--at-file`` run: validated inputs, the header, the checks, the chunks.

    The first ``CHECKED`` points are computed one at a time, exactly (``checked``), in a
    one-shot process by a child (``early``, or forked here), while this process batches and
    writes the first chunk, which never needs SymPy. Errors read as in the serial order: the
    file's, then the checked points', then the batches'."""

    def __init__(self, problem, points: Points, early=None) -> None:
        """``early``: the checked points' child forked before torch (``checked``), if any."""
        self.problem, self.points = problem, len(points)
        self.checks: dict[int, bool | None] = {}
        self.checked = None
        try:
            self._setup(points, early)
        except BaseException:  # an error before the checked points: their child not needed
            if self.checked is not None:
                self.checked.cancel()
            elif early is not None:
                early.cancel()
            raise

    def _setup(self, points: Points, early) -> None:
        from jacli.analysis.precheck import output_shape
        from jacli.analysis.prepare import prepare
        from jacli.language import parse_program
        from jacli.many.batched import describe, plan

        problem = self.problem
        # the points' names first, so a stray name is reported as the file's, not --at's
        points.check_names(parse_program(problem.source, output=problem.output,
                                         limits=problem.limits).variables)
        self.setup = setup = prepare(replace(problem, at=(at_text(points.exact(0)),)))
        self.plan = plan(setup.program, {n: setup.shapes[n] for n in setup.variables},
                         setup.wrt)
        self.describe = describe(self.plan, problem.command)
        self.checked = Checked(problem, lambda: first_ats(points), early)
        self._inputs(points, output_shape(setup))

    def _inputs(self, points: Points, shape: tuple[int, ...] | None) -> None:
        """The columns, the keys, n, m (from parsing, else the checked points) and v."""
        from jacli.backends.tensors import TorchBackend

        problem, setup = self.problem, self.setup
        self.backend = B = TorchBackend(problem.dtype, problem.device)
        with gc_paused():
            self.X = {n: _column(points, n, setup.shapes[n], B) for n in setup.variables}
        self.keys = [k for k in KEYS if k == "value" or _wanted(problem.command, k)]
        self.n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)
        self.m = math.prod(shape) if shape is not None else len(self.summary["outputs"])
        self.v = None
        if problem.command in (C.vjp, C.grad):
            v = self.summary["v"]
            self.v = B.tensor(list(v) if v is not None else [1.0])

    @property
    def summary(self) -> dict:
        """The checked points (``checked.Checked.summary``), waited for the first time."""
        return self.checked.summary

    @property
    def header(self) -> dict:
        s = self.summary
        return {"schema": "jacli/1", "command": self.problem.command, "points": self.points,
                "variables": s["variables"], "inputs": s["inputs"], "outputs": s["outputs"],
                "jacobian_symbolic": s["jacobian_symbolic"], "strategy": self.describe}

    def row(self, start: int, numbers: dict, i: int) -> dict:
        """The JSON-ready object of point ``start + i``; ``numbers[key]``: its numbers."""
        row = {"index": start + i}
        for k in self.keys:
            row[k] = numbers[k]
        if start + i in self.checks:
            row["check"] = self.checks[start + i]
        return row

    def outs(self, check: bool = True) -> Iterator[tuple[int, dict]]:
        """``(start, out)``: the batched tensors of each chunk (``batched.batched``), the
        checked points among them checked (``self.checks``) unless ``check`` is false."""
        from jacli.many.batched import chunk_size, chunks

        size = chunk_size(self.m, self.n)
        try:
            for start, out in chunks(self.plan, self.backend, self.X, self.problem.command,
                                     self.v, size):
                if check:
                    self.check_chunk(start, out)
                yield start, out
        except JacliError:
            self.summary  # noqa: B018 - a checked point's error first, as in the serial order
            raise

    def chunks(self, check: bool = True) -> Iterator[tuple[int, dict, set[int]]]:
        """``(start, arrays, nonfinite)``: arrays[key] is the chunk's (N, ...) float NumPy
        array; ``nonfinite`` the in-chunk indices of points with a NaN or an infinity."""
        import numpy as np

        for start, out in self.outs(check):
            arrays = {k: out[k].detach().cpu().numpy() for k in self.keys}
            N = len(arrays["value"])
            finite = np.ones(N, dtype=bool)
            for a in arrays.values():  # NumPy's one thread: no wake-up of torch's pool
                finite &= np.isfinite(a.reshape(N, -1)).all(1)
            yield start, arrays, set(np.flatnonzero(~finite).tolist())

    def check_chunk(self, start: int, out: dict) -> None:
        """Check the checked points among the chunk ``out`` (tensors or arrays) that starts
        at point ``start`` (``self.checks``)."""
        for i in range(start, min(start + len(out["value"]), len(self.summary["points"]))):
            self.checks[i] = self._check(i, out, start)

    def _check(self, i: int, out: dict, start: int) -> bool | None:
        """SymPy vs autograd at point i, and the batched row (``out[key][i - start]``, a
        tensor or an array) vs the one-point numbers."""
        import torch

        one = self.summary["points"][i]
        if one is None:
            return None
        rtol, atol = TOLERANCES[self.problem.dtype]
        same = True
        for key in ("value", "jacobian", "vjp"):
            if key in self.keys and one[key] is not None:
                mine = torch.as_tensor(out[key][i - start]).cpu().double()
                theirs = torch.tensor(one[key], dtype=torch.float64).reshape(mine.shape)
                same &= torch.allclose(mine, theirs, rtol=rtol, atol=atol, equal_nan=True)
        return bool(one["agree"] and same)


def _wanted(command: str, key: str) -> bool:
    return key == ("jacobian" if command in (C.jacobian, C.check) else "vjp")


def _column(points: Points, name: str, shape: tuple[int, ...], backend):
    """(N, *shape) tensor of ``name``'s values at every point, validated: every number
    finite, as ``--at`` wants it, and rounded as the exact reading rounds it."""
    import torch

    if hasattr(points, "read"):  # an array file: read and converted a chunk at a time
        from jacli.many.sliced import Sliced

        return Sliced(points, name, shape, backend)
    values = points.column(name, shape)
    try:
        X = torch.tensor(values, dtype=torch.float64)
    except (OverflowError, RuntimeError):  # an integer beyond int64: round it in Python
        X = torch.tensor(floats(values), dtype=torch.float64)
    flat = X.reshape(len(values), -1)
    bad = (~flat.isfinite()).any(1).nonzero()
    if len(bad):
        raise ValueInputError(f"point {int(bad[0]) + 1}: {name} is outside float64's range "
                              "(about 1.8e308)", where="--at-file")
    # a float parse reads "-0.0" as -0.0, the exact reading as 0 (and "-1e-400" as -0.0):
    # the few negative zeros are read again, exactly
    for i in ((flat == 0) & flat.signbit()).any(1).nonzero().flatten().tolist():
        X[i] = torch.tensor(floats(points.exact(i)[name]), dtype=torch.float64)
    return X.to(dtype=backend.dtype, device=backend.device)
