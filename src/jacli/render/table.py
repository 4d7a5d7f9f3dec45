"""The Rich view: symbolic J, J at the point, v and vᵀJ side by side, and the agreement line.

``render(result)`` returns a renderable; it prints nothing. Every label and formula is a
``Text`` object, never markup, because labels contain brackets (``a[0,1]``) that Rich would
silently swallow as markup tags. Panels sit side by side when the terminal is wide enough
(``Columns`` wraps them onto separate lines otherwise).
"""

from __future__ import annotations

import math

from rich import box
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from jacli.render.format import MAX_COLS, MAX_ROWS, MAX_TERMS, elide, num, shape_text, vector, with_exact
from jacli.result import Result


def render(result: Result) -> RenderableType:
    parts: list[RenderableType] = [header(result)]
    panels = [p for p in (symbolic_panel(result), numeric_panel(result)) if p is not None]
    if panels:
        parts.append(Columns(panels, padding=(0, 1)))
    if result.vjp is not None:
        parts.append(vjp_panel(result))
    if result.jvp is not None:
        parts.append(jvp_panel(result))
    if result.hessian is not None:
        parts.append(hessian_panels(result))
    if result.structure and "rank" in result.structure and result.command in ("jacobian", "check"):
        parts.append(structure_line(result.structure))
    parts.append(check_line(result))
    if result.check is not None and result.check.finite_differences is not None:
        parts.append(fd_line(result.check.finite_differences))
    parts.extend(Text("note: " + n, style="yellow") for n in result.notices)
    return Group(*parts)


def header(r: Result) -> Text:
    n = sum(math.prod(v.shape) for v in r.variables)
    m = len(r.outputs)
    t = Text()
    t.append(f"jacli {r.command}", style="bold")
    t.append(f" · f: R^{n} → R^{m}" + (f" (output {r.output_label} is {shape_text(r.output_shape)})"
                                      if len(r.output_shape) > 1 else ""))
    t.append(f"\nvariables ({r.order}): ")
    t.append(", ".join(f"{v.name}" + (f" ({shape_text(v.shape)})" if v.shape else "")
                       for v in r.variables), style="cyan")
    if r.point_text:
        t.append("\nat ")
        t.append(", ".join(f"{k} = {v}" for k, v in r.point_text.items()), style="cyan")
    else:
        t.append("\nno point given (--at): formulas only")
    if r.value_numeric is not None:
        t.append(f" · {r.dtype} on {r.device}")
    ignored = r.extras.get("ignored")
    if ignored:
        kinds = sorted({line.split(": ", 1)[1].split(" ")[0] for line in ignored})
        t.append(f"\npasted PyTorch: {len(ignored)} line(s) ignored ({', '.join(kinds)})",
                 style="dim")
    return t


def _grid(r: Result, cell, extra: list[tuple[str, callable]] = (), rows=None) -> Table:
    """A table with one row per output (or ``rows``) and one column per input; ``extra``
    columns first."""
    rows = r.outputs if rows is None else rows
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.add_column(Text(""), style="bold")
    for title, _ in extra:
        t.add_column(Text(title), justify="right", style="magenta")
    cols = elide(len(r.inputs), MAX_COLS)
    for j in cols:
        t.add_column(Text("…" if j is None else r.inputs[j]), justify="right")
    for i in elide(len(rows), MAX_ROWS):
        if i is None:
            t.add_row(*[Text("⋮")] * (1 + len(extra) + len(cols)))
            continue
        row = [Text(rows[i])] + [Text(f(i)) for _, f in extra]
        row += [Text("…") if j is None else cell(i, j) for j in cols]
        t.add_row(*row)
    return t


def symbolic_panel(r: Result) -> Panel | None:
    J = r.jacobian
    if J is None or J.symbolic is None:
        return None
    table = _grid(r, lambda i, j: Text(J.symbolic[i][j]))
    return Panel(table, title=Text("symbolic J = ∂y/∂x (SymPy)"), subtitle=_shape(r),
                 expand=False)


