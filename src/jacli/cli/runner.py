"""The one runner: read the function, compute, render, write; and the many-points stream.

Everything heavy (compute, renderers, Rich) is imported inside the functions: ``--help``
must not pay for it.
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager

from jacli.cli.options import Format
from jacli.errors import ExitCode, UsageError
from jacli.request.command import Command as C

# a notebook carries its outputs (pictures, base64): read this much; the program's own size
# limit applies to the code once it is out
_MAX_BYTES = 20_000_001


def read_source(expr: str | None, file: str | None) -> str:
    """The function's text: EXPR, ``--file``, or stdin for ``-``; a notebook's code cells."""
    from jacli.request.notebook import notebook_code, without_magics

    text = _read_text(expr, file)
    return notebook_code(text) or without_magics(text)


def _read_text(expr: str | None, file: str | None) -> str:
    if expr is not None and file is not None:
        raise UsageError("give the function either as EXPR or with --file, not both")
    if file is not None:
        return read_bytes(lambda: open(file, "rb").read(_MAX_BYTES), f"--file {file}")
    if expr == "-":
        if sys.stdin.isatty():  # a person at a terminal: say why nothing happens
            sys.stderr.write("jacli: reading the function from stdin; end with Ctrl-D "
                             "(Ctrl-Z then Enter on Windows)\n")
            sys.stderr.flush()
        return read_bytes(lambda: sys.stdin.buffer.read(_MAX_BYTES), "stdin")
    if expr is None:
        raise UsageError("no function given", hint='e.g. jacli jacobian "x1**2 + 2*x2" --at 1,2')
    return expr


def read_bytes(read, where: str) -> str:
    try:
        data = read()
    except OSError as e:
        raise UsageError(f"cannot read {where}: {e.strerror or e}", where=where) from None
    try:
        return data.decode("utf-8-sig")  # a byte order mark some editors write: not text
    except UnicodeDecodeError as e:
        raise UsageError(f"{where} is not valid UTF-8 (byte {e.start + 1})",
                         hint="save the file as UTF-8 text", where=where) from None


def emit(problem, fmt: Format, explain: bool = False, plot: str | None = None,
         pretty: bool = False) -> int:
    """Compute and print one point's result; ``explain`` asks the table renderer for the
    full reasoning of the AD-mode choice (the flag is passed only when given); ``plot``, a
    picture file written after the output is printed; ``pretty``, the table's formulas in
    Unicode maths."""
    from jacli.analysis.compute import compute
    from jacli.runtime import overlap

    # while a child process computes the numbers (analysis.split), import the renderer
    overlap.meanwhile(lambda: _renderer(problem.command, fmt))
    result = compute(problem)
    if problem.emit == "torch":
        sys.stdout.write(result.extras["torch_script"])
        _plot(result, plot)
        return ExitCode.OK
    if fmt is Format.dot and problem.command != C.graph:
        raise UsageError("--format dot draws the autograd graph: use `jacli graph`")
    if plot is not None:  # refused before the output, not after it
        from jacli.render.plot import drawable

        drawable(result)
    if fmt is Format.table:
        from rich.console import Console

        render = _renderer(problem.command, fmt)
        if pretty:
            from jacli.render.pretty import prettify

            result = prettify(result)
        Console(highlight=False, soft_wrap=False).print(
            render(result, explain=True) if explain else render(result))
    else:
        sys.stdout.write(_renderer(problem.command, fmt)(result).rstrip("\n") + "\n")
    _plot(result, plot)
    if result.check is not None and result.check.all_agree is False:
        return ExitCode.DISAGREE
    return ExitCode.OK


def _plot(result, path: str | None) -> None:
    """Write the picture (``--plot``) and say where on stderr: stdout stays the data."""
    if path is None:
        return
    from jacli.render.plot import plot

    sys.stdout.flush()
    plot(result, path)
    sys.stderr.write(f"jacli: picture written to {path}\n")


def emit_many(problem, points, out_file: str | None = None, early=None) -> int:
    """Many points (``--at-file``, or several ``--at`` values per variable): stream one strict
    JSON object per point, after a header object. ``points`` is a ``points.Points``;
    ``early``: the checked points' child ``points_file`` forked, if any. ``out_file`` (.npz,
    .parquet): write the results there as arrays instead."""
    from functools import partial

    from jacli.many.stream import json_lines

    if early is not None and out_file is not None:
        early.cancel()  # the arrays' writer checks its points itself
    elif early is not None:
        json_lines = partial(json_lines, early=early)

    if problem.command not in (C.jacobian, C.vjp, C.grad):
        raise UsageError(f"many points work with jacobian, vjp and grad, not {problem.command}")
    progress = _progress(len(points))
    if _runs_as_script(problem):
        if out_file is not None:
            raise UsageError("--out-file takes a straight-line program; a script streams "
                             "JSON Lines", where="--out-file")
        from jacli.many.scripted import script_lines as json_lines  # noqa: F811 - per point
    if out_file is not None:
        return _write_arrays(problem, points, out_file, progress)
    disagree = False
    try:
        for block in json_lines(problem, points):
            sys.stdout.write(block.text)
            disagree |= block.disagree
            if block.done == 0:  # the header: torch and SymPy are in, the long part starts
                settle_gc()
            if progress:
                progress(block.done)
    finally:
        if progress:
            progress(None)
    return ExitCode.DISAGREE if disagree else ExitCode.OK


def _runs_as_script(problem) -> bool:
    """A program the straight-line language refuses and the script machine runs."""
    from jacli.language import is_program
    from jacli.language.script import is_script

    return is_script(problem.source) and not is_program(
        problem.source, output=problem.output, limits=problem.limits)


def _write_arrays(problem, points, path: str, progress) -> int:
    """``--out-file``: the arrays in ``path``; stdout stays empty, one line on stderr."""
    from jacli.many.arrays import write

    try:
        disagree = write(problem, points, path, progress)
    except OSError as e:
        raise UsageError(f"cannot write --out-file {path}: {e.strerror or e}",
                         where="--out-file") from None
    finally:
        if progress:
            progress(None)
    note = "; a checked point disagrees (see the header's checks)" if disagree else ""
    sys.stderr.write(f"jacli: wrote {len(points)} points to {path}{note}\n")
    return ExitCode.DISAGREE if disagree else ExitCode.OK


class _Interrupts:
    """Ctrl-C seen by ``interrupts_kept``; ``check()`` raises it again where it was lost."""

    def __init__(self) -> None:
        self.seen = False

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt


@contextmanager
def interrupts_kept():
    """For a command that runs on (``batch``): a Ctrl-C raised while Python runs a finalizer
    or a gc callback is printed ("Exception ignored in ...") and dropped, and the stream went
    on to end with exit 0 (seen under load). Inside, each Ctrl-C is also recorded, kept
    quiet if dropped, and ``check()`` raises it again between requests."""
    import signal

    kept = _Interrupts()

    def on_sigint(signum, frame):
        kept.seen = True
        raise KeyboardInterrupt

    def unraisable(info, default=sys.unraisablehook):
        if not (kept.seen and isinstance(info.exc_value, KeyboardInterrupt)):
            default(info)

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started to ignore it (nohup, &)
        yield kept
        return
    previous, hook = signal.signal(signal.SIGINT, on_sigint), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield kept
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = hook


def settle_gc() -> None:
    """For a command that runs on: freeze what is alive now (the imported modules' objects,
    which live until exit) so no collection re-scans it, and collect the rest as usual."""
    gc.freeze()
    gc.enable()


def points_file(path: str, problem=None):
    """``--at-file``'s points (``points.Points``), read as JSON Lines or CSV, or, by the
    suffix, from an array file (``request.arrays``: .npy .npz .parquet .arrow .feather);
    with the checked points' early child for ``problem`` (``many.reading``), or ``None``."""
    from jacli.many import reading
    from jacli.request.arrays import kind, read_arrays

    if kind(path) is not None:
        return read_arrays(path, "--at-file"), None
    return reading.points(read_bytes(lambda: open(path, "rb").read(), f"--at-file {path}"),
                          problem)


