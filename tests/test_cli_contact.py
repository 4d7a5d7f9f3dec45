"""First contact with the command line: each command offers only its own options, refuses the
rest in one line (exit 2), checks options before torch is imported, completes in the shell,
and neither hangs nor says `error:` where a person expects help."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from jacli.errors import ExitCode

COMMANDS = ("jacobian", "vjp", "grad", "jvp", "hessian", "check", "graph")
# Who takes what, as the issue asks (written out here, not read from request.command.TAKES).
EXPECTED = {
    "--v": {"vjp", "hessian"},
    "--u": {"jvp"},
    "--emit": {"vjp", "grad"},
    "--mode": {"jacobian", "vjp", "grad", "jvp", "hessian", "check"},
    "--explain": {"jacobian", "vjp", "grad", "jvp", "hessian", "check"},
    "--symbolic": {"jacobian", "vjp", "grad", "jvp", "hessian", "check"},
    "--at-file": {"jacobian", "vjp", "grad"},
    "--at": set(COMMANDS),
    "--dtype": set(COMMANDS),
}


def _child(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


# -- 1. each command offers only the options it uses ------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_only_the_commands_own_options(cli, command):
    r = cli(command, "--help")
    assert r.code == 0 and f"Usage: jacli {command}" in r.out
    options = r.out.split("Options:")[1].split("Examples:")[0]
    for flag, users in EXPECTED.items():
        offered = any(tok.rstrip(",") == flag for tok in options.split())
        assert offered == (command in users), (command, flag)
    assert ("dot" in options) == (command == "graph")  # --format dot draws only the graph
    assert ("markdown" in options) == (command != "graph")
    assert f'jacli {command} "' in r.out  # its own examples


@pytest.mark.parametrize("argv, names", [
    (["jacobian", "x1*x2", "--at", "1,2", "--u", "1,0"], ("jacobian takes no --u", "jvp")),
    (["check", "x1*x2", "--at", "1,2", "--v", "1"], ("check takes no --v", "vjp")),
    (["jvp", "x1*x2", "--at", "1,2", "--u", "1,0", "--at-file", "p.csv"],
     ("jvp takes no --at-file", "grad")),
    (["graph", "x1*x2", "--symbolic", "never"], ("graph takes no --symbolic", "jacobian")),
    (["graph", "x1*x2", "--mode", "fwd"], ("graph takes no --mode", "jacobian")),
])
def test_an_option_the_command_ignores_is_refused_naming_who_takes_it(cli, argv, names):
    r = cli(*argv)
    assert r.code == ExitCode.BAD_INPUT, r.err
    assert r.err.startswith("error: ") and all(n in r.err for n in names), r.err
    assert len(r.err.splitlines()) <= 2 and r.out == ""


def test_every_commands_help_imports_neither_torch_nor_sympy():
    code = ("import contextlib, io, json, sys\nfrom jacli.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    codes = [main([c, '--help']) for c in {list(COMMANDS)!r}]\n"
            "print(json.dumps({'codes': codes, 'heavy': [m for m in ('torch', 'sympy') "
            "if m in sys.modules]}))")
    d = _child(code)
    assert d == {"codes": [0] * len(COMMANDS), "heavy": []}


# -- 2. grad --v, graph --emit / --format -------------------------------------------------------
@pytest.mark.parametrize("flag", ["--v", "-v"])
def test_grad_refuses_v_instead_of_replacing_it(cli, flag):
    r = cli("grad", "x1**2 + x2**2", "--at", "1,2", flag, "2")
    assert r.code == ExitCode.BAD_INPUT and r.out == ""
    assert "grad takes no --v" in r.err and "v = 1" in r.err and "jacli vjp" in r.err


def test_grad_v_refusal_is_json_in_json_mode(cli):
    r = cli("grad", "x1**2 + x2**2", "--at", "1,2", "--v", "2", "--json")
    assert r.code == ExitCode.BAD_INPUT
    err = json.loads(r.out)["error"]
    assert err["kind"] == "usage" and err["where"] == "--v" and "vjp" in err["hint"]


@pytest.mark.parametrize("extra, needle", [
    (["--emit", "torch"], "graph takes no --emit"),
    (["--format", "markdown"], "'markdown' is not one of"),
    (["--format", "latex"], "'latex' is not one of"),
    (["-F", "markdown", "--emit", "torch"], "error: "),
])
def test_graph_refuses_what_it_cannot_do_in_one_line(cli, extra, needle):
    r = cli("graph", "x1*x2", "--at", "1,2", *extra)
    assert r.code == ExitCode.BAD_INPUT, r.err
    assert needle in r.err and "internal error" not in r.err and r.out == ""


def test_graph_still_has_its_formats(cli):
    assert cli("graph", "x1*x2", "--at", "1,2", "--format", "dot").out.startswith("digraph")
    d = json.loads(cli("graph", "x1*x2", "--at", "1,2", "--format", "json").out)
    assert d["graph"]["root"]["name"] == "MulBackward0"


def test_dot_elsewhere_points_to_graph(cli):
    r = cli("vjp", "x1*x2", "--at", "1,2", "--format", "dot")
    assert r.code == ExitCode.BAD_INPUT and "jacli graph" in r.err


def test_emit_with_another_format_is_refused_not_ignored(cli):
    r = cli("vjp", "x1*x2", "--at", "1,2", "--emit", "torch", "--json")
    assert r.code == ExitCode.BAD_INPUT and "--emit" in json.loads(r.out)["error"]["message"]


def test_batch_refuses_keys_the_command_does_not_take(cli):
    lines = (b'{"command": "grad", "expr": "x1**2", "at": "1", "v": "2", "id": 1}\n'
             b'{"command": "vjp", "expr": "x1**2", "at": "1", "v": "2", "id": 2}\n'
             b'{"command": "vjp", "expr": "x1**2", "at": "1", "timeout": 1e999, "id": 3}\n')
    r = cli("batch", stdin=lines)
    grad, vjp, inf = (json.loads(line) for line in r.out.splitlines())
    assert "grad takes no --v" in grad["error"]["message"] and grad["id"] == 1
    assert vjp["vjp"]["numeric"] == [4.0]  # 2 · d(x1²)/dx1 at 1: v is used where it belongs
    assert inf["error"]["kind"] == "usage" and "timeout" in inf["error"]["message"]


# -- 3. options checked before torch ----------------------------------------------------------
BEFORE_TORCH = [
    (["jacobian", "x", "--at", "1", "--dtype", "float16"], "--dtype"),
    (["jacobian", "x", "--at", "1", "--device", "gpu"], "not a device jacli knows"),
    (["jacobian", "x", "--at", "1", "--device", "cuda:"], "not a device jacli knows"),
    (["jacobian", "x", "--at", "1", "--timeout", "0"], "--timeout"),
    (["jacobian", "x", "--at", "1", "--timeout", "inf"], "--timeout"),
    (["jacobian", "x", "--at", "1", "--timeout", "nan"], "--timeout"),
    (["jacobian", "x", "--at", "1", "--mode", "sideways"], "--mode"),
    (["vjp", "x1*x2, x1+x2", "--at", "1,2", "--v", "1,2,3"],
     "v has shape (3,) but y has shape (2,)"),
    (["vjp", "sin(x1)*x2", "--at", "1,2", "--v", "1,2"], "v has shape (2,) but y has shape ()"),
    (["jvp", "x1*x2, x1", "--at", "1,2", "--u", "1,2,3"], "--u has 3 number(s) but there are 2"),
    (["jvp", "x1*x2, x1", "--at", "1,2"], "jvp needs --u"),
    (["hessian", "sum(x**3)", "--at", "x=[1,2,3]", "--v", "1,0"],
     "--v has 2 number(s) but there are 3 inputs"),
]


def test_bad_options_are_refused_before_torch_is_imported():
    code = ("import contextlib, io, json, sys\nfrom jacli.cli import main\n"
            f"cases = {[argv for argv, _ in BEFORE_TORCH]!r}\nresults = []\n"
            "for argv in cases:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):\n"
            "        code = main(argv)\n"
            "    results.append([code, err.getvalue(), 'torch' in sys.modules])\n"
            "print(json.dumps(results))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    for (argv, needle), (code, err, torch) in zip(BEFORE_TORCH, json.loads(out.stdout)):
        assert code == ExitCode.BAD_INPUT and needle in err, (argv, err)
        assert err.startswith("error: ") and not torch, (argv, err)


@pytest.mark.parametrize("argv, needle", [
    # Not provably scalar (a tensor inside): refused by the numeric stage, same message.
    (["vjp", "x1*ones(2), x2", "--at", "1,2", "--v", "1,2"], "but y has shape (3,)"),
    (["vjp", "x*2, x", "--at", "x=[1,2]", "--v", "1,2"], "but y has shape (4,)"),
])
def test_the_early_v_check_only_refuses_what_it_can_prove(cli, argv, needle):
    r = cli(*argv)
    assert r.code == ExitCode.BAD_INPUT and needle in r.err, r.err


@pytest.mark.parametrize("argv, key, expected", [
    (["vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2"], "vjp", [6.0, 52.0]),
    (["vjp", "x*2, x", "--at", "x=[1,2]", "--v", "1,1,1,1"], "vjp", [3.0, 3.0]),
    (["jvp", "sin(x1)*x2, x1**2", "--at", "0,2", "--u", "1,0"], "jvp", [2.0, 0.0]),
])
def test_the_early_checks_let_right_lengths_through(cli_json, argv, key, expected):
    assert cli_json(*argv)[key]["numeric"] == expected


def test_float32_is_still_a_choice(cli_json):
    assert cli_json("grad", "x**2", "--at", "x=3", "--dtype", "float32")["dtype"] == "float32"


# -- 4. shell completion ------------------------------------------------------------------------
def _jacli(*args: str, env: dict | None = None, importtime: bool = False):
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "jacli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_show_and_install_completion_as_typer_documents(tmp_path):
    no_detect = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", "HOME": str(tmp_path)}
    shown = _jacli("--show-completion", "bash", env=no_detect)
    assert shown.returncode == 0, shown.stderr
    assert "_JACLI_COMPLETE=complete_bash" in shown.stdout
    installed = _jacli("--install-completion", "bash", env=no_detect)
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "jacli.sh"
    assert "_JACLI_COMPLETE" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def test_completion_offers_commands_and_only_the_commands_options_without_torch():
    r = _jacli(env={"_JACLI_COMPLETE": "complete_bash", "COMP_WORDS": "jacli gr",
                    "COMP_CWORD": "1"}, importtime=True)
    assert set(r.stdout.split()) == {"grad", "graph"}
    assert "torch" not in r.stderr and "sympy" not in r.stderr
    r = _jacli(env={"_JACLI_COMPLETE": "complete_bash", "COMP_WORDS": "jacli grad x --",
                    "COMP_CWORD": "3"})
    offered = set(r.stdout.split())
    assert "--at" in offered and "--v" not in offered and "--u" not in offered


def test_help_path_imports_neither_torch_nor_sympy():
    r = _jacli("--help", importtime=True)
    assert r.returncode == 0 and "--install-completion" in r.stdout
    imported = [line for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert imported and not [line for line in imported if "torch" in line or "sympy" in line]


# -- 5. bare jacli --------------------------------------------------------------------------------
def test_bare_jacli_prints_the_overview_without_error_prefix(cli):
    r = cli()
    # click's convention for no_args_is_help (8.2+): the help, on stderr, exit 2 (usage)
    assert r.code == ExitCode.BAD_INPUT and r.out == ""
    assert r.err.startswith("Usage: jacli") and "Commands:" in r.err
    assert "error:" not in r.err and "hint:" not in r.err


# -- 6. stdin on a terminal ---------------------------------------------------------------------
class _Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [True, False])
def test_stdin_on_a_terminal_says_it_is_reading(cli, monkeypatch, tty):
    raw = (_Terminal if tty else io.BytesIO)(b"x1**2 + x2\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw))
    r = cli("grad", "-", "--at", "1,2", "--json")
    assert r.code == 0 and json.loads(r.out)["vjp"]["numeric"] == [2.0, 1.0]
    notice = "reading the function from stdin; end with Ctrl-D"
    assert (notice in r.err) == tty
    if tty:
        assert len(r.err.splitlines()) == 1


# -- 7. --explain -------------------------------------------------------------------------------
def test_explain_asks_the_table_renderer_for_the_reasoning(cli, monkeypatch):
    import jacli.render.table as table

    calls = []

    def render(result, **kwargs):
        calls.append((result.strategy, kwargs))
        return "rendered"

    monkeypatch.setattr(table, "render", render)
    assert cli("jacobian", "x1*x2, x1", "--at", "1,2", "--explain").code == 0
    assert cli("jacobian", "x1*x2, x1", "--at", "1,2").code == 0
    (strategy, explained), (_, plain) = calls
    assert explained == {"explain": True} and plain == {}  # works with either renderer
    assert strategy  # a numeric J was built: there is a choice to explain


@pytest.mark.parametrize("argv, needle", [
    (["graph", "x1*x2", "--at", "1,2", "--explain"], "graph takes no --explain"),
    (["jacobian", "x1*x2", "--at", "1,2", "--explain", "--format", "latex"], "--explain"),
])
def test_explain_is_refused_where_there_is_nothing_to_explain(cli, argv, needle):
    r = cli(*argv)
    assert r.code == ExitCode.BAD_INPUT and needle in r.err, r.err
