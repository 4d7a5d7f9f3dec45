"""Markdown: GitHub tables of J (formulas and values) and vᵀJ, for docs and issues."""

from __future__ import annotations

import re

from jacli.render.format import definitions, num, with_exact
from jacli.result import Result


def render(result: Result) -> str:
    r, J = result, result.jacobian
    source = r.source.strip()
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", source)), default=0))
    out = [f"**jacli {r.command}** `{source}`", ""] if "\n" not in source and "`" not in source \
        else [f"**jacli {r.command}**", "", fence + "python", source, fence, ""]  # a script
    if r.point_text:
        out += ["at " + ", ".join(f"`{k} = {v}`" for k, v in r.point_text.items()), ""]
    if J is not None and J.symbolic is not None:
        out += ["Symbolic Jacobian:", ""]
        where = definitions(J)
        if where:
            out += ["where", "", *(f"- `{name} = {formula}`" for name, formula in where), ""]
        out += [*table(r, lambda i, j: f"`{J.symbolic[i][j]}`"), ""]
    if J is not None and (J.numeric is not None or J.exact is not None):
        def cell(i, j):
            return with_exact(J.numeric[i][j] if J.numeric else None,
                              J.exact[i][j] if J.exact else None)
        out += ["Jacobian at the point:", "", *table(r, cell), ""]
    if r.vjp is not None:
        answer = r.vjp.exact or [num(x) for x in (r.vjp.numeric or [])] or r.vjp.symbolic
        out += [f"vᵀJ with v = [{', '.join(r.vjp.v_exact)}]: "
                f"[{', '.join(answer)}]", ""]
    if r.check is not None and r.check.agree is not None:
        out.append("Autograd and SymPy " + ("agree" if r.check.agree else "**disagree**") +
                   f" (max abs diff {num(r.check.max_abs_diff)}).")
    fd = r.check.finite_differences if r.check is not None else None
    if fd and fd["agree"] is not None:
        out.append("Finite differences " + ("agree" if fd["agree"] else "**disagree**") +
                   f" with autograd (max abs diff {num(fd['max_abs_diff'])}).")
    out += [f"- {n}" for n in r.notices]
    return "\n".join(out).rstrip() + "\n"


def table(r: Result, cell) -> list[str]:
    rows = ["| | " + " | ".join(f"`{x}`" for x in r.inputs) + " |",
            "|---|" + "---|" * len(r.inputs)]
    for i, o in enumerate(r.outputs):
        rows.append(f"| `{o}` | " + " | ".join(cell(i, j) for j in range(len(r.inputs))) + " |")
    return rows