def numeric_panel(r: Result) -> Panel | None:
    J = r.jacobian
    if J is None or (J.numeric is None and J.exact is None):
        return None
    bad = _sympy_bad(r.check)
    heat = _heat(J.numeric)

    def cell(i, j):
        x = J.numeric[i][j] if J.numeric else None
        exact = J.exact[i][j] if J.exact else None
        differs = f"d{r.outputs[i]}/d{r.inputs[j]}" in bad
        return Text(with_exact(x, exact, differs),
                    style="bold red reverse" if differs else heat(x))

    extra = []
    if r.vjp is not None:
        extra.append(("v", lambda i: with_exact(r.vjp.v[i], r.vjp.v_exact[i])))
    if r.value_numeric is not None or r.value_exact is not None:
        extra.append(("value", lambda i: with_exact(
            r.value_numeric[i] if r.value_numeric else None,
            r.value_exact[i] if r.value_exact else None, r.outputs[i] in bad)))
    title = "J at the point (autograd)" if J.numeric else "J at the point (exact)"
    return Panel(_grid(r, cell, extra), title=Text(title), subtitle=_shape(r), expand=False)


_HEAT = ("blue", "cyan", "green", "yellow", "red")  # small → large, relative to max |J|


def _heat(J: list[list[float]] | None):
    """Style for a numeric cell by its magnitude relative to the largest finite |J|, on a log
    scale (one colour per decade, the top colour for the top half): structure at a glance.
    Zeros are dim; Rich drops all colour when NO_COLOR is set."""
    finite = [abs(x) for row in (J or []) for x in row if x == x and abs(x) != float("inf")]
    top = max(finite, default=0.0)

    def style(x: float | None) -> str:
        if x is None or top == 0 or x != x or abs(x) == float("inf"):
            return "" if x is None or x == x else "magenta"
        if x == 0:
            return "dim"
        ratio = abs(x) / top
        level = 4 if ratio > 0.5 else max(0, 3 + min(0, math.floor(math.log10(ratio)) + 1))
        return _HEAT[level]

    return style


def _shape(r: Result) -> Text:
    return Text(f"{len(r.outputs)}×{len(r.inputs)}", style="dim")


def identity(r: Result) -> str:
    """``vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]``: the sum behind what backward(v) computes."""
    vj, J = r.vjp, r.jacobian
    rows = J.exact or (J.numeric and [[num(x) for x in row] for row in J.numeric]) or J.symbolic
    answer = vj.exact or [num(x) for x in (vj.numeric or [])] or vj.symbolic
    if rows is None or answer is None:
        return ""
    terms = [f"{_factor(vj.v_exact[i])}·{vector(rows[i])}" if i is not None else "…"
             for i in _terms(len(rows))]
    return "vᵀJ = " + " + ".join(terms) + " = " + vector(answer)


def _terms(n: int) -> list[int | None]:
    """Which of ``n`` terms a sum shows: all up to ``MAX_TERMS``, else the first two, ``None``
    (written "…") and the last. Only those rows are read, so only those are printed."""
    return list(range(n)) if n <= MAX_TERMS else [0, 1, None, n - 1]


def _factor(text: str) -> str:
    return f"({text})" if any(c in text for c in "+-/ ") and not text.startswith("-") else text


def vjp_panel(r: Result) -> Panel:
    vj = r.vjp
    lines: list[RenderableType] = [
        Text(f"output {r.output_label} ({shape_text(r.output_shape)}), v = "
             f"{_nested(vj.v_exact, r.output_shape)} from {vj.v_source}", style="dim"),
        Text(identity(r), style="bold")]
    if vj.grad_repr:
        lines.append(Text(f"after {r.output_label}.backward(v), print(x.grad) shows:",
                          style="dim"))
        for name, text in vj.grad_repr.items():
            none = "   (PyTorch: None — not in the output's graph)" if name in vj.grad_none else ""
            lines.append(Text(f"{name}.grad = {text}{none}"))
    elif vj.symbolic:
        for x, f in zip(r.inputs, vj.symbolic):
            lines.append(Text(f"(vᵀJ)[{x}] = {f}"))
    title = f"vᵀJ — what {r.output_label}.backward(v) leaves in .grad"
    return Panel(Group(*lines), title=Text(title), expand=False)


def _sympy_bad(c) -> set[str]:
    """Entries where SymPy and autograd disagree (finite-difference disagreements excluded)."""
    if c is None:
        return set()
    fd_bad = set(c.finite_differences["disagreements"]) if c.finite_differences else set()
    return {d for d in c.disagreements if d not in fd_bad}


