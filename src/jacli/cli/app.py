"""The command line: options → ``Problem`` → ``compute`` → renderer; errors → exit codes.

No maths here, and no torch or SymPy at module top: ``--help`` and ``--version`` must stay
fast (torch alone costs ~1.7 s to import). The only place that prints and exits.
"""

from __future__ import annotations

import gc
import inspect
import os
import sys
from dataclasses import replace
from enum import Enum
from typing import Annotated, List, Optional

import typer

from jacli import __version__
from jacli.cli import runner as cli_io
from jacli.cli.runner import Format, takes
from jacli.errors import ExitCode, JacliError, UsageError, internal_error

EPILOG_LANGUAGE = (
    "Language: + - * / ** (or ^) @, sin cos tan exp log sqrt abs sigmoid relu softplus tanh …, "
    "sum mean prod dot norm, view reshape T transpose flatten, mm mv matmul, detach, "
    "x[0], x[:,0], zeros/ones/eye, statements separated by ';' or newlines. "
    "`jacli functions` lists every function."
)


class Mode(str, Enum):
    auto = "auto"
    fwd = "fwd"
    rev = "rev"


class Emit(str, Enum):
    torch = "torch"


class Dtype(str, Enum):
    float64 = "float64"
    float32 = "float32"


class GraphFormat(str, Enum):
    """graph's formats: the tree, JSON, or Graphviz DOT (it has no formulas to typeset)."""

    table = "table"
    json = "json"
    dot = "dot"


