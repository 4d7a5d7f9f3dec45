"""The CLI's input and output: reading the function, writing results and streams.

Split from ``cli.py`` so that module stays the option table. Everything heavy (compute,
renderers, Rich) is imported inside the functions: ``--help`` must not pay for it.
"""

from __future__ import annotations

import gc
import math
import re
import sys
from enum import Enum

from jacli.errors import ExitCode, ShapeError, UsageError


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    dot = "dot"


# Which options each command takes: the table ``cli.py`` builds every command's options (and
# so its --help) from, and ``batch`` checks its keys against. An option not listed here is
# taken by every command that computes (jacobian … graph).
NUMERIC_J = ("jacobian", "vjp", "grad", "jvp", "hessian", "check")  # they build a numeric J
TAKES = {
    "at_file": ("jacobian", "vjp", "grad"),  # the many-points stream
    "v": ("vjp", "hessian"),  # y.backward(v); hessian: H v
    "u": ("jvp",),
    "wrt": NUMERIC_J,  # the columns of J (the graph records every leaf)
    "symbolic": NUMERIC_J,  # graph runs the torch side only
    "mode": NUMERIC_J,
    "explain": NUMERIC_J,
    "emit": ("vjp", "grad"),  # the script ends in y.backward(v): exactly these two
}
# Refusals that deserve more than "X takes no --opt": (message, hint).
WHY_NOT = {
    ("grad", "v"): ("grad takes no --v: grad is y.backward() on a scalar output, so v = 1",
                    "for a weight vector v use `jacli vjp EXPR --at POINT --v V`"),
    ("jacobian", "v"): ("jacobian takes no --v: it shows the whole J",
                        "for vᵀJ (what y.backward(v) leaves in .grad) use `jacli vjp ... --v V`"),
}
MAX_TIMEOUT = 86_400.0  # a day: larger values overflow the interval timer
_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")


def takes(command: str, option: str) -> bool:
    """Whether ``command`` takes ``option`` (a parameter name such as ``at_file``)."""
    return command in TAKES.get(option, (command,))


def not_taken(command: str, option: str) -> UsageError:
    """The one-line refusal of an option the command does not take, naming who takes it."""
    flag = "--" + option.replace("_", "-")
    if (command, option) in WHY_NOT:
        message, hint = WHY_NOT[command, option]
    else:
        users = ", ".join(TAKES.get(option, ()))
        message = f"{command} takes no {flag}"
        hint = f"{flag} is an option of {users}" if users else f"see `jacli {command} --help`"
    return UsageError(message, hint=hint, where=flag)


def check_device(name: str) -> None:
    """``--device``'s syntax, checked before torch is imported (torch checks existence)."""
    if not _DEVICE.fullmatch(name):
        raise UsageError(f"--device {name!r} is not a device jacli knows",
                         hint="use cpu, cuda or cuda:N", where="--device")