def _sympy_disagrees(c) -> bool:
    return bool(_sympy_bad(c))


def _nested(flat: list[str], shape: tuple[int, ...]) -> str:
    """``[[1, 2]]``: v in the output's shape, as the user would write it (elided if long)."""
    if len(flat) > MAX_COLS:
        return vector(flat)
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    return "[" + ", ".join(_nested(flat[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


def jvp_panel(r: Result) -> Panel:
    """J u = Σ uⱼ·(column j of J): forward mode's identity, the mirror of vᵀJ."""
    p, J = r.jvp, r.jacobian
    grid = None
    if J.exact or J.numeric:
        grid = J.exact or [[num(x) for x in row] for row in J.numeric]
    answer = p.exact or [num(x) for x in (p.numeric or [])] or p.symbolic or []
    line = "J u = "
    if grid and r.inputs:
        terms = [f"{_factor(p.vector_exact[j])}·{vector([row[j] for row in grid])}"
                 if j is not None else "…" for j in _terms(len(r.inputs))]
        line += " + ".join(terms) + " = "
    lines = [Text(f"u = {vector(p.vector_exact)} (one number per input)", style="dim"),
             Text(line + vector(answer), style="bold"),
             Text("forward mode: one pass with dual numbers, no Jacobian formed", style="dim")]
    return Panel(Group(*lines), title=Text("J u — the Jacobian-vector product (jvp)"), expand=False)


def hessian_panels(r: Result) -> RenderableType:
    H = r.hessian
    panels = []
    if H.symbolic is not None:
        panels.append(Panel(_grid(r, lambda i, j: Text(H.symbolic[i][j]), rows=r.inputs),
                            title=Text("symbolic Hessian ∂²y/∂xᵢ∂xⱼ"), expand=False))
    if H.numeric is not None or H.exact is not None:
        def cell(i, j):
            return Text(with_exact(H.numeric[i][j] if H.numeric else None,
                                   H.exact[i][j] if H.exact else None))
        panels.append(Panel(_grid(r, cell, rows=r.inputs), title=Text("Hessian at the point"),
                            expand=False))
    parts: list[RenderableType] = [Columns(panels, padding=(0, 1))]
    if r.hvp is not None:
        answer = r.hvp.exact or [num(x) for x in (r.hvp.numeric or [])] or r.hvp.symbolic
        parts.append(Text(f"H v with v = {vector(r.hvp.vector_exact)}: {vector(answer)} "
                          "(two backward passes, H never formed)"))
    return Group(*parts)


def structure_line(s: dict) -> Text:
    bits = [f"J is {s['shape'][0]}×{s['shape'][1]}", f"rank {s['rank']}"
            + ("" if s["full_rank"] else " (rank-deficient)")]
    if "determinant" in s:
        bits.append(f"det {num(s['determinant'])}")
    bits.append(f"condition number {num(s['condition_number'])}")
    return Text("structure: " + ", ".join(bits) + "\nmode: " + s["mode"], style="dim")


def fd_line(fd: dict) -> Text:
    if fd["agree"]:
        return Text(f"✓ finite differences agree with autograd (max |Δ| = "
                    f"{num(fd['max_abs_diff'])}; {fd['tolerance']})", style="green")
    return Text(f"✗ finite differences disagree with autograd on "
                f"{', '.join(fd['disagreements'][:4])}", style="bold red")


def check_line(r: Result) -> Text:
    c = r.check
    if c is None:
        if r.value_numeric is None:
            return Text("formulas only: give --at to evaluate and check them", style="dim")
        return Text("not checked: the symbolic side was skipped", style="yellow")
    ulps = f"; worst {num(c.max_ulps)} ulp in float32" if c.max_ulps is not None else ""
    if c.agree or (c.agree is False and c.compared and not _sympy_disagrees(c)):
        return Text(f"✓ autograd and SymPy agree on all {c.compared} entries "
                    f"(max |Δ| = {num(c.max_abs_diff)}; {c.tolerance}{ulps})", style="green")
    if c.agree is None:
        return Text("not compared: no exact value could be evaluated", style="yellow")
    return Text(f"✗ autograd and SymPy disagree on {len(c.disagreements)} of {c.compared} "
                f"entries, first {c.worst}", style="bold red")
