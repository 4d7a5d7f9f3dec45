"""The matrix view: symbolic J and J at the point as tables, side by side or stacked, or one
list ``dy[0]/dx1 = formula ≈ 86.8181`` where a table would not fit; the heat scale.

Pure: functions take a ``Result`` and return ``Fit`` renderables (``render/fit.py``) that choose
their layout for the width they are printed at. ``grid`` also serves the Hessian panels.
"""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from jacli.render.fit import LIST_MAX, Fit, Grid, entry_lines, fit_grid, side_by_side, \
    table_panel
from jacli.render.format import MAX_COLS, MAX_ROWS, elide, relation, with_exact
from jacli.result import Result
from jacli.result.labels import derivative_text

def grid(r: Result, cell, extra: list[tuple[str, str, callable]] = (), rows=None,
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
    return fit_grid(_symbolic_grid(r), Text(f"symbolic J = {derivative(r)} (SymPy)"), _shape(r))


def _symbolic_grid(r: Result) -> Grid:
    return grid(r, lambda i, j: Text(r.jacobian.symbolic[i][j]))


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
    bad = sympy_disagreements(r.check)
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
    return grid(r, cell, extra)


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
                return Panel(Group(*lines), title=Text(f"J = {derivative(r)}"), subtitle=_shape(r),
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
    x = J.numeric[sym_index(r, i, 0)][sym_index(r, j, 1)]
    return formula + Text(f" {relation(shown, exact, x, r.dtype)} ") + Text(shown, style=cell.style)


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


def derivative(r: Result) -> str:
    """``∂f/∂(x, y)``: the output's own label over the variables J differentiates by."""
    return derivative_text(r.output_label, r.inputs)


def _shape(r: Result) -> Text:
    return Text(f"{len(r.outputs)}×{len(r.inputs)}", style="dim")


def sympy_disagreements(c) -> set[str]:
    """Entries where SymPy and autograd disagree (``Check.disagreements`` is SymPy's alone)."""
    return set() if c is None else set(c.disagreements)
