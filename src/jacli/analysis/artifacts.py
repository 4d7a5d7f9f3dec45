"""What a ``Result`` can carry beyond the maths: the autograd graph (``jacli graph``), the
standalone PyTorch script (``--emit torch``) and LaTeX of the formulas (``--format latex``).
"""

from __future__ import annotations

import functools

from typing import Any

import sympy as sp

from jacli.analysis import pack
from jacli.analysis.prepare import Setup, stage, variables_info
from jacli.request.problem import Problem
from jacli.result import Result
from jacli.result.labels import labels


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """The versions that computed a result, read from the installed metadata (no import:
    the symbolic-only path never loads torch)."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {"jacli": of("jacli"), "torch": of("torch"), "sympy": of("sympy")}


def extras(problem: Problem, setup: Setup, d, sym) -> dict:
    """Attachments asked for by the problem; ``d`` and ``sym`` come from ``assemble``."""
    extras: dict[str, Any] = {"versions": versions()}
    if setup.program.ignored:
        extras["ignored"] = list(setup.program.ignored)
    if problem.emit == "torch":
        from jacli.backends.script import emit_torch

        v = None if d.v is None else [pack.to_fraction(x) for x in d.v]
        extras["torch_script"] = emit_torch(setup.program, setup.point, v, problem.dtype)
    if problem.latex and sym is not None:
        short = getattr(sym.J, "short", None)  # the shortened J the other views show
        formulas = sym.J if short is None else short.rows
        extras["latex"] = {key: [[sp.latex(e) for e in row] for row in rows]
                           for key, rows in (("symbolic", formulas), ("exact", sym.exact.get("J")))
                           if rows is not None}
        if short is not None:
            extras["latex"]["definitions"] = [[sp.latex(n), sp.latex(f)]
                                              for n, f in short.definitions]
        if "vjp" in sym.parts:
            extras["latex"]["vjp"] = [sp.latex(e) for e in sym.exact.get("vjp", sym.parts["vjp"])]
    return extras


def graph(problem: Problem, setup: Setup) -> Result:
    """``jacli graph``: only the torch side runs; the Result carries the graph."""
    from jacli.analysis import autograd as ag  # imported before the budgeted stage, never inside it
    from jacli.backends.tensors import TorchBackend

    def build():
        B = TorchBackend(problem.dtype, problem.device)
        point = B.point(setup.point)
        return ag.autograd_graph(setup.program, B, point, setup.program.output_label)

    graph = stage(problem.limits.timeout, "numeric stage", build)
    shape = tuple(graph["shape"])
    notices = () if problem.at else ("no --at given: every variable set to 1 (a scalar)",)
    return Result(command="graph", source=setup.program.source, variables=variables_info(setup),
                  inputs=tuple(lab for n in setup.wrt for lab in labels(n, setup.shapes[n])),
                  outputs=tuple(labels(setup.program.output_label, shape)), output_shape=shape,
                  output_label=setup.program.output_label, order=setup.order,
                  point=pack.json_point(setup.point), point_text=pack.point_text(setup.point),
                  notices=notices, dtype=problem.dtype, device=problem.device,
                  extras={"graph": graph})