class JFormat(str, Enum):
    """The formats of the commands that show J (DOT draws only the graph)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"


class Symbolic(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


app = typer.Typer(
    name="jacli",
    help="Inspect Jacobians and vector-Jacobian products: SymPy's formulas and PyTorch "
    "autograd's numbers side by side, checked against each other.\n\n"
    "Why y.backward(v) needs v, and what it computes: x.grad = vᵀJ.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion, as Typer documents
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EPILOG_LANGUAGE,
)

# -- shared options -------------------------------------------------------------------------
ExprArg = Annotated[Optional[str], typer.Argument(
    metavar="EXPR", show_default=False,
    help="The function: 'x1**2 + 2*x2', a comma list of outputs 'f1, f2', statements "
    "'y = 2*x; y.view(2,2)', or '-' to read stdin.")]
FileOpt = Annotated[Optional[str], typer.Option(
    "--file", "-f", metavar="FILE", show_default=False, help="Read the function from FILE.")]
AtOpt = Annotated[Optional[List[str]], typer.Option(
    "--at", "-a", metavar="POINT", show_default=False,
    help="The point: '1,2' (variables in order) or 'x=[1,2]' (repeatable). Exact: 0.1 is "
    "1/10, 1/3 is allowed. Without it: formulas only.")]
AtFileOpt = Annotated[Optional[str], typer.Option(
    "--at-file", metavar="FILE", show_default=False,
    help="Many points: JSON Lines ({\"x\": [1, 2]} per line) or CSV (header of names). "
    "Batched autograd; one JSON object per line on stdout.")]
VOpt = Annotated[Optional[str], typer.Option(
    "--v", "-v", metavar="V", show_default=False,
    help="The weight vector of y.backward(v): the output's shape, e.g. '1,2' or '[[1,1]]'.")]
HvOpt = Annotated[Optional[str], typer.Option(
    "--v", "-v", metavar="V", show_default=False,
    help="The direction of the Hessian-vector product H v, one number per input, e.g. '1,0'.")]
UOpt = Annotated[Optional[str], typer.Option(
    "--u", "-u", metavar="U", show_default=False,
    help="The direction u, one number per input, e.g. '1,0'.")]
VarsOpt = Annotated[Optional[str], typer.Option(
    "--vars", metavar="NAMES", show_default=False,
    help="Variable order, comma-separated (default: natural order, x2 before x10).")]
WrtOpt = Annotated[Optional[str], typer.Option(
    "--wrt", metavar="NAMES", show_default=False,
    help="Differentiate only with respect to these variables (the columns of J).")]
OutputOpt = Annotated[Optional[str], typer.Option(
    "--output", "-o", metavar="NAME", show_default=False,
    help="Which assigned name is the output (default: the last expression).")]
DtypeOpt = Annotated[Dtype, typer.Option(
    "--dtype", help="float64, or float32 (PyTorch's own default).")]
DeviceOpt = Annotated[str, typer.Option("--device", metavar="DEVICE",
                                        help="cpu, cuda or cuda:N.")]
SymOpt = Annotated[Symbolic, typer.Option(
    "--symbolic", help="SymPy side: auto (skipped with a notice when too big), always, never.")]
ModeOpt = Annotated[Mode, typer.Option(
    "--mode", help="How autograd builds J: rev (one VJP per output), fwd (one JVP per input), "
    "auto (the cheaper; says which and why).")]
FormatOpt = Annotated[JFormat, typer.Option("--format", "-F", help="Output format.")]
GraphFormatOpt = Annotated[GraphFormat, typer.Option(
    "--format", "-F", help="Output format: the tree, JSON, or Graphviz DOT (pipe to `dot`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
EmitOpt = Annotated[Optional[Emit], typer.Option(
    "--emit", show_default=False,
    help="Print a standalone PyTorch script that recreates the computation and calls "
    "backward(v), instead of the tables.")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", metavar="SECONDS", help="Time budget per stage (autograd, SymPy).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
ExplainOpt = Annotated[bool, typer.Option(
    "--explain", help="Explain in full why autograd built J in forward or reverse mode "
    "(table output).")]

# Every parameter a command may take, in --help order: (annotation, default). Which command
# takes which is ``cli_io.TAKES``; ``_parameters`` builds each command's list from both.
PARAMETERS = {
    "expr": (ExprArg, None), "file": (FileOpt, None), "at": (AtOpt, None),
    "at_file": (AtFileOpt, None), "v": (VOpt, None), "u": (UOpt, None),
    "vars": (VarsOpt, None), "wrt": (WrtOpt, None), "output": (OutputOpt, None),
    "dtype": (DtypeOpt, Dtype.float64), "device": (DeviceOpt, "cpu"),
    "symbolic": (SymOpt, Symbolic.auto), "mode": (ModeOpt, Mode.auto),
    "format": (FormatOpt, JFormat.table), "json": (JsonOpt, False), "emit": (EmitOpt, None),
    "explain": (ExplainOpt, False), "timeout": (TimeoutOpt, 10.0), "debug": (DebugOpt, False),
}
OVERRIDES = {("graph", "format"): (GraphFormatOpt, GraphFormat.table),
             ("hessian", "v"): (HvOpt, None)}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jacli {__version__}")
        raise typer.Exit()


@app.callback(no_args_is_help=True)
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False
          ) -> None:
    """jacli: the Jacobian behind y.backward(v), shown and checked."""


def _parameters(name: str) -> list[inspect.Parameter]:
    """The command's own parameters, from ``PARAMETERS`` and the ``cli_io.TAKES`` table."""
    return [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default,
                              annotation=annotation)
            for key, (annotation, default) in
            ((k, OVERRIDES.get((name, k), PARAMETERS[k])) for k in PARAMETERS)
            if takes(name, key)]


def _command(name: str, summary: str, examples: str):
    """Register one command with only the options it takes; all of them share ``_run``."""

    def command(**options) -> None:
        raise typer.Exit(_run(name, options))

    parameters = _parameters(name)
    command.__signature__ = inspect.Signature(parameters)  # what Typer reads the options from
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = name
    app.command(name, help=summary, epilog="Examples:\n\n" + examples + "\n\n" + EPILOG_LANGUAGE
                )(command)
    return command


COMMAND_NAMES = ("jacobian", "vjp", "grad", "jvp", "hessian", "check", "graph")

