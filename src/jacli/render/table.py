"""The Rich view: symbolic J, J at the point, v and vᵀJ side by side, and the agreement line.

``render(result)`` returns a renderable; it prints nothing. Every label and formula is a
``Text`` object, never markup, because labels contain brackets (``a[0,1]``) that Rich would
silently swallow as markup tags. Panels sit side by side when the terminal is wide enough
(stacked otherwise). Nothing is cut to fit: ``render/fit.py`` measures each table against the
console's width at print time and, where it does not fit, lists the entries one per line or
drops whole columns and says which.
"""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from jacli.render.fit import LIST_MAX, Fit, Grid, entry_lines, fit_grid, side_by_side, \
    table_panel, wrap_pieces
from jacli.render.format import MAX_COLS, MAX_ROWS, MAX_TERMS, elide, num, relation, \
    shape_text, vector, with_exact
from jacli.result import Result


def render(result: Result, *, explain: bool = False) -> RenderableType:
    """The whole view. ``explain`` writes out why the AD mode was chosen (one line otherwise)."""
    parts: list[RenderableType] = [header(result)]
    if result.jacobian is not None:
        parts.append(jacobian_view(result))
    if result.vjp is not None:
        parts.append(vjp_panel(result))
    if result.jvp is not None:
        parts.append(jvp_panel(result))
    if result.hessian is not None:
        parts.append(hessian_panels(result))
    if result.structure and "rank" in result.structure and result.command in ("jacobian", "check"):
        parts.append(structure_line(result.structure, result.strategy, explain))
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


def _grid(r: Result, cell, extra: list[tuple[str, str, callable]] = (), rows=None,
          entry=None) -> Grid:
    """One row per output (or ``rows``) and one column per input, elided past ``MAX_ROWS`` ×
    ``MAX_COLS``; ``extra`` per-row columns (title, style, text of row i) come first."""
    rows = r.outputs if rows is None else rows
    shown_rows = elide(len(rows), MAX_ROWS)
    shown_cols = elide(len(r.inputs), MAX_COLS)
    g = Grid(rows=[None if i is None else Text(rows[i]) for i in shown_rows],
             columns=[None if j is None else Text(r.inputs[j]) for j in shown_cols],
             cell=lambda a, b: cell(shown_rows[a], shown_cols[b]),
             extras=[(Text(title), style, lambda a, f=f: Text(f(shown_rows[a])))
                     for title, style, f in extra])
    if entry is not None:
        g.entry = entry
    return g


def symbolic_panel(r: Result) -> Fit | None:
    J = r.jacobian
    if J is None or J.symbolic is None:
        return None
    return fit_grid(_symbolic_grid(r), Text("symbolic J = ∂y/∂x (SymPy)"), _shape(r))


def _symbolic_grid(r: Result) -> Grid:
    return _grid(r, lambda i, j: Text(r.jacobian.symbolic[i][j]))


def numeric_panel(r: Result) -> Fit | None:
    J = r.jacobian
    if J is None or (J.numeric is None and J.exact is None):
        return None
    title = "J at the point (autograd)" if J.numeric else "J at the point (exact)"
    compact = _numeric_grid(r, compact=True) if J.numeric else None
    return fit_grid(_numeric_grid(r), Text(title), _shape(r), compact)


def _numeric_grid(r: Result, compact: bool = False) -> Grid:
    """J's floats (with exact forms; ``compact``: the float alone unless the exact value
    adds a rounding error or a disagreement), ``v`` and the output's value per row."""
    J = r.jacobian
    bad = _sympy_bad(r.check)
    heat = _heat(J.numeric)

    def cell(i, j):
        x = J.numeric[i][j] if J.numeric else None
        exact = J.exact[i][j] if J.exact else None
        differs = f"d{r.outputs[i]}/d{r.inputs[j]}" in bad
        return Text(_short(with_exact(x, exact, differs, r.dtype), compact),
                    style="bold red reverse" if differs else heat(x))

    extra = []
    if r.vjp is not None:
        extra.append(("v", "magenta", lambda i: with_exact(r.vjp.v[i], r.vjp.v_exact[i],
                                                           dtype=r.dtype)))
    if r.value_numeric is not None or r.value_exact is not None:
        extra.append(("value", "bold", lambda i: _short(with_exact(
            r.value_numeric[i] if r.value_numeric else None,
            r.value_exact[i] if r.value_exact else None, r.outputs[i] in bad, r.dtype),
            compact and r.value_numeric is not None)))
    return _grid(r, cell, extra)


def _short(text: str, compact: bool) -> str:
    """``text`` or, when ``compact``, its leading float (kept whole where it says ≠ or names
    a rounding error: those are the point of the cell)."""
    if not compact or "≠" in text or "rounding error" in text:
        return text
    return text.split(" ")[0]


