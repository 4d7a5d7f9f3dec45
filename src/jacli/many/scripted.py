"""Many points for a script: its control flow may take another path at every point
(``while y.norm() < 1000`` runs a different number of times), so the script runs once per
point — never a vectorisation error — with each point's values replacing its leaves
(``--at`` by name). The stream has the same header and rows as a straight-line program's;
the first ``CHECKED`` points carry ``check`` (SymPy against autograd on their own replay),
the rest are numbers only (the replay's SymPy side is skipped per point).
"""

from __future__ import annotations

import json
from dataclasses import replace

from jacli.request.command import Command as C
from jacli.request.points import Points

CHECKED = 3


def script_lines(problem, points: Points):
    """Strict JSON Lines blocks (``stream.Block``): the header, then one line per point."""
    from jacli.analysis.compute import compute
    from jacli.many.stream import Block
    from jacli.request.points import at_text
    from jacli.result import strict

    key = "jacobian" if problem.command == C.jacobian else "vjp"
    paths: dict[tuple[str, ...], int] = {}
    for i in range(len(points)):
        quick = replace(problem, at=(at_text(points.exact(i)),),
                        symbolic="auto" if i < CHECKED else "never")
        r = compute(quick)
        notes = tuple(n for n in r.notices if " iterations" in n)
        paths[notes] = paths.get(notes, 0) + 1
        if i == 0:
            yield Block(json.dumps(strict(_header(problem, points, r)), allow_nan=False) + "\n",
                        0)
        row = {"index": i, "value": r.value_numeric,
               key: r.jacobian.numeric if key == "jacobian" and r.jacobian else
               (r.vjp.numeric if r.vjp else None)}
        disagree = False
        if i < CHECKED:
            row["check"] = None if r.check is None else r.check.agree
            disagree = r.check is not None and r.check.agree is False
        yield Block(json.dumps(strict(row), allow_nan=False) + "\n", i + 1, disagree)


def _header(problem, points: Points, r) -> dict:
    return {"schema": "jacli/1", "command": problem.command, "points": len(points),
            "variables": [{"name": v.name, "shape": list(v.shape)} for v in r.variables],
            "inputs": list(r.inputs), "outputs": list(r.outputs),
            "jacobian_symbolic": None,
            "strategy": "a script: run once per point, as PyTorch runs it (its loops and "
                        "branches may take another path at each point); each point's last "
                        "gradient event"}
