"""The other outputs: graph (tree and DOT), --emit torch (run for real), LaTeX, Markdown."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_graph_tree_names_pytorch_nodes(cli):
    r = cli("graph", "y = x + 2; z = y*y*3; z.mean()", "--at", "x=[[1,1],[1,1]]")
    assert r.code == 0
    for node in ("MeanBackward0", "MulBackward0", "AddBackward0", "AccumulateGrad"):
        assert node in r.out
    assert "x.grad (2×2)" in r.out and "(shared, shown above)" in r.out


def test_graph_json_and_dot(cli, cli_json):
    d = cli_json("graph", "x1*x2 + sin(x1)")
    root = d["graph"]["root"]
    assert root["name"] == "AddBackward0" and d["graph"]["nodes"] == 5
    assert "every variable set to 1" in d["notices"][0]
    dot = cli("graph", "x1*x2 + sin(x1)", "--format", "dot").out
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    assert "SinBackward0" in dot and "x1.grad" in dot


def test_graph_of_detached_output(cli_json):
    d = cli_json("graph", "detach(x**2)", "--at", "x=1")
    assert d["graph"]["root"] is None


EMIT_CASES = [
    ("vjp", "b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + a[0,0]; 2*b",
     ["--at", "a=[[2,4]]", "--v", "[[1,2]]"]),
    ("vjp", "y = 2*x; y.view(2,2)", ["--at", "x=[1,2,3,4]", "--v", "[[1,0.1],[0.01,0.001]]"]),
    ("grad", "y1 = x**2\nwith torch.no_grad():\n    y2 = x**3\ny1 + y2", ["--at", "x=1"]),
    ("vjp", "tanh(W @ x).sum(0), F.relu(x).T, cat([x, x**2])[1:3]",
     ["--at", "W=[[1,2],[3,-4]]", "--at", "x=[0.5,-0.25]", "--v", "1,2,3,4,5"]),
    ("grad", "mean(stack([x, pi*x**2], dim=1)) + norm(x) + prod(x, dim=0) + x.t().sum()",
     ["--at", "x=[1.5,2]"]),
]


@pytest.mark.parametrize("command, src, args", EMIT_CASES, ids=[c[1][:20] for c in EMIT_CASES])
def test_emitted_script_prints_the_same_grad(cli, cli_json, tmp_path, command, src, args):
    emitted = cli(command, src, *args, "--emit", "torch")
    assert emitted.code == 0, emitted.err
    script = emitted.out
    path = tmp_path / "emitted.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = {line.split(".grad =")[0]: json.loads(line.split("=", 1)[1])
               for line in run.stdout.splitlines()}
    expected = cli_json(command, src, *args)["vjp"]["grad"]
    assert set(printed) == set(expected)
    for name, value in expected.items():
        assert printed[name] == pytest.approx(value, rel=1e-12) if not isinstance(value, list) \
            else json.dumps(printed[name]) == json.dumps(value), name


def test_emit_needs_a_point(cli):
    r = cli("vjp", "x**2", "--v", "1", "--emit", "torch")
    assert r.code == 2 and "--emit torch needs --at" in r.err


def test_latex(cli):
    r = cli("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2", "--format", "latex")
    assert r.code == 0
    assert r"\begin{bmatrix} 2 & 2 x_{2} \\ 2 x_{1} & 6 x_{2}^{2} \end{bmatrix}" in r.out
    assert r"v^\top J = \begin{bmatrix} 6 & 52 \end{bmatrix}" in r.out


def test_markdown(cli):
    r = cli("jacobian", "x1**2/3, x1*x2", "--at", "1,2", "--format", "markdown")
    assert r.code == 0
    assert "| `y[0]` | `2*x1/3` | `0` |" in r.out
    assert "| `y[0]` | 0.666667 ≈ 2/3 | 0 |" in r.out


def test_dot_is_only_for_graphs(cli):
    r = cli("jacobian", "x", "--at", "1", "--format", "dot")
    assert r.code == 2 and "jacli graph" in r.err
