"""Regenerate the README gallery from real runs: ``python scripts/gallery.py``.

Each entry is run through the installed ``jacli`` at a fixed width (COLUMNS=80, a terminal's
default; no colour); its command line, output and exit code replace the text between the
gallery markers in README.md. Nothing in the gallery is typed by hand.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
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
    ("An option the command does not take, refused before torch loads (exit code 2)",
     ["grad", "x1**2 + x2**2", "--at", "1,2", "--v", "2"]),
    ("float32, as PyTorch computes by default: ≈ and the rounding error, never a false =",
     ["check", "x**2", "--at", "x=10000.1", "--dtype", "float32"]),
    ("A wider J at 80 columns: whole columns elided (…), never a number cut",
     ["jacobian", "W @ x", "--at", "W=[[0.5,-1,2,0.25],[1,0,-0.5,3]]",
      "--at", "x=[0.1,-0.2,0.3,-0.4]"]),
    ("Forward mode: J u", ["jvp", "sin(x1)*x2, x1**2", "--at", "1,2", "--u", "1,0"]),
    ("The Hessian, and H v without forming H",
     ["hessian", "x1**2*x2 + exp(x1)", "--at", "1,2", "--v", "1,1"]),
    ("Three opinions: SymPy, autograd, finite differences (a kink: exit code 1)",
     ["check", "relu(x) + x**2", "--at", "x=0"]),
    ("The graph PyTorch records (seed S7)",
     ["graph", "y = x + 2; z = y*y*3; z.mean()", "--at", "x=[[1,1],[1,1]]"]),
    ("LaTeX for a paper", ["jacobian", "2*x1+x2**2, x1**2+2*x2**3", "--format", "latex"]),
    ("Many points, streamed (`points.jsonl` holds `{\"x1\": 1, \"x2\": 2}` and "
     "`{\"x1\": 0.5, \"x2\": -1}`)",
     ["vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at-file", "{points}", "--v", "1,2"]),
]

PASTE = ["vjp", "-"]  # stdin: tests/snippets/s4_seed000.py
# scripts with several gradient events: (title, the file under docs/examples/ on stdin)
SCRIPTS = [
    ("Gradients accumulate (seed S8): the second backward adds 1 to every entry",
     "accumulate.py"),
    ("A second backward through a freed graph: PyTorch's error, on its line", "retain_graph.py"),
    ("A second derivative with torch.autograd.grad(create_graph=True)",
     "second_derivative.py"),
    ("Training steps: nn.Linear, MSELoss and SGD, weights drawn as PyTorch draws them",
     "training_step.py"),
]


def run(args: list[str], stdin: str | None = None, shown_stdin: str = "") -> str:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    exe = str(Path(sys.executable).with_name("jacli"))
    with tempfile.TemporaryDirectory() as tmp:
        points = Path(tmp) / "points.jsonl"
        points.write_text('{"x1": 1, "x2": 2}\n{"x1": 0.5, "x2": -1}\n')
        real = [a.replace("{points}", str(points)) for a in args]
        out = subprocess.run([exe, *real], capture_output=True, text=True, env=env, timeout=120,
                             input=stdin)
    shown = "$ jacli " + " ".join(shlex.quote(a.replace("{points}", "points.jsonl"))
                                  for a in args) + shown_stdin
    body = (out.stdout + out.stderr).rstrip()
    return f"{shown}\n{body}\n[exit code {out.returncode}]"


def main() -> None:
    blocks = [f"**{title}**\n\n```console\n{run(args)}\n```" for title, args in ENTRIES]
    text = replace_between(README.read_text(), START, END, "\n\n".join(blocks))
    snippet = (README.parent / "tests" / "snippets" / "s4_seed000.py").read_text()
    paste = (f"```console\n$ cat snippet.py\n{snippet.rstrip()}\n\n"
             f"{run(PASTE, snippet, ' < snippet.py')}\n```")
    text = replace_between(text, "<!-- paste -->", "<!-- /paste -->", paste)
    examples = README.parent / "docs" / "examples"
    scripts = []
    for title, name in SCRIPTS:
        code = (examples / name).read_text()
        scripts.append(f"**{title}**\n\n```console\n$ cat {name}\n{code.rstrip()}\n\n"
                       f"{run(PASTE, code, f' < {name}')}\n```")
    README.write_text(replace_between(text, "<!-- scripts -->", "<!-- /scripts -->",
                                      "\n\n".join(scripts)))


def replace_between(text: str, start: str, end: str, body: str) -> str:
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + "\n" + body + "\n" + end + tail


if __name__ == "__main__":
    main()