def jacobian_view(r: Result) -> Fit:
    """Symbolic and numeric J side by side, else stacked; where a table does not fit, both
    become one list, ``dy[0]/dx1 = x2*x4*exp(x3)*cos(x1) ≈ 86.8181``."""
    panels = [p for p in (symbolic_panel(r), numeric_panel(r)) if p is not None]
    both = len(panels) == 2

    def build(console, width: int) -> RenderableType:
        if both and not _tables_fit(console, r, width):
            sym, numeric = _symbolic_grid(r), _numeric_grid(r)
            if sym.shown() <= LIST_MAX:
                lines = entry_lines(numeric, width - 4, lambda i, j: _combined(r, sym, numeric,
                                                                               i, j))
                lines.insert(0, Text("SymPy formula ≈ autograd value (no room for a table)",
                                     style="dim"))
                return Panel(Group(*lines), title=Text("J = ∂y/∂x"), subtitle=_shape(r),
                             expand=False)
        return side_by_side(panels).build(console, width)

    return Fit(build)


def _tables_fit(console, r: Result, width: int) -> bool:
    """Whether both tables fit ``width`` (the numeric one at least in its compact form)."""
    compact = _numeric_grid(r, compact=True) if r.jacobian.numeric else None
    return (table_panel(console, width, _symbolic_grid(r), Text("symbolic J")) is not None
            and table_panel(console, width, _numeric_grid(r), Text("J"), None, compact)
            is not None)


def _combined(r: Result, sym: Grid, numeric: Grid, i: int, j: int) -> Text:
    """``formula ≈ 86.8181``: ``=`` where the float is the exact value (or only the exact
    value is known), ``≠`` in red where the two sides disagree; just the formula where it is
    that number."""
    J = r.jacobian
    cell, formula = numeric.cell(i, j), sym.cell(i, j)
    if J.numeric is None or "≠" in cell.plain:
        return formula + Text(" = ") + Text(cell.plain.removeprefix("— = "), style=cell.style)
    shown = cell.plain.split(" ")[0]
    if formula.plain == shown:
        return formula.copy()
    exact = J.exact[sym_index(r, i, 0)][sym_index(r, j, 1)] if J.exact else None
    return formula + Text(f" {relation(shown, exact)} ") + Text(shown, style=cell.style)


def sym_index(r: Result, position: int, axis: int) -> int:
    """The row (axis 0) or column (axis 1) index of J shown at ``position`` of the grid."""
    n = len(r.outputs) if axis == 0 else len(r.inputs)
    return elide(n, MAX_ROWS if axis == 0 else MAX_COLS)[position]


# small → large, relative to max |J|: a cool sequential scale. Not red, which reads as an error
# (red is kept for entries where SymPy and autograd disagree).
_HEAT = ("bright_black", "blue", "cyan", "green", "bold green")


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
    head, chunks = identity_pieces(r)
    return " ".join([head, *chunks]) if chunks else ""


def identity_pieces(r: Result, floats: bool = False,
                    limit: int = MAX_COLS) -> tuple[str, list[str]]:
    """``("vᵀJ =", ["1·[2, 4]", "+ 2·[2, 24]", "= [6, 52]"])``: the identity in pieces that a
    line may break between (a vector is never split). ``floats``: autograd's numbers rounded
    for display (``vᵀJ ≈``) instead of the exact values; ``limit``: items per vector."""
    vj, J = r.vjp, r.jacobian
    rows = (not floats and J.exact) or J.symbolic
    if J.numeric and (floats or not J.exact):
        rows = [[num(x) for x in row] for row in J.numeric]
    answer = (not floats and vj.exact) or [num(x) for x in (vj.numeric or [])] or vj.symbolic
    if rows is None or answer is None:
        return "vᵀJ =", []
    terms = [f"{_factor(vj.v_exact[i])}·{vector(rows[i], limit)}" if i is not None else "…"
             for i in _terms(len(rows))]
    return "vᵀJ ≈" if floats else "vᵀJ =", [terms[0], *("+ " + t for t in terms[1:]),
                                            ("≈ " if floats else "= ") + vector(answer, limit)]


