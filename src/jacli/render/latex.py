"""LaTeX: the Jacobian (and vᵀJ) as ``bmatrix`` environments, typeset by SymPy's printer."""

from __future__ import annotations

from jacli.result import Result


def render(result: Result) -> str:
    tex = result.extras.get("latex", {})
    source = result.source.strip().splitlines() or [""]
    lines = [f"% jacli {result.command}: {source[0]}", *(f"%   {line}" for line in source[1:]),
             f"% variables: {', '.join(result.inputs)}; outputs: {', '.join(result.outputs)}"]
    if tex.get("definitions"):
        lines.append("% where (the names the formulas below use):")
        lines += [f"{name} = {formula}" for name, formula in tex["definitions"]]
    if "symbolic" in tex:
        lines.append(r"J = \frac{\partial y}{\partial x} = " + bmatrix(tex["symbolic"]))
    if "exact" in tex:
        at = ", ".join(f"{k} = {v}" for k, v in (result.point_text or {}).items())
        lines.append(f"% at {at}")
        lines.append(r"J\big|_{x_0} = " + bmatrix(tex["exact"]))
    if "vjp" in tex and result.vjp is not None:
        lines.append(r"v^\top J = " + bmatrix([tex["vjp"]]))
    if all(line.startswith("%") for line in lines):
        lines.append("% no formulas: the symbolic side was skipped (see --symbolic)")
    return "\n".join(lines)


def bmatrix(rows: list[list[str]]) -> str:
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"
