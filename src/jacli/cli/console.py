"""The console script: run the app, turn every outcome into a documented exit code.

Errors are converted here, once: a ``JacliError`` becomes one line on stderr (and a JSON
error object on stdout in JSON mode), click's usage errors become ours, anything else is an
internal error (a bug), never a traceback unless ``--debug``.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings

import typer

from jacli.cli.app import app
from jacli.cli.options import PARAMETERS
from jacli.errors import ExitCode, JacliError, UsageError, internal_error
from jacli.request.command import Command, not_taken, takes


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
    if not debug:  # a library's warning, printed with jacli's own source lines, says nothing
        warnings.simplefilter("ignore")  # a user can act on: the numeric stage keeps torch's
        # as notices (``analysis.numeric``)
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
    if option and name in tuple(Command) and not takes(name, option):
        return not_taken(name, option)
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
    command; the commands that run on (``batch``, many points) call ``runner.settle_gc``
    once those modules are in. Nor one at exit: the interpreter's last collection would scan
    every object still alive (0.1 s with SymPy loaded, 0.3–0.4 s with torch too, measured),
    and ``_leave`` exits without it. The watchdog is the console script's alone: it may end the
    process, which ``main`` called in-process (tests, other programs) must never do."""
    from jacli.bounds import own_alarm
    from jacli.runtime.overlap import one_shot

    gc.disable()
    own_alarm()  # the process is jacli's: budgets keep SIGALRM's handler and timer armed
    _watch(sys.argv[1:])
    with one_shot():  # one command, then exit: its numbers may come from a child process
        code = main()
    _leave(code)


def _leave(code) -> None:
    """Exit with ``code``, skipping the interpreter's finalisation (its last collection,
    and tearing down ~1600 modules: with torch loaded, 0.15 s after the last byte was written (an ``--at-file``
    run: 2.72 s to ``atexit``, 2.88 s to the end, measured)). The atexit handlers run as at
    any exit and both streams are flushed first; a reader that closed the pipe
    (``jacli ... | head``) gets what fitted, as before, and no complaint."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, or a stream already closed
            if stream is sys.stdout:
                _silence_stdout()
    os._exit(int(code or 0))


# A one-point run has at most these stages, each with its own --timeout: input parsing,
# autograd, SymPy, the exact comparison, printing. RUN_GRACE covers what no stage holds:
# importing torch and SymPy (2 s here, several times that on a loaded machine).
RUN_STAGES, RUN_GRACE = 5, 30.0


def _watch(argv: list[str]) -> None:
    """Start the watchdog: every stage is held to --timeout plus ``watchdog.GRACE`` even
    inside a long C call; a one-point run also to ``RUN_STAGES`` × --timeout + ``RUN_GRACE``
    in all (``batch`` and many-point streams run on, so only their stages are held)."""
    from jacli.bounds import DEFAULT_LIMITS, install_watchdog
    from jacli.watchdog import Watchdog

    timeout = _option_float(argv, "--timeout", DEFAULT_LIMITS.timeout)
    ats = sum(a in ("--at", "-a") or a.startswith("--at=") for a in argv)
    one_point = bool(argv) and argv[0] != "batch" and ats <= 1 and not any(
        a.startswith("--at-file") for a in argv)
    limit = RUN_STAGES * timeout + RUN_GRACE if one_point else None
    json_mode = _json_mode(argv)
    install_watchdog(Watchdog(lambda stage, s: _expire(stage, s, json_mode), run_limit=limit))


def _option_float(argv: list[str], flag: str, default: float) -> float:
    """``flag``'s number in ``argv`` (``--timeout 2`` or ``--timeout=2``); ``default`` when
    absent or not a positive number (the option parser then says what is wrong)."""
    for i, arg in enumerate(argv):
        text = argv[i + 1] if arg == flag and i + 1 < len(argv) else (
            arg.split("=", 1)[1] if arg.startswith(flag + "=") else None)
        if text is not None:
            try:
                value = float(text)
            except ValueError:
                return default
            return value if 0 < value < float("inf") else default
    return default


def _expire(stage: str, seconds: float, json_mode: bool) -> None:
    """The watchdog's end of the run: the error as every error is reported (one line and
    its hint on stderr; in JSON mode the error object on stdout), exit 3, now — from the
    watchdog's thread, while the main thread may still be inside a C call."""
    from jacli.watchdog import overrun
    from jacli.errors import LimitError

    what = overrun(stage, seconds) if stage != "run" else (
        f"the run took longer than its limit ({seconds:g} s: {RUN_STAGES} stages of --timeout "
        f"plus {RUN_GRACE:g} s); jacli stopped it")
    err = LimitError(what,
                     hint="raise the limit with --timeout, or use --symbolic never for large "
                     "systems")
    try:
        _report(err, json_mode)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(int(ExitCode.LIMIT))
