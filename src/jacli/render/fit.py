"""Width-aware layout: tables and sums that never cut a number or formula.

Rich shrinks a table that is too wide by folding or ellipsising its cells ("13…" for
135.211), which makes numbers unreadable and headers such as ``a[0,1]`` indistinguishable.
So the decision is made here, at print time, against the console's real width: a table is
shown only at its natural width; otherwise the same entries become a per-entry list, or whole
columns are dropped and named. Everything stays pure: ``Fit`` is a renderable whose
``build(console, width)`` returns what to draw; nothing is printed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

LIST_MAX = 40  # entries past which a too-wide table drops columns instead of becoming a list
_HUGE = 100_000  # a width no table reaches: measures a renderable's natural width


COMPACT_NOTE = Text("exact forms: --json or a wider terminal", style="dim")


class Fit:
    """A renderable chosen at print time for the width it gets: ``build(console, width)``."""

    def __init__(self, build: Callable[[Console, int], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions):
        yield self.build(console, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.build(console, options.max_width))


def natural_width(console: Console, renderable: RenderableType) -> int:
    """Cells ``renderable`` takes when nothing limits it (tables unshrunk, lines unwrapped)."""
    options = console.options.update_width(_HUGE)
    return Measurement.get(console, options, renderable).maximum


@dataclass
class Grid:
    """A matrix as data: row labels, optional per-row columns (``v``, ``value``) and the
    matrix columns. A header or row label of ``None`` marks an elision ("…" / "⋮")."""

    rows: list[Text | None]
    columns: list[Text | None]
    cell: Callable[[int, int], Text]  # (row position, column position) -> the cell
    extras: list[tuple[Text, str, Callable[[int], Text]]] = field(default_factory=list)
    entry: Callable[[Text, Text], Text] = lambda row, col: Text("d") + row + Text("/d") + col

    def shown(self) -> int:
        return sum(r is not None for r in self.rows) * sum(c is not None for c in self.columns)


def table(g: Grid, keep: int | None = None) -> Table:
    """The grid's table with its first ``keep`` matrix columns (all when ``None``). Columns
    never wrap or shrink: callers show it only where its natural width fits. Each per-row
    column ends in a dim ``│`` so that ``v``, ``value`` and J never read as one cell."""
    cols = g.columns if keep is None else g.columns[:keep]
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    t.add_column(Text(""), style="bold", no_wrap=True)
    for title, style, _ in g.extras:
        t.add_column(_barred(title), justify="right", style=style, no_wrap=True)
    for c in cols:
        t.add_column(Text("…") if c is None else c, justify="right", no_wrap=True)
    for i, label in enumerate(g.rows):
        if label is None:
            t.add_row(*[Text("⋮")] * (1 + len(g.extras) + len(cols)))
            continue
        row = [label]
        for _, _, f in g.extras:
            row.append(_barred(f(i)))
        row += [Text("…") if c is None else g.cell(i, j) for j, c in enumerate(cols)]
        t.add_row(*row)
    return t


def _barred(text: Text) -> Text:
    return text + Text(" │", style="dim")


def entry_lines(g: Grid, width: int,
                value: Callable[[int, int], Text] | None = None) -> list[Text]:
    """One line per shown entry, ``dy[0]/dx1 = <cell>`` (``value`` may build the right-hand
    side instead), after one line per row for the per-row columns. A line too wide for
    ``width`` breaks at its ``≈``/``=`` boundary, never inside a number or formula."""
    lines: list[Text] = []
    for i, label in enumerate(g.rows):
        if label is None or not g.extras:
            continue
        line = label.copy()
        for n, (title, style, f) in enumerate(g.extras):
            line.append(": " if n == 0 else ";  ")
            line.append(title.plain + " = ", style="dim")
            cell = f(i).copy()
            cell.stylize(style)
            line.append_text(cell)
        lines.append(line)
    for i, row in enumerate(g.rows):
        for j, col in enumerate(g.columns):
            if row is None or col is None:
                continue
            lhs = g.entry(row, col) + Text(" = ")
            rhs = value(i, j) if value else g.cell(i, j)
            lines.extend(_break(lhs, rhs, width))
    if g.shown() < _total(g):
        lines.append(Text("(entries elided above are in --json)", style="dim"))
    return lines


def _total(g: Grid) -> int:
    return len(g.rows) * len(g.columns)


def _break(lhs: Text, rhs: Text, width: int) -> list[Text]:
    """``lhs rhs`` on one line when it fits; else ``rhs``'s last `` ≈ ``/`` = `` part on the
    next line with its sign under ``lhs``'s ``=``; else ``rhs`` on lines of its own, indented.
    Only lines between parts: a number or formula is split only when it alone is wider than
    the terminal."""
    if cell_len(lhs.plain + rhs.plain) <= width:
        return [lhs + rhs]
    head, tail = rhs, None
    for sep in (" ≈ ", " ≠ ", " = "):
        at = rhs.plain.rfind(sep)
        if at > 0:
            head, tail = rhs[:at], rhs[at + 1:]
            break
    sign = Text(" " * max(0, cell_len(lhs.plain) - 2))
    if tail is not None and cell_len(lhs.plain + head.plain) <= width:
        return [lhs + head, sign + tail]
    indent = Text("    ")
    if tail is not None and cell_len(indent.plain + rhs.plain) > width:
        return [lhs, indent + head, indent + tail]
    return [lhs, indent + rhs]


def fit_grid(g: Grid, title: Text, subtitle: Text | None = None,
             compact: Grid | None = None) -> Fit:
    """The grid as a panel that fits the width: the whole table when it fits; else the
    ``compact`` table (the same entries in fewer characters, e.g. without exact forms) with a
    line saying what it leaves out; else each entry on its own line (up to ``LIST_MAX``
    entries); else the table with as many whole columns as fit and a line naming the rest
    and how to see them."""

    def build(console: Console, width: int) -> RenderableType:
        fitting = table_panel(console, width, g, title, subtitle, compact)
        if fitting is not None:
            return fitting
        if g.shown() <= LIST_MAX:
            return listed(g, width, title, subtitle)
        need = natural_width(console, Panel(table(g), title=title, expand=False))
        return dropped(console, compact or g, width, title, subtitle, need)

    return Fit(build)


def table_panel(console: Console, width: int, g: Grid, title: Text, subtitle: Text | None = None,
                compact: Grid | None = None) -> Panel | None:
    """The whole table, else the ``compact`` one with a note, as a panel if it fits ``width``."""
    full = Panel(table(g), title=title, subtitle=subtitle, expand=False)
    if natural_width(console, full) <= width:
        return full
    if compact is not None:
        short = Panel(Group(table(compact), COMPACT_NOTE), title=title, subtitle=subtitle,
                      expand=False)
        if natural_width(console, short) <= width:
            return short
    return None


def listed(g: Grid, width: int, title: Text, subtitle: Text | None) -> Panel:
    return Panel(Group(*entry_lines(g, width - 4)), title=title, subtitle=subtitle,
                 expand=False)


def dropped(console: Console, g: Grid, width: int, title: Text, subtitle: Text | None,
            need: int) -> RenderableType:
    """The table with the most leading columns that fit ``width`` and a note on the rest;
    the entry list when not even one column fits."""
    keep = len(g.columns) - 1
    while natural_width(console, Panel(table(g, keep), title=title, expand=False)) > width:
        keep -= 1
        if keep < 1 or g.columns[keep - 1] is None:
            return listed(g, width, title, subtitle)
    rest = [c.plain for c in g.columns[keep:] if c is not None]
    elided = any(c is None for c in g.columns[keep:])
    named = ", ".join(rest[:3]) + (f", … ({len(rest)} in all)" if len(rest) > 3 else "")
    note = Text(f"not shown: column(s) {named}" + (" and the elided ones" if elided else "")
                + f" (the table needs {need} columns, the terminal has {width}); "
                "see them with --wrt, --json or a wider terminal", style="yellow")
    return Panel(Group(table(g, keep), note), title=title, subtitle=subtitle, expand=False)


def side_by_side(parts: list[RenderableType]) -> Fit:
    """``parts`` on one line, a space apart, when their natural widths fit; else stacked
    (each then fits the width on its own)."""

    def build(console: Console, width: int) -> RenderableType:
        if len(parts) < 2:
            return Group(*parts)
        widths = [natural_width(console, p) for p in parts]
        if sum(widths) + len(parts) - 1 <= width:
            grid = Table.grid(padding=(0, 1))
            for _ in parts:
                grid.add_column(no_wrap=True)
            grid.add_row(*parts)
            return grid
        return Group(*parts)

    return Fit(build)


def wrap_pieces(head: str, chunks: list[str], width: int, style: str = "") -> Text:
    """``head`` (``"vᵀJ ="``) and ``chunks`` (``"(1/10)·[6, 3, 2]"``, ``"+ (1/5)·[1, 1, 1]"``,
    …, ``"= [11/10, 7/5, 1]"``) joined by spaces, breaking lines only between chunks: a
    bracketed vector is never split. A continuation line starts with its operator, aligned
    under the ``=`` of ``head``."""
    indent = " " * max(0, cell_len(head) - 1)
    lines, line = [], head
    for chunk in chunks:
        if cell_len(line) + 1 + cell_len(chunk) > width and line.strip() != head:
            lines.append(line)
            line = indent + chunk
        else:
            line += " " + chunk
    lines.append(line)
    return Text("\n".join(lines), style=style)


class Phrases(Text):
    """Text that breaks lines only between its phrases, so a tolerance (``rtol 1e-09, atol
    1e-12``) or a difference (``max |Δ| = 0``) is never split across lines; continuation
    lines are indented. Plain ``Text`` otherwise (``.plain`` joins the phrases by spaces)."""

    def __init__(self, phrases: list[str], style: str = "") -> None:
        super().__init__(" ".join(phrases), style=style)
        self.phrases = phrases

    def __rich_console__(self, console, options):
        lines, line = [], ""
        for phrase in self.phrases:
            if line and cell_len(line) + 1 + cell_len(phrase) > options.max_width:
                lines.append(line)
                line = "  " + phrase
            else:
                line = f"{line} {phrase}" if line else phrase
        lines.append(line)
        yield Text("\n".join(lines), style=self.style)