def _identity_fit(r: Result) -> Fit:
    """The identity with exact values; where a vector is wider than the line (formulas such as
    ``1/10 - tanh(6/5)**2/10`` would split it), autograd's floats, then fewer items each."""

    def build(console, width: int) -> Text:
        floats = r.vjp.numeric is not None and r.jacobian.numeric is not None
        for choice in [(False, MAX_COLS)] + [(floats, n) for n in (MAX_COLS, 6, 4, 3)]:
            head, chunks = identity_pieces(r, *choice)
            if all(cell_len(c) <= width - cell_len(head) for c in chunks):
                break
        return wrap_pieces(head, chunks, width, style="bold")

    return Fit(build)


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
        _identity_fit(r)]
    if vj.grad_repr:
        lines.append(Text(_grad_header(r.output_label, list(vj.grad_repr)), style="dim"))
        for name, text in vj.grad_repr.items():
            none = "   (PyTorch: None — not in the output's graph)" if name in vj.grad_none else ""
            lines.append(Text(_hang(f"{name}.grad = ", text) + none))
    elif vj.symbolic:
        for x, f in zip(r.inputs, vj.symbolic):
            lines.append(Text(f"(vᵀJ)[{x}] = {f}"))
    title = f"vᵀJ — what {r.output_label}.backward(v) leaves in .grad"
    return Panel(Group(*lines), title=Text(title), expand=False)


def _grad_header(output: str, names: list[str]) -> str:
    """Name ``print(x.grad)`` only when there is one variable to print, and it is that one."""
    if len(names) == 1:
        return f"after {output}.backward(v), print({names[0]}.grad) shows:"
    return f"after {output}.backward(v), each variable's .grad:"


def _hang(prefix: str, text: str) -> str:
    """``prefix`` + a multi-line repr, its continuation lines shifted right by the prefix so
    that they stay aligned under the first line (as ``print`` would align them)."""
    pad = "\n" + " " * len(prefix)
    return prefix + pad.join(text.split("\n"))


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
    chunks = []
    if grid and r.inputs:
        terms = [f"{_factor(p.vector_exact[j])}·{vector([row[j] for row in grid])}"
                 if j is not None else "…" for j in _terms(len(r.inputs))]
        chunks = [terms[0], *("+ " + t for t in terms[1:]), "= " + vector(answer)]
    else:
        chunks = [vector(answer)]
    lines = [Text(f"u = {vector(p.vector_exact)} (one number per input)", style="dim"),
             Fit(lambda console, width: wrap_pieces("J u =", chunks, width, style="bold")),
             Text("forward mode: one pass with dual numbers, no Jacobian formed", style="dim")]
    return Panel(Group(*lines), title=Text("J u — the Jacobian-vector product (jvp)"), expand=False)


def hessian_panels(r: Result) -> RenderableType:
    H = r.hessian
    panels = []
    entry = lambda a, b: Text("d²y/d") + a + Text(" d") + b  # noqa: E731
    if H.symbolic is not None:
        panels.append(fit_grid(_grid(r, lambda i, j: Text(H.symbolic[i][j]), rows=r.inputs,
                                     entry=entry), Text("symbolic Hessian ∂²y/∂xᵢ∂xⱼ")))
    if H.numeric is not None or H.exact is not None:
        def cell(i, j):
            return Text(with_exact(H.numeric[i][j] if H.numeric else None,
                                   H.exact[i][j] if H.exact else None, dtype=r.dtype))
        panels.append(fit_grid(_grid(r, cell, rows=r.inputs, entry=entry),
                               Text("Hessian at the point")))
    parts: list[RenderableType] = [side_by_side(panels)]
    if r.hvp is not None:
        answer = r.hvp.exact or [num(x) for x in (r.hvp.numeric or [])] or r.hvp.symbolic
        parts.append(Text(f"H v with v = {vector(r.hvp.vector_exact)}: {vector(answer)} "
                          "(two backward passes, H never formed)"))
    return Group(*parts)


def structure_line(s: dict, strategy: str | None = None, explain: bool = False) -> Text:
    bits = [f"J is {s['shape'][0]}×{s['shape'][1]}", f"rank {s['rank']}"
            + ("" if s["full_rank"] else " (rank-deficient)")]
    if "determinant" in s:
        bits.append(f"det {num(s['determinant'])}")
    bits.append(f"condition number {num(s['condition_number'])}")
    mode = s["mode"] if explain else mode_summary(s["shape"], strategy)
    return Text("structure: " + ", ".join(bits) + "\nmode: " + mode, style="dim")


def mode_summary(shape: list[int], strategy: str | None) -> str:
    """``reverse (2 VJPs) — auto rule; --explain for why``: the mode on one line (the full
    reasoning is ``--explain`` and the JSON's ``structure.mode``)."""
    if not strategy:
        return "none (formulas only)"
    m, n = shape
    kind, count = ("forward", f"{n} JVP{'s' * (n != 1)}") if strategy.startswith("forward") \
        else ("reverse", f"{m} VJP{'s' * (m != 1)}")
    reason = strategy.rsplit(" — ", 1)[-1] if " — " in strategy else ""
    rule = "auto rule" if reason.startswith("auto") else (reason or "chosen")
    return f"{kind} ({count}) — {rule}; --explain for why"


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
