"""Start-up cases: wall time of whole ``jacli`` processes against the import floor.

The floor is ``python -c "import torch, sympy, typer, rich"``: what any tool built on these
libraries pays before doing anything. Commands and the floor are timed round-robin, so a
noisy neighbour slows them alike. A second check runs ``jacli.cli.main([...])`` inside a
``python -c`` wrapper and reports which heavy modules the command left in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

FLOOR = [sys.executable, "-c", "import torch, sympy, typer, rich"]
SYMBOLIC_EXPR = "sin(x)*y, exp(x*y)"

# (label, argv after `jacli`, target as a multiple of the floor, modules that must be absent)
COMMANDS = [
    ("jacli --help", ["--help"], 0.10, ("torch", "sympy")),
    ("jacli --version", ["--version"], 0.10, ("torch", "sympy")),
    ("jacli jacobian --help", ["jacobian", "--help"], 0.10, ("torch", "sympy")),
    ("jacli vjp --help", ["vjp", "--help"], 0.10, ("torch", "sympy")),
    ("jacli grad --help", ["grad", "--help"], 0.10, ("torch", "sympy")),
    ("jacli functions --help", ["functions", "--help"], 0.10, ("torch", "sympy")),
    (f'jacli jacobian "{SYMBOLIC_EXPR}"', ["jacobian", SYMBOLIC_EXPR], 0.35, ("torch",)),
    ('jacli vjp "x1**2+2*x2, x1*x2" --at 1,2 --v 1,1',
     ["vjp", "x1**2+2*x2, x1*x2", "--at", "1,2", "--v", "1,1"], 1.10, ()),
]

_WRAPPER = """
import contextlib, io, json, sys
from jacli.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as e:
        code = e.code
heavy = ("torch", "sympy", "numpy", "rich", "torch._dynamo")
print(json.dumps({"code": code, "out_chars": len(buf.getvalue()),
                  "loaded": [m for m in heavy if m in sys.modules]}))
"""


def shown(path: str) -> str:
    """A path as the reports print it: inside the checkout, relative to it; elsewhere its
    name alone (a report names no machine's folders)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full = os.path.abspath(path)
    return os.path.relpath(full, root) if full.startswith(root + os.sep) else \
        os.path.basename(path)


def jacli_argv() -> list[str]:
    """The console script next to this interpreter (what users run), else ``-m jacli``."""
    script = os.path.join(os.path.dirname(sys.executable), "jacli")
    if os.path.exists(script):
        return [script]
    found = shutil.which("jacli")
    return [found] if found else [sys.executable, "-m", "jacli"]


def wall(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, proc.returncode


def modules_after(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, json.dumps(args)],
                          capture_output=True, text=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": proc.stderr[-400:]}


def startup_case(case: dict) -> dict:
    rounds = case.get("rounds", 5)
    base = jacli_argv()
    runs = {"floor": []}
    codes = {}
    for label, args, _, _ in COMMANDS:
        runs[label] = []
    wall(FLOOR)  # page the libraries into the OS cache before anything is counted
    wall(base + COMMANDS[-1][1])
    for r in range(rounds):
        print(f"[startup] round {r + 1}/{rounds}", file=sys.stderr, flush=True)
        runs["floor"].append(wall(FLOOR)[0])
        for label, args, _, _ in COMMANDS:
            seconds, codes[label] = wall(base + args)
            runs[label].append(seconds)
    floor = statistics.median(runs["floor"])
    rows = []
    for label, args, target, absent in COMMANDS:
        med = statistics.median(runs[label])
        mods = modules_after(args)
        loaded = mods.get("loaded", [])
        bad = [m for m in absent if m in loaded]
        rows.append({"label": label, "median": med, "min": min(runs[label]),
                     "times": runs[label], "ratio": med / floor, "target": target,
                     "exit_code": codes[label], "loaded": loaded, "must_be_absent": list(absent),
                     "modules_ok": not bad and "error" not in mods,
                     "pass": med / floor <= target and not bad and codes[label] == 0})
    return {"floor": {"median": floor, "min": min(runs["floor"]), "times": runs["floor"]},
            "jacli": " ".join(map(shown, base[:1])) + "".join(" " + a for a in base[1:]), "rounds": rounds, "rows": rows}
