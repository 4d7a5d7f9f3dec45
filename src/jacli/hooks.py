"""The one documented hook for bench/ and scripts/: jacli's numeric core, prepared, to time.

bench/ and scripts/ use the public API (``jacli.compute``, ``Problem``, ``Result``), the CLI
entry (``jacli.cli.main``), ``jacli.errors`` and this module, nothing else
(tests/test_bench_api.py checks it). What a benchmark must call *without* the rest of the
pipeline around it — J at a point under a chosen strategy, the batched core over many
points, the points stream, one ``jacli batch`` answer — is reached here, so when the package
is restructured only this file follows the moves. Every function returns the very internals
the CLI runs (closures over them, or the functions themselves): a benchmark measures
exactly the CLI's calls, no wrapper inside the timed region.

* ``limits(**changes)`` → the default ``Limits`` with some bounds changed (``Problem(limits=)``).
* ``parse(source, *, output=None, limits=<defaults>)`` → the validated program (opaque), as
  the CLI parses it; raises ``JacliError``.
* ``numeric_core(program, at, wrt=None, dtype=, device=)`` → a ``NumericCore``: ``point``
  (tensors by name), ``wrt``, ``n`` inputs, ``m`` outputs, ``tensors``, ``forward(leaves)`` →
  the output tensor, ``choose(mode, warm)`` → ``(mode, impl)`` as ``--mode`` picks them, and
  ``jacobian(mode)`` / ``jacobian(impl=)`` → a zero-argument callable returning J, an (m, n)
  tensor, exactly as the CLI's numeric stage computes it. ``impl`` is one of ``IMPLS``.
* ``batched_core(source, at, v=None, dtype=, device=)`` → a ``BatchedCore`` (``--at-file``'s
  core): ``variables`` (column order), ``v`` (the ``--v`` weights, a tensor, or None),
  ``run(columns, command, v, size, forward=None, strategy=None)`` → a zero-argument callable
  returning the chunks' results, a list of (N_chunk, m, n) J or (N_chunk, n) vᵀJ tensors, and
  ``outputs(*columns)`` → the outputs of a comma list, one tensor each, by the interpreter.
  ``chunk_size(m, n)``: the points per chunk the stream uses.
* ``points_lines(problem, text)`` / ``points_rows(problem, text)``: the ``--at-file`` stream
  on a points file's text: blocks (``.text``: strict JSON Lines) / JSON-ready dicts (header
  first); ``strict(value)``: the RFC 8259 conversion the CLI applies before ``json.dumps``.
* ``batch_answer(line)`` → the JSON-ready dict ``jacli batch`` writes for one request line.
* ``load_numeric()``: import what the numeric stage imports (torch, autograd), compute nothing.
* ``structure(J, m, n, choice)``: the CLI's summary of a numeric J (rank, det, condition).

Imports are function-local: importing this module loads no torch, SymPy or NumPy. ``parse``,
``strict`` and ``batch_answer`` are the CLI's own functions, loaded when first read: read them
before a timed region (``parse = hooks.parse``) so no import lands inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

from jacli.request.command import Command as C

__all__ = ["IMPLS", "limits", "parse", "numeric_core", "NumericCore", "batched_core",
           "BatchedCore", "chunk_size", "points_lines", "points_rows", "strict",
           "batch_answer", "load_numeric", "structure"]

# the implementations of J at a point that ``--mode`` rules choose between
IMPLS = ("af_rev", "af_fwd", "vjp_vmap", "jvp_vmap")


def __getattr__(name: str):
    # the CLI's own functions, not wrappers: benchmarks time them (strict and batch_answer
    # once per row or request, so even a wrapper's call would show)
    if name == "strict":
        from jacli.result import strict

        return strict
    if name == "parse":
        from jacli.language import parse_program

        return parse_program
    if name == "batch_answer":
        from jacli.cli.batch import answer

        return answer
    if name == "structure":
        from jacli.analysis.structure import structure

        return structure
    raise AttributeError(f"module 'jacli.hooks' has no attribute {name!r}")


def limits(**changes):
    """The default ``Limits`` with ``changes`` (e.g. ``source_chars=``, ``nodes=``) applied."""
    from jacli.bounds import DEFAULT_LIMITS

    return replace(DEFAULT_LIMITS, **changes)


def load_numeric() -> None:
    """Import the numeric stage (torch, jacli's autograd) and compute nothing: what a numeric
    run has loaded before its first J."""
    import jacli.analysis.autograd  # noqa: F401


@dataclass
class NumericCore:
    """J of one program at one point, prepared as the CLI's numeric stage prepares it.

    ``point``: the variables' tensors by name; ``wrt``: J's columns, in order; ``n``: their
    elements; ``tensors``: whether any ``wrt`` variable is a tensor (``--mode`` rules differ).
    """

    program: Any
    backend: Any
    point: dict
    wrt: list[str]
    n: int
    tensors: bool
    # forward(leaves): the output tensor for leaf tensors by name, by the interpreter (the
    # CLI's own function with program and backend bound: benchmarks time it in loops)
    forward: Callable[[dict], Any]

    @cached_property
    def m(self) -> int:
        """Output elements (one forward at the point, on first use)."""
        return int(self.forward(self.point).numel())

    def choose(self, mode: str = "auto", warm: bool | None = None) -> tuple[str, str]:
        """``(mode, impl)`` as the CLI picks them for ``--mode mode``; ``warm`` None: as this
        process is now (``torch._dynamo`` loaded or not), else as a warm/cold process."""
        from jacli.analysis.literals import literal_free
        from jacli.analysis.modes import choose_mode

        return choose_mode(self.m, self.n, mode, self.tensors, warm,
                           literals=not literal_free(self.program), lanes=self.lanes)[:2]

    @cached_property
    def lanes(self) -> bool:
        """Whether J's function runs in lanes, as the CLI's numeric stage asks."""
        from jacli.analysis.autograd import in_lanes

        return not self.tensors and in_lanes(self.program, self.backend, self.point,
                                             self.wrt) is not None

    def jacobian(self, mode: str = "auto", impl: str | None = None) -> Callable[[], Any]:
        """A zero-argument callable returning J, an (m, n) tensor: with ``impl`` (one of
        ``IMPLS``) that implementation; else the CLI's ``--mode mode``, the implementation
        picked at each call as the CLI picks it in a process in that state."""
        from jacli.analysis.autograd import jacobian
        from jacli.analysis.literals import literal_free
        from jacli.analysis.modes import choose_mode

        prog, B, point, wrt = self.program, self.backend, self.point, self.wrt
        if impl is not None:
            return lambda: jacobian(prog, B, point, wrt, impl)
        m, n, tensors, literals = self.m, self.n, self.tensors, not literal_free(prog)
        lanes = self.lanes
        return lambda: jacobian(prog, B, point, wrt, choose_mode(
            m, n, mode, tensors, literals=literals, lanes=lanes)[1])


def numeric_core(program, at, wrt=None, dtype: str = "float64",
                 device: str = "cpu") -> NumericCore:
    """The numeric core of ``program`` (from ``parse``, or source text, parsed here) at a
    point: ``at`` is the ``--at`` texts (read and bound to the variables by the CLI's own
    reader, exact values rounded once) or a dict of tensors by name, used as they are.
    ``wrt``: J's variables (default: all, in the program's order)."""
    from functools import partial

    from jacli.analysis.autograd import forward
    from jacli.backends.tensors import TorchBackend
    from jacli.language import parse_program
    from jacli.request.binding import bind
    from jacli.request.values import parse_point

    program = parse_program(program) if isinstance(program, str) else program
    B = TorchBackend(dtype, device)
    if isinstance(at, dict):
        point = at
    else:
        named, positional = parse_point(list(at))
        declared = {leaf.name: leaf.value for leaf in program.leaves if leaf.value is not None}
        point = B.point(bind(program.variables, named, positional, declared))
    wrt = list(wrt or program.variables)
    return NumericCore(program, B, point, wrt, sum(point[w].numel() for w in wrt),
                       any(point[w].dim() > 0 for w in wrt), partial(forward, program, B))


@dataclass
class BatchedCore:
    """``--at-file``'s batched core for one program, planned as the points stream plans it.

    ``variables``: the columns' names, in order; ``v``: the ``--v`` weights as a tensor
    (None without ``--v``)."""

    plan: Any
    backend: Any
    variables: tuple[str, ...]
    v: Any
    # outputs(*columns): the outputs of a statement-free comma list at the columns (in
    # ``variables`` order), one tensor each, each by the interpreter on its own sub-program;
    # a plain closure, so torch.compile can trace it
    outputs: Callable[..., tuple]

    def run(self, columns: dict, command: str, v, size: int, forward: str | None = None,
            strategy: str | None = None) -> Callable[[], list]:
        """A zero-argument callable running the core over all of ``columns`` ((N,) tensors by
        name) in chunks of ``size`` points, as the stream runs it: the list of each chunk's
        J ((N_chunk, m, n), commands jacobian/check) or vᵀJ ((N_chunk, n), vjp/grad).
        ``forward``/``strategy`` force a plan the rules choose between: ``"direct"`` or
        ``"vmap"`` on the joint output, ``"rows"`` or ``"isgb"`` for J (None: jacli's own)."""
        from jacli.many import batched as core

        p = self.plan
        if forward is not None:
            p = replace(p, outputs=None, direct=p.direct and forward == "direct")
        strategy = strategy or core.STRATEGY
        B, key = self.backend, "jacobian" if command in (C.jacobian, C.check) else "vjp"
        return lambda: [out[key] for _, out in core.chunks(p, B, columns, command, v, size,
                                                           strategy)]


def batched_core(source: str, at, v: str | None = None, dtype: str = "float64",
                 device: str = "cpu") -> BatchedCore:
    """The batched core of ``source``, its shapes from the point ``at`` (``--at`` texts) as
    the stream takes them from the first point; ``v``: the ``--v`` text."""
    from jacli.analysis.autograd import forward
    from jacli.analysis.prepare import prepare
    from jacli.request.problem import Problem
    from jacli.backends.tensors import TorchBackend
    from jacli.many.batched import plan

    setup = prepare(Problem(source, at=tuple(at), v=v))
    B = TorchBackend(dtype, device)
    p, names = plan(setup.program, setup.shapes, setup.wrt), setup.variables

    def outputs(*columns):
        return tuple(forward(sub, B, dict(zip(names, columns))) for sub in p.outputs)

    return BatchedCore(p, B, names, B.tensor(setup.v) if setup.v is not None else None,
                       outputs)


def chunk_size(m: int, n: int) -> int:
    """Points per batched call for m outputs and n inputs, as the stream picks it."""
    from jacli.many.batched import chunk_size

    return chunk_size(m, n)


def points_lines(problem, text: str):
    """The ``--at-file`` stream as the CLI writes it: read ``text`` (JSON Lines or CSV), then
    blocks whose ``.text`` is strict JSON Lines (the header line, then a chunk of rows)."""
    from jacli.many.stream import json_lines
    from jacli.request.points import read_points

    return json_lines(problem, read_points(text, "--at-file"))


def points_rows(problem, text: str):
    """The same stream as JSON-ready dicts: the header, then one per point."""
    from jacli.many.stream import evaluate_many
    from jacli.request.points import read_points

    return evaluate_many(problem, read_points(text, "--at-file"))