_command("jacobian", "The Jacobian J = ∂y/∂x: SymPy's formulas, and at --at, autograd's numbers "
         "checked against the exact values.",
         '  jacli jacobian "x1**2+2*x2" --at 1,2\n\n'
         '  jacli jacobian "2*x1+x2**2, x1**2+2*x2**3" --at 1,2\n\n'
         '  jacli jacobian "sin(x)*y, exp(x*y)"          (formulas only: no torch)\n\n'
         '  echo "x1**2 + x2" | jacli jacobian - --at 1,2')
_command("vjp", "The vector-Jacobian product vᵀJ: exactly what y.backward(v) leaves in x.grad, "
         "with the identity vᵀJ = Σ vᵢ·(row i of J) written out.",
         '  jacli vjp "2*x1+x2**2, x1**2+2*x2**3" --at 1,2 --v 1,2\n\n'
         '  jacli vjp "a @ w" --at "a=[[2,3],[1,2]]" --at "w=[[0],[0]]" --v "[[1],[1]]"\n\n'
         '  jacli vjp "y = 2*x; y.view(2,2)" --at "x=[1,2,3,4]" --v "[[1,0.1],[0.01,0.001]]"\n\n'
         '  jacli vjp "x1*x2, x1+x2" --at 1,2 --v 1,1 --json | jq .vjp.numeric')
_command("grad", "The gradient of a scalar output: what y.backward() leaves in x.grad.",
         '  jacli grad "sum(x**2 + 2)" --at "x=[1,2,3]"\n\n'
         '  jacli grad "y = x + 2; z = y*y*3; z.mean()" --at "x=[[1,1],[1,1]]"\n\n'
         '  jacli grad "x**2 + detach(x**3)" --at x=1')


_command("jvp", "The Jacobian-vector product J u by forward mode (dual numbers), beside the "
         "symbolic J u = Σ uⱼ·(column j of J).",
         '  jacli jvp "sin(x1)*x2, x1**2" --at 1,2 --u 1,0\n\n'
         '  jacli jvp "A @ x" --at "A=[[1,2],[3,4]]" --at "x=[1,1]" --u 1,0,0,0,0,0')
_command("hessian", "The Hessian of a scalar output over all (flattened) inputs: symbolic, exact "
         "and autograd. --v gives the Hessian-vector product H v without forming H.",
         '  jacli hessian "x1**2*x2 + exp(x1)" --at 1,2\n\n'
         '  jacli hessian "sum(x**3)" --at "x=[1,2,3]" --v 1,0,0')
_command("check", "SymPy vs autograd vs central finite differences, entry by entry. Exits 1 on a "
         "disagreement beyond the stated tolerances (usable in CI scripts).",
         '  jacli check "sin(x1)*x2, x1**2" --at 1,2\n\n'
         '  jacli check "relu(x)" --at x=0          (a kink: exits 1 and says why)\n\n'
         '  jacli check "x**2" --at x=10000.1 --dtype float32   (error in float32 ulps)')


_command("graph", "The autograd graph PyTorch records: grad_fn nodes (MulBackward0, …) from the "
         "output back to the leaves. --format dot for Graphviz.",
         '  jacli graph "y = x + 2; z = y*y*3; z.mean()" --at "x=[[1,1],[1,1]]"\n\n'
         '  jacli graph "x1*x2 + sin(x1)" --format dot | dot -Tpng > graph.png')


@app.command("batch", help="Answer JSON Lines requests from stdin, one result (or error) object "
             "per line on stdout; one process, so the import cost is paid once.",
             epilog='Example:\n\n  printf \'%s\\n\' \'{"command": "vjp", "expr": "x1*x2, x1+x2", '
             '"at": "1,2", "v": "1,1"}\' | jacli batch\n\nKeys: command expr at v u vars wrt '
             'output dtype device symbolic mode timeout id.')
