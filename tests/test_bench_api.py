"""bench/ and scripts/ reach jacli only through its public API and one documented hook.

The API (``jacli``: ``compute``, ``Problem``, ``Result``, ``jacobian``/``vjp``/``grad``), the CLI
entry (``jacli.cli``: ``main``), the errors (``jacli.errors``) and ``jacli.hooks``: the package
can then be restructured without breaking the benchmarks. Walks every file with ``ast``:
imports at any depth, ``importlib.import_module`` calls, and any string that is exactly a
dotted ``jacli.*`` module name (a name to be imported later).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*.py")])
ALLOWED = {"jacli", "jacli.cli", "jacli.errors", "jacli.hooks"}
MODULE_NAME = re.compile(r"jacli(\.[A-Za-z_]\w*)+")


def reached(source: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every jacli module ``source`` imports or names for importing."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if _jacli(a.name)]
        elif isinstance(node, ast.ImportFrom) and _jacli(node.module or ""):
            # ``from jacli import hooks`` is jacli.hooks; ``from jacli import compute`` is jacli
            found += [(node.lineno, f"{node.module}.{a.name}"
                       if node.module == "jacli" and a.name == "hooks" else node.module)
                      for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and MODULE_NAME.fullmatch(node.value):
            found.append((node.lineno, node.value))
    return found


def _jacli(module: str) -> bool:
    return module == "jacli" or module.startswith("jacli.")


def test_the_walk_sees_what_it_must():
    text = ("import jacli.analysis.compute\nfrom jacli.many import batched\n"
            "def f():\n    from jacli.language import parse_program\n"
            "    importlib.import_module('jacli.runtime')\n"
            "from jacli import compute, hooks\nfrom jacli.errors import JacliError\n")
    assert sorted(m for _, m in reached(text)) == sorted([
        "jacli.analysis.compute", "jacli.many", "jacli.language", "jacli.runtime",
        "jacli", "jacli.hooks", "jacli.errors"])
    assert {m for _, m in reached(text)} - ALLOWED == {
        "jacli.analysis.compute", "jacli.many", "jacli.language", "jacli.runtime"}


def test_there_are_files_to_check():
    names = {p.name for p in FILES}
    assert {"numeric.py", "many_points.py", "compile_stretch.py", "check_cuda.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_public_api_and_the_hook(path):
    beyond = [f"line {line}: {module}" for line, module in reached(path.read_text("utf-8"))
              if module not in ALLOWED]
    assert not beyond, (f"{path.relative_to(ROOT)} reaches past jacli's API: {beyond}; "
                        "use jacli.compute/Problem/Result, or add what it needs to jacli.hooks")


def test_the_hook_names_what_bench_uses():
    """Every ``hooks.X`` that bench/ and scripts/ use is in the hook's documented ``__all__``."""
    import jacli.hooks as hooks

    used = set()
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "hooks":
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "jacli.hooks":
                used |= {a.name for a in node.names}
    assert used, "bench/ uses no hook at all: then this test checks nothing"
    assert used <= set(hooks.__all__), sorted(used - set(hooks.__all__))
    for name in sorted(used):
        assert getattr(hooks, name).__doc__, f"jacli.hooks.{name} needs a docstring"


# -- the hook computes what the CLI computes ---------------------------------------------------
SQUARE = "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3"
MLP = "tanh(W2 @ tanh(W1 @ x))"
MLP_AT = ["W1=[[0.5,-1],[2,0.25],[1,1]]", "W2=[[1,0,2],[0.5,-0.5,1],[0,3,-1]]", "x=[0.3,-0.7]"]


@pytest.mark.parametrize("source, at, wrt", [(SQUARE, ["1,2,-3"], None), (MLP, MLP_AT, ["x"]),
                                             (MLP, MLP_AT, ["W1"])])
def test_numeric_core_is_the_clis_jacobian(source, at, wrt):
    import torch

    import jacli
    from jacli import hooks

    r = jacli.jacobian(source, at=at, wrt=tuple(wrt) if wrt else None, symbolic="never")
    core = hooks.numeric_core(hooks.parse(source), at, wrt)
    expected = torch.tensor(r.jacobian.numeric, dtype=torch.float64)
    assert (core.m, core.n) == tuple(expected.shape)
    assert core.tensors == (source == MLP)
    mode = core.choose("auto")[0]
    assert r.strategy.startswith("reverse mode" if mode == "rev" else "forward mode")
    for fn in [core.jacobian("auto"), core.jacobian("fwd"), core.jacobian("rev"),
               *(core.jacobian(impl=impl) for impl in hooks.IMPLS)]:
        J = fn()  # a zero-argument callable: what a benchmark times
        assert J.shape == expected.shape and torch.allclose(J, expected, rtol=1e-12, atol=1e-14)
    y = core.forward(core.point)
    assert y.reshape(-1).tolist() == pytest.approx(list(r.value_numeric), rel=1e-14)


