"""The house: sub-packages along the pipeline, every import pointing down (DESIGN §1).

Walks ``src/jacli`` with ``ast`` (module-top and function-local imports alike) and checks that
a module imports only from its own layer or the layers below it, that no module grows past
the size a reader can hold, and that the language layer never loads SymPy or torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jacli"

# Top to bottom: each layer may import itself and anything after it, never before it.
LAYERS = [
    ("cli", "__init__", "__main__", "hooks", "display"),  # CLI, Python API + its display, bench
    ("render",),
    ("many",),
    ("analysis",),
    ("runtime",),
    ("backends",),
    ("language",),
    ("request",),
    ("result",),
    ("errors", "bounds", "watchdog"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_LINES = 300


MODULES = sorted(SRC.rglob("*.py"))


def _layer(module: str) -> str:
    """``jacli.analysis.compare`` → ``analysis``; ``jacli`` itself is the API (``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


_MODULE_NAMES = {_module_name(p) for p in MODULES}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``jacli.*`` module (or ``jacli`` package attribute) that ``path`` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("jacli")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jacli"):
            # ``from jacli.language import ir`` imports the module jacli.language.ir;
            # ``from jacli import __version__`` imports the package jacli itself
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append((node.lineno, sub if sub in _MODULE_NAMES else node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and str(arg.value).startswith("jacli"):
                found.append((node.lineno, arg.value))
    return found




def test_every_module_belongs_to_a_layer():
    unknown = {_layer(_module_name(p)) for p in MODULES} - set(RANK)
    assert not unknown, f"modules outside the layer table: {unknown}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    here = _layer(_module_name(path))
    if here == "__init__":
        return  # the API sits beside the CLI, at the top
    upward = [f"line {line}: {target}" for line, target in _imports(path)
              if target != "jacli" and RANK[_layer(target)] < RANK[here]
              and not (here == "cli" and _layer(target) == "__init__")]
    assert not upward, f"{path.relative_to(SRC)} imports from a higher layer: {upward}"


def test_no_cycle_between_modules():
    graph = {_module_name(p): {t for _, t in _imports(p)} for p in MODULES}
    names = set(graph)
    graph = {m: {t for t in ts if t in names and t != m} for m, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_modules_stay_small(path):
    lines = path.read_text("utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines; split it by job"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "__init__.py"],
                         ids=lambda p: str(p.relative_to(SRC)))
def test_each_package_says_what_it_owns(path):
    doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
    assert len(doc) > 40, f"{path.relative_to(SRC)} needs a docstring: what it owns, what never"


def test_no_tracker_numbers_in_code():
    import re

    hits = [f"{p.relative_to(SRC)}:{n}" for p in MODULES
            for n, line in enumerate(p.read_text("utf-8").split("\n"), 1)
            if re.search(r"\bissue\s*#?\d+|#\d{1,4}\b", line, re.I)]
    assert not hits, f"tracker numbers mean nothing in the code: {hits}"


def test_the_language_loads_neither_sympy_nor_torch():
    code = ("import sys, jacli.language as L; L.parse_program('y = sin(x)*2; y.sum()'); "
            "print(sorted(m for m in ('sympy', 'torch', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