def check_timeout(seconds, where: str = "--timeout") -> float:
    """A finite, positive time budget in seconds, at most ``MAX_TIMEOUT``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0 < seconds <= MAX_TIMEOUT:
        raise UsageError(f"{where} must be a positive number of seconds, at most "
                         f"{MAX_TIMEOUT:g}", where=where)
    return float(seconds)


def read_source(expr: str | None, file: str | None) -> str:
    if expr is not None and file is not None:
        raise UsageError("give the function either as EXPR or with --file, not both")
    if file is not None:
        return read_bytes(lambda: open(file, "rb").read(400_001), f"--file {file}")
    if expr == "-":
        if sys.stdin.isatty():  # a person at a terminal: say why nothing happens
            sys.stderr.write("jacli: reading the function from stdin; end with Ctrl-D "
                             "(Ctrl-Z then Enter on Windows)\n")
            sys.stderr.flush()
        return read_bytes(lambda: sys.stdin.buffer.read(400_001), "stdin")
    if expr is None:
        raise UsageError("no function given", hint='e.g. jacli jacobian "x1**2 + 2*x2" --at 1,2')
    return expr


def read_bytes(read, where: str) -> str:
    try:
        data = read()
    except OSError as e:
        raise UsageError(f"cannot read {where}: {e.strerror or e}", where=where) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{where} is not valid UTF-8 (byte {e.start + 1})",
                         hint="save the file as UTF-8 text", where=where) from None


def emit(problem, fmt: Format, explain: bool = False) -> int:
    """Compute and print one point's result; ``explain`` asks the table renderer for the
    full reasoning of the AD-mode choice (the flag is passed only when given)."""
    from jacli.analysis.compute import compute

    result = compute(problem)
    if problem.emit == "torch":
        sys.stdout.write(result.extras["torch_script"])
        return ExitCode.OK
    if fmt is Format.dot and problem.command != "graph":
        raise UsageError("--format dot draws the autograd graph: use `jacli graph`")
    if fmt is Format.table:
        from rich.console import Console

        render = _renderer(problem.command, fmt)
        Console(highlight=False, soft_wrap=False).print(
            render(result, explain=True) if explain else render(result))
    else:
        sys.stdout.write(_renderer(problem.command, fmt)(result).rstrip("\n") + "\n")
    if result.check is not None and result.check.agree is False:
        return ExitCode.DISAGREE
    return ExitCode.OK


def precheck(problem) -> None:
    """Refuse a wrong ``--v``/``--u`` length (or jvp without --u) before torch is imported,
    where parsing alone tells the sizes: the number of inputs (jvp's u, hessian's v)
    always; vjp's output size only when every output is provably a scalar (``_scalar``).
    Otherwise ``compute`` checks after evaluating, with the same messages. Costs one more
    parse of the function and the point, so it runs only when there is something to check."""
    vector = problem.u if problem.command == "jvp" else problem.v
    if not problem.at or problem.command not in ("vjp", "jvp", "hessian") or (
            vector is None and problem.command != "jvp"):
        return
    from jacli.analysis.compute import prepare, stage, v_for
    from jacli.request.values import flatten, parse_vector, shape_of

    setup = stage(problem.limits.timeout, "input parsing", lambda: prepare(problem))
    n = sum(math.prod(setup.shapes[w]) for w in setup.wrt)
    if problem.command == "jvp" and problem.u is None:
        raise ShapeError("jvp needs --u: the direction, one number per input",
                         hint=f"e.g. --u {','.join(['1'] * min(n, 8))} ({n} inputs)", where="--u")
    if problem.command == "jvp":
        _input_vector(flatten(parse_vector(problem.u, "--u", problem.limits)), "--u", n)
    elif problem.command == "hessian" and setup.v is not None:
        _input_vector(flatten(setup.v), "--v", n)
    elif problem.command == "vjp" and setup.v is not None:
        out_shape = _output_shape(setup)
        if out_shape is not None:
            v_for("vjp", flatten(setup.v), shape_of(setup.v, "--v"), out_shape,
                  setup.program.output_label)


def _input_vector(flat: list, where: str, n: int) -> None:
    # The same refusal as the numeric stage's (assemble), given before torch is imported.
    if len(flat) != n:
        raise ShapeError(f"{where} has {len(flat)} number(s) but there are {n} inputs",
                         hint=f"{where} needs one number per input ({n})", where=where)


def _output_shape(setup) -> tuple[int, ...] | None:
    """The output's shape when parsing alone proves it: a scalar expression, or a comma list
    of scalar expressions; ``None`` when only evaluating can tell."""
    from jacli.language import ir

    program = setup.program
    if program.statements:  # names may be rebound: leave it to evaluation
        return None
    items = program.output.items if isinstance(program.output, ir.Outputs) else None
    scalars = {v for v in setup.variables if setup.shapes[v] == ()}
    if items is None:
        return () if _scalar(program.output, scalars) else None
    return (len(items),) if all(_scalar(e, scalars) for e in items) else None


def _scalar(node, scalars: set[str]) -> bool:
    """True only when ``node`` is certainly 0-d: numbers, constants, scalar variables, and
    elementwise operators and functions of those (broadcasting 0-d with 0-d gives 0-d)."""
    from jacli.backends.functions import lookup
    from jacli.language import ir

    if isinstance(node, (ir.Num, ir.Const)):
        return True
    if isinstance(node, ir.Name):
        return node.id in scalars
    if isinstance(node, ir.Op):
        return node.op != "matmul" and all(_scalar(a, scalars) for a in node.args)
    if isinstance(node, ir.Call):
        row = lookup(node.fn)
        return row is not None and row.kind in ("elementwise", "gradient") and all(
            _scalar(a, scalars) for a in node.args)
    return False


def emit_many(problem, points) -> int:
    """Many points (``--at-file``, or several ``--at`` values per variable): stream one strict
    JSON object per point, after a header object. ``points`` is a ``points.Points``."""
    from jacli.many.stream import json_lines

    if problem.command not in ("jacobian", "vjp", "grad"):
        raise UsageError(f"many points work with jacobian, vjp and grad, not {problem.command}")
    progress = _progress(len(points))
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


def settle_gc() -> None:
    """For a command that runs on: freeze what is alive now (the imported modules' objects,
    which live until exit) so no collection re-scans it, and collect the rest as usual."""
    gc.freeze()
    gc.enable()


def points_file(path: str):
    """``--at-file``'s points (``points.Points``), read as JSON Lines or CSV."""
    from jacli.request.points import read_points

    return read_points(read_bytes(lambda: open(path, "rb").read(), f"--at-file {path}"),
                       "--at-file")


def points_given(at, limits):
    """Several ``--at`` values per variable as ``points.Points``; ``None`` for one point.
    Parsed under the input-parsing budget, as one point's values are in ``compute``."""
    from jacli.request.values import parse_points

    if len(at or ()) < 2:
        return None
    from jacli.analysis.compute import stage
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
              Format.latex: "latex", Format.dot: "graph"}[fmt]
    if command == "graph" and fmt in (Format.table, Format.dot):
        graph = importlib.import_module("jacli.render.graph")
        return graph.render if fmt is Format.table else graph.render_dot
    return importlib.import_module(f"jacli.render.{module}").render