def points_given(at, limits):
    """Several ``--at`` values per variable as ``points.Points``; ``None`` for one point.
    Parsed under the input-parsing budget, as one point's values are in ``compute``."""
    from jacli.request.values import parse_points

    if len(at or ()) < 2:
        return None
    from jacli.analysis.prepare import stage
    from jacli.request.points import Points

    exact = stage(limits.timeout, "input parsing", lambda: parse_points(list(at), limits))
    return None if exact is None else Points.exactly(exact)


def _progress(total: int):
    """A Rich progress bar on stderr, only for a terminal and a long run; None otherwise.
    Rich would redirect stdout through its console by default: the JSON Lines must stay
    on stdout, untouched (a file, when stdout is redirected)."""
    if total < 20_000 or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(transient=True, console=Console(stderr=True), redirect_stdout=False,
                   redirect_stderr=False)
    task = bar.add_task("points", total=total)
    bar.start()

    def update(done):
        if done is None:
            bar.stop()
        else:
            bar.update(task, completed=done)

    return update


def _renderer(command: str, fmt: Format):
    """A renderer for the format: a ``Result`` in, a renderable or a string out."""
    import importlib

    module = {Format.table: "table", Format.json: "json", Format.markdown: "markdown",
              Format.latex: "latex", Format.dot: "graph", Format.html: "html",
              Format.svg: "svg"}[fmt]
    if command == C.graph and fmt in (Format.table, Format.dot):
        graph = importlib.import_module("jacli.render.graph")
        return graph.render if fmt is Format.table else graph.render_dot
    return importlib.import_module(f"jacli.render.{module}").render
