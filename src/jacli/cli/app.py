"""The Typer app: one command per ``Command``, each with only the options it takes.

Options → ``Problem`` (``request.problem.build``) → ``runner`` → exit code. No maths here,
and no torch or SymPy at module top: ``--help`` and ``--version`` must stay fast (torch
alone costs ~1.7 s to import).
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import replace
from typing import Annotated

import typer

from jacli import __version__
from jacli.cli import runner
from jacli.cli.options import EPILOG_LANGUAGE, OVERRIDES, PARAMETERS, Format
from jacli.errors import UsageError
from jacli.request.arrays import check_out, check_pyarrow
from jacli.request.command import takes

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
    """The command's own parameters: ``PARAMETERS`` filtered by ``request.command.TAKES``."""
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
    from jacli.cli.batch import answer_line
    from jacli.cli.requests_in import request_lines
    from jacli.analysis.modes import long_running
    from jacli.runtime.overlap import one_shot

    modules = 0
    with long_running(), one_shot(False), runner.interrupts_kept() as interrupted:
        for line in request_lines(sys.stdin):  # torch is worth importing here, once
            if line.strip():
                kept: list = []
                sys.stdout.write(answer_line(line, kept) + "\n")
                sys.stdout.flush()
                kept.clear()  # the answer's objects freed once it is sent
            if len(sys.modules) != modules:  # a request imported torch or SymPy
                modules = len(sys.modules)
                runner.settle_gc()
            interrupted.check()
        interrupted.check()


@app.command("functions", help="List every function jacli knows, grouped, with its "
             "arguments and keywords. f(x, ...) and x.f(...) are the same call.")
def functions_command() -> None:
    from jacli.language.signatures import listing

    for group, rows in listing():
        typer.echo(f"{group}:")
        for call, doc in rows:
            typer.echo(f"  {call:<34} {doc}")


@app.command("schema", help="Print the JSON Schema (draft 2020-12) of every JSON output: "
             "results, errors, batch lines and the many-points JSON Lines.",
             epilog="Example:\n\n  jacli schema > jacli.schema.json")
def schema_command() -> None:
    import json

    from jacli.result.schema import JSON_SCHEMA

    typer.echo(json.dumps(JSON_SCHEMA, indent=2, ensure_ascii=False))


# -- running -----------------------------------------------------------------------------------
def _run(command: str, o: dict) -> int:
    """Options → ``Problem`` → output; returns the exit code. Every option is checked before
    the function is read (stdin may wait) and before torch is imported."""
    fmt = Format.json if o.get("json") else Format(o["format"].value)
    _check_options(o, fmt)
    _problem(command, "", o, fmt)  # every option checked before stdin is read
    problem = _problem(command, runner.read_source(o["expr"], o["file"]), o, fmt)
    if o.get("at_file") is not None:
        if o["at"]:
            raise UsageError("give the points either with --at or with --at-file, not both")
        _check_many(o, fmt)
        points, early = runner.points_file(o["at_file"], problem)
        return runner.emit_many(problem, points, o.get("out_file"), early)
    points = runner.points_given(o["at"], problem.limits)
    if points is not None:  # several values per variable: many points
        _check_many(o, fmt)
        return runner.emit_many(replace(problem, at=()), points, o.get("out_file"))
    check_out(o.get("out_file"), many=False)
    from jacli.analysis.precheck import precheck

    precheck(problem)
    return runner.emit(problem, fmt, explain=o.get("explain", False), plot=o.get("plot"),
                       pretty=o.get("pretty", False))


def _check_options(o: dict, fmt: Format) -> None:
    """What the option types cannot say: combinations of options."""
    if o.get("emit") and fmt is not Format.table:
        raise UsageError(f"--emit torch prints a script instead of the {fmt.value} output",
                         hint="drop --format/--json, or drop --emit", where="--emit")
    if o.get("explain") and fmt is not Format.table:
        raise UsageError(f"--explain explains the table output, not {fmt.value}",
                         hint='the JSON carries the choice as "strategy"', where="--explain")
    if o.get("pretty") and fmt is not Format.table:
        raise UsageError(f"--pretty typesets the table output, not {fmt.value}",
                         hint="the JSON keeps SymPy's plain formulas", where="--pretty")
    if o.get("out_file") is not None:  # the suffix, and pyarrow for tables, before torch
        check_out(o["out_file"], many=None if o.get("at_file") or o["at"] else False)
    check_pyarrow(o.get("at_file"), "--at-file")
    check_pyarrow(o.get("out_file"), "--out-file")
    if o.get("plot") is not None:  # no matplotlib, a bad suffix: said before anything runs
        from jacli.render.plot import check_path

        check_path(o["plot"])


def _check_many(o: dict, fmt: Format) -> None:
    """Many points print JSON Lines: options that shape one point's output do not apply."""
    for flag, given in (("--emit", o.get("emit")), ("--explain", o.get("explain")),
                        ("--pretty", o.get("pretty")),
                        ("--plot", o.get("plot") is not None),
                        (f"--format {fmt.value}", fmt not in (Format.table, Format.json))):
        if given:
            raise UsageError(f"{flag} does not apply to many points (JSON Lines)", where=flag)


def _problem(command: str, source: str, o: dict, fmt: Format):
    """The checked ``Problem`` (device syntax, time budget, choices) before torch loads."""
    from jacli.request.problem import build

    value = lambda key, default=None: getattr(o.get(key), "value", o.get(key, default))  # noqa: E731
    return build(command, source, at=o["at"], v=o.get("v"), u=o.get("u"), vars=o["vars"],
                 wrt=o.get("wrt"), output=o["output"], dtype=value("dtype"),
                 device=o["device"], symbolic=value("symbolic", "auto"),
                 mode=value("mode", "auto"), emit=value("emit"), latex=fmt is Format.latex,
                 timeout=o["timeout"], seed=o.get("seed"), event=o.get("event"))