def batch_command() -> None:
    import json

    from jacli.cli.batch import answer
    from jacli.analysis.structure import long_running

    modules = 0
    with long_running():
        for line in sys.stdin:
            if line.strip():
                sys.stdout.write(json.dumps(answer(line), allow_nan=False) + "\n")
                sys.stdout.flush()
            if len(sys.modules) != modules:  # a request imported torch or SymPy
                modules = len(sys.modules)
                cli_io.settle_gc()


@app.command("functions", help="List every function jacli knows, with both meanings' summary.")
def functions_command() -> None:
    from jacli.backends.functions import ALIASES, ROWS

    for row in ROWS:
        aliases = sorted(a for a, n in ALIASES.items() if n == row.name)
        extra = f" (also {', '.join(aliases)})" if aliases else ""
        typer.echo(f"{row.name:<10} {row.kind:<12} {row.doc}{extra}")


# -- running -----------------------------------------------------------------------------------
def _run(command: str, o: dict) -> int:
    """Options → ``Problem`` → output; returns the exit code. Every option is checked before
    the function is read (stdin may wait) and before torch is imported."""
    fmt = Format.json if o.get("json") else Format(o["format"].value)
    _check_options(o, fmt)
    source = cli_io.read_source(o["expr"], o["file"])
    problem = _problem(command, source, o, fmt)
    if o.get("at_file") is not None:
        if o["at"]:
            raise UsageError("give the points either with --at or with --at-file, not both")
        _check_many(o, fmt)
        return cli_io.emit_many(problem, cli_io.points_file(o["at_file"]))
    points = cli_io.points_given(o["at"], problem.limits)
    if points is not None:  # several values per variable: many points
        _check_many(o, fmt)
        return cli_io.emit_many(replace(problem, at=()), points)
    cli_io.precheck(problem)
    return cli_io.emit(problem, fmt, explain=o.get("explain", False))


def _check_options(o: dict, fmt: Format) -> None:
    """What the option types cannot say: device syntax, the time budget, combinations."""
    cli_io.check_device(o["device"])
    cli_io.check_timeout(o["timeout"])
    if o.get("emit") and fmt is not Format.table:
        raise UsageError(f"--emit torch prints a script instead of the {fmt.value} output",
                         hint="drop --format/--json, or drop --emit", where="--emit")
    if o.get("explain") and fmt is not Format.table:
        raise UsageError(f"--explain explains the table output, not {fmt.value}",
                         hint='the JSON carries the choice as "strategy"', where="--explain")


def _check_many(o: dict, fmt: Format) -> None:
    """Many points print JSON Lines: options that shape one point's output do not apply."""
    for flag, given in (("--emit", o.get("emit")), ("--explain", o.get("explain")),
                        (f"--format {fmt.value}", fmt not in (Format.table, Format.json))):
        if given:
            raise UsageError(f"{flag} does not apply to many points (JSON Lines)", where=flag)


def _problem(command: str, source: str, o: dict, fmt: Format):
    from dataclasses import replace

    from jacli.analysis.compute import Problem
    from jacli.bounds import DEFAULT_LIMITS

    emit, symbolic = o.get("emit"), o.get("symbolic", Symbolic.auto)
    return Problem(source=source, command=command, at=tuple(o["at"] or ()), v=o.get("v"),
                   u=o.get("u"), vars=_names(o["vars"]), wrt=_names(o.get("wrt")),
                   output=o["output"], dtype=o["dtype"].value, device=o["device"],
                   symbolic=symbolic.value, emit=emit.value if emit else None,
                   latex=fmt is Format.latex, mode=o.get("mode", Mode.auto).value,
                   limits=replace(DEFAULT_LIMITS, timeout=o["timeout"]))


def _names(text: str | None) -> tuple[str, ...] | None:
    return tuple(n.strip() for n in text.split(",") if n.strip()) if text else None