def test_numeric_core_takes_tensors_as_they_are():
    import torch

    from jacli import hooks

    point = {"x1": torch.tensor(1.0, dtype=torch.float64),
             "x2": torch.tensor(2.0, dtype=torch.float64),
             "x3": torch.tensor(-3.0, dtype=torch.float64)}
    core = hooks.numeric_core(SQUARE, point)
    assert core.point is point and core.wrt == ["x1", "x2", "x3"]
    J = core.jacobian()()
    assert J.tolist() == [[2.0, 2.0, 1.0], [1.0, 12.0, -6.0], [2.0, 4.0, 27.0]]


@pytest.mark.parametrize("command, v", [("jacobian", None), ("vjp", "1,2,3")])
def test_batched_core_is_the_streams(command, v):
    import torch

    import jacli
    from jacli import hooks

    pts = [(1.0, 2.0, -3.0), (0.5, -1.5, 2.0), (-2.0, 0.25, 1.0)]
    X = torch.tensor(pts, dtype=torch.float64)
    core = hooks.batched_core(SQUARE, ("1,2,3",), v=v)
    assert core.variables == ("x1", "x2", "x3") and (core.v is None) == (v is None)
    cols = {n: X[:, i].contiguous() for i, n in enumerate(core.variables)}
    key = "jacobian" if command == "jacobian" else "vjp"
    expected = [getattr(jacli, command)(SQUARE, at=",".join(map(str, p)), symbolic="never",
                                        **({"v": v} if v else {})) for p in pts]
    expected = torch.tensor([getattr(r, key).numeric for r in expected], dtype=torch.float64)
    runs = [core.run(cols, command, core.v, 2)]
    if command == "jacobian":
        runs += [core.run(cols, command, None, 2, forward=f, strategy=s)
                 for f in ("direct", "vmap") for s in ("rows", "isgb")]
    for run in runs:
        chunks = run()
        assert [len(c) for c in chunks] == [2, 1]  # chunks of the size asked for
        assert torch.allclose(torch.cat(chunks), expected, rtol=1e-13, atol=1e-13)
    outs = core.outputs(*cols.values())
    assert len(outs) == 3 and torch.allclose(torch.stack(outs, 1), torch.tensor(
        [jacli.jacobian(SQUARE, at=",".join(map(str, p))).value_numeric for p in pts],
        dtype=torch.float64))
    assert hooks.chunk_size(3, 3) >= 1


def test_the_points_stream_and_batch_answer():
    import json

    import jacli
    from jacli import hooks

    text = "".join(json.dumps({"x1": a, "x2": b, "x3": 1.5}) + "\n" for a, b in ((1, 2), (3, -1)))
    problem = jacli.Problem(SQUARE, command="vjp", v="1,2,3")
    lines = "".join(block.text for block in hooks.points_lines(problem, text)).splitlines()
    rows = [json.dumps(hooks.strict(row), allow_nan=False) for row in
            hooks.points_rows(problem, text)]
    assert [json.loads(x) for x in lines] == [json.loads(x) for x in rows]
    assert len(rows) == 3 and json.loads(rows[2])["vjp"] == jacli.vjp(
        SQUARE, at="3,-1,1.5", v="1,2,3").vjp.numeric
    assert hooks.strict([float("nan"), float("inf")]) == ["NaN", "Infinity"]
    answer = hooks.batch_answer(json.dumps({"command": "grad", "expr": "x**2", "at": "3", "id": 7}))
    assert answer["id"] == 7 and answer["vjp"]["numeric"] == [6.0]
    assert "error" in hooks.batch_answer("not json")


def test_importing_the_hook_loads_no_torch():
    import subprocess
    import sys

    code = ("import sys, jacli.hooks as h; h.limits(nodes=9); "
            "print(sorted(m for m in ('sympy', 'torch', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
