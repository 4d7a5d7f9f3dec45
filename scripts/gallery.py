"""Regenerate the README gallery from real runs: ``python scripts/gallery.py``.

Each entry is run through the installed ``jacli`` at a fixed width (COLUMNS=100, no colour);
its command line, output and exit code replace the text between the gallery markers in
README.md. Nothing in the gallery is typed by hand.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- gallery -->", "<!-- /gallery -->"

ENTRIES = [
    ("The Jacobian, formulas beside numbers (seed S16)",
     ["jacobian", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2"]),
    ("What `y.backward(v)` computes, with the sum behind it (seed S17)",
     ["vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2"]),
    ("Exact arithmetic: 0.1 is 1/10 (seed S15)",
     ["vjp", "x1*x2*x3, x1+x2+x3, x1+x2*x3", "--at", "1,2,3", "--v", "0.1,0.2,0.3"]),
    ("A program with a tensor variable (seed S7)",
     ["grad", "y = x + 2; z = y*y*3; z.mean()", "--at", "x=[[1,1],[1,1]]"]),
    ("Formulas only: no point, no torch import",
     ["jacobian", "sin(x)*y, exp(x*y)"]),
    ("A disagreement, explained (exit code 1)",
     ["jacobian", "x/x", "--at", "x=0"]),
    ("A mistake, pointed at (exit code 2)",
     ["jacobian", "2x + sin(x"]),
]


def run(args: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    exe = str(Path(sys.executable).with_name("jacli"))
    out = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)
    shown = "$ jacli " + " ".join(shlex.quote(a) for a in args)
    body = (out.stdout + out.stderr).rstrip()
    return f"{shown}\n{body}\n[exit code {out.returncode}]"


def main() -> None:
    blocks = [f"**{title}**\n\n```console\n{run(args)}\n```" for title, args in ENTRIES]
    text = README.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + "\n" + "\n\n".join(blocks) + "\n" + END + tail)


if __name__ == "__main__":
    main()