# -- errors: converted here, once ------------------------------------------------------------
def format_error(err: JacliError) -> str:
    """``error: …`` with the source line and a caret under the column, then ``hint: …``."""
    where = f" (line {err.line}, column {err.column})" if err.line and err.column else ""
    lines = [f"error: {err.message}{where}"]
    if err.source is not None and err.line and err.column:
        text = err.source.split("\n")[err.line - 1] if err.line <= err.source.count("\n") + 1 else ""
        start = max(0, err.column - 60)
        lines.append("  " + text[start:start + 100].replace("\t", " "))
        lines.append("  " + " " * (err.column - 1 - start) + "^")
    if err.hint:
        lines.append(f"hint: {err.hint}")
    return "\n".join(lines)


def _json_mode(argv: list[str]) -> bool:
    if "--json" in argv:
        return True
    for i, arg in enumerate(argv):
        if arg in ("--format", "-F") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
        if arg == "--format=json":
            return True
    return False


def _report(err: JacliError, json_mode: bool) -> int:
    if json_mode:
        from jacli.render.json import render_error

        sys.stdout.write(render_error(err) + "\n")
    sys.stderr.write(format_error(err) + "\n")
    return int(err.exit_code)


def main(argv: list[str] | None = None) -> int:
    """The console script: run the app, map every outcome to a documented exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    json_mode = _json_mode(argv)
    debug = "--debug" in argv
    try:
        code = app(args=argv, prog_name="jacli", standalone_mode=False)
    except JacliError as e:
        code = _report(e, json_mode)
    except _click_errors("NoArgsIsHelpError") as e:  # bare `jacli`: the overview, as click
        sys.stderr.write(e.format_message() + "\n")  # does it: on stderr, exit 2 (usage)
        code = ExitCode.BAD_INPUT
    except _click_errors("UsageError") as e:
        code = _report(_usage_error(e), json_mode)
    except (KeyboardInterrupt, typer.Abort, *_click_errors("Abort")):
        code = ExitCode.INTERRUPTED  # quiet, like Typer's own Ctrl-C handling
    except BrokenPipeError:
        _silence_stdout()
        code = ExitCode.OK
    except Exception as e:  # a bug in jacli, not the user's input
        if debug:
            raise
        code = _report(internal_error(e), json_mode)
    return int(code or 0)


def _usage_error(e) -> UsageError:
    """click's parsing error as ours: an option the command does not take names who takes
    it; a wrong --format names the command that has it."""
    ctx = getattr(e, "ctx", None)
    name = getattr(getattr(ctx, "command", None), "name", "") or ""
    hint = f"see `jacli {name} --help`".replace("jacli jacli", "jacli").replace("  ", " ")
    option = _option_key(getattr(e, "option_name", None))
    if option and name in COMMAND_NAMES and not takes(name, option):
        return cli_io.not_taken(name, option)
    param = getattr(getattr(e, "param", None), "name", None)
    if param == "format" and name != "graph" and "'dot'" in e.format_message():
        hint = "--format dot draws the autograd graph: use `jacli graph ... --format dot`"
    return UsageError(e.format_message(), hint=hint)


def _option_key(flag: str | None) -> str | None:
    """``--at-file`` → ``at_file``, ``-v`` → ``v``: the ``PARAMETERS`` key, if it is one."""
    if not flag:
        return None
    key = {"-v": "v", "-u": "u"}.get(flag, flag.lstrip("-").replace("-", "_"))
    return key if key in PARAMETERS else None


def _click_errors(name: str) -> tuple[type, ...]:
    """``name`` from click and from the copy of click that newer Typer versions vendor."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


def _silence_stdout() -> None:
    """After a closed pipe (jacli ... | head), stop Python's exit-time flush from failing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    """The console script. One command, then exit: start-up builds the objects of ~1600
    modules (torch, SymPy) that live until exit, and each full collection of the cyclic GC
    re-scans all of them — 0.25 s of a 1.5 s run, measured. So no collections during a
    command; the commands that run on (``batch``, many points) call ``cli_io.settle_gc``
    once those modules are in."""
    gc.disable()
    sys.exit(main())
