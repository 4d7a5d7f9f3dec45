"""Pictures (``--plot FILE``, .png .svg .pdf): the numeric J (H for ``hessian``) as a heat
map, vᵀJ / J u / H v as bars beside it, and for ``check`` the errors |autograd − SymPy| and
|autograd − FD| on a log scale.

What is drawn comes from ``render/heat.py`` (pure arrays); this module only lays it out.
matplotlib is an optional extra, imported inside ``plot`` (``Figure`` with the Agg canvas, no
pyplot state); ``check_path`` refuses a picture that cannot be made before anything runs.
Colour scale: diverging, centred on 0 (``TwoSlopeNorm``); exact zeros are a neutral grey,
hatched, so a tiny number never passes for a structural zero.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np

from jacli.errors import UsageError
from jacli.render.heat import Heat, bars, errors, groups, heat_data, pool
from jacli.result import Result

__all__ = ["plot", "check_path", "heat_data", "norm_of", "SUFFIXES", "INSTALL"]

SUFFIXES = (".png", ".svg", ".pdf")
INSTALL = 'pip install "jacli[plot]"'
ZERO = (0.85, 0.85, 0.85, 1.0)  # exact zeros: neutral grey (and hatched)
MISSING = (0.0, 0.0, 0.0, 1.0)  # NaN / ±inf / not comparable: black
LABEL_ALL = 60  # label every row/column up to this many, else only the tensor groups
HATCH_MAX = 5000  # zero cells hatched one by one up to this many (grey beyond)
ANNOTATE_MAX = 64  # write the numbers into the cells of a matrix this small


def check_path(path: str) -> None:
    """Refuse, before anything is computed or torch imported, a picture that could not be
    written: an unknown suffix, no matplotlib, a folder that does not exist."""
    import importlib.util
    import os

    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"--plot {path}: unknown picture format {suffix or '(no suffix)'!r}",
                         hint="name the file .png, .svg or .pdf", where="--plot")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError(f"--plot needs matplotlib, which is not installed: {INSTALL}",
                         where="--plot")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--plot {path}: the folder {folder} does not exist", where="--plot")


def drawable(result: Result):
    """J's heat map and the vector's bars; refused (before anything is printed) when
    ``result`` has neither: formulas only, no numbers to draw."""
    heat, vector = heat_data(result), bars(result)
    if heat is None and vector is None:
        raise UsageError(f"nothing to draw: {result.command} computed no numbers here",
                         hint="--plot draws numbers: give a point with --at", where="--plot")
    return heat, vector


def plot(result: Result, path: str):
    """Draw ``result`` into ``path``; the format is the suffix (checked by ``check_path``).
    Returns the matplotlib ``Figure`` drawn (tests read what it shows)."""
    from matplotlib.figure import Figure

    heat, vector = drawable(result)
    extra = [h for h in errors(result) if h is not None] if result.command == "check" else []
    fig = Figure(figsize=_size(heat, vector, extra), layout="constrained")
    fig.suptitle(title_of(result), fontsize=10)
    _layout(fig, heat, vector, extra)
    try:
        fig.savefig(path, format=path.rsplit(".", 1)[-1].lower(), dpi=150)
    except OSError as e:
        raise UsageError(f"cannot write --plot {path}: {e.strerror or e}",
                         where="--plot") from None
    return fig


def _size(heat, vector, extra) -> tuple[float, float]:
    m, n = heat.values.shape if heat is not None else (1, len(vector[1]))
    width = min(18.0, max(7.0, 3.5 + 0.3 * n))
    one = min(9.0, max(2.6, 1.6 + 0.45 * m + (0.07 * _longest(heat.cols) if heat else 0)))
    height = one * (1 + len(extra)) + (2.6 if vector and vector[3] == "cols" else 0.6)
    return width, min(height, 30.0)


def _longest(labels) -> int:
    return max((len(s) for s in labels), default=1) if len(labels) <= LABEL_ALL else 4


def _layout(fig, heat, vector, extra) -> None:
    """Heat map on top; bars along the columns go below it (shared x), bars along the rows
    to its right (shared y); check's error maps below, one per row."""
    beside = vector is not None and vector[3] == "rows" and heat is not None
    rows = [3] * (heat is not None) + [2] * (vector is not None and not beside) + [3] * len(extra)
    grid = fig.add_gridspec(len(rows), 2 if beside else 1, height_ratios=rows,
                            width_ratios=[4, 1] if beside else None)
    k = 0
    if heat is not None:
        ax = fig.add_subplot(grid[0, 0])
        draw_heat(fig, ax, heat)
        k = 1
    if vector is not None:
        shared = heat is not None and len(vector[1]) == (heat.values.shape[0] if beside
                                                         else heat.values.shape[1])
        spot = grid[0, 1] if beside else grid[k, 0]
        bax = fig.add_subplot(spot, **({"sharey" if beside else "sharex": ax} if shared else {}))
        draw_bars(bax, vector, horizontal=beside, heat=heat if shared else None)
        k += 0 if beside else 1
    for h in extra:
        draw_errors(fig, fig.add_subplot(grid[k, 0]), h)
        k += 1


def norm_of(values: np.ndarray):
    """The diverging colour normalisation: centred on 0, symmetric, over the finite values."""
    from matplotlib.colors import TwoSlopeNorm

    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return TwoSlopeNorm(vcenter=0.0, vmin=-top, vmax=top)


def draw_heat(fig, ax, heat: Heat) -> None:
    """The signed heat map: colour bar, exact zeros grey and hatched, NaN/inf black."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    norm, cmap = norm_of(heat.values), colormaps["RdBu_r"]
    finite = np.isfinite(heat.values)
    rgba = cmap(norm(np.where(finite, heat.values, 0.0)))
    rgba[heat.zero] = ZERO
    rgba[~finite] = MISSING  # after the zeros: an exact 0 that autograd gets as NaN shows
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.02)
    _hatch(ax, heat.zero)
    _annotate(ax, heat, norm)
    _axes(ax, heat)
    m, n = heat.shape
    marks = (("grey hatched" if heat.zero.sum() <= HATCH_MAX else "grey")
             + (" = exact 0" if heat.zeros_from == "exact" else " = 0.0 (no exact values)")
             + (", black = NaN/±inf" if (~finite).any() else ""))
    ax.set_title(f"{heat.name}   {m}×{n}, {heat.nonzero} of {m * n} nonzero "
                 f"({100 * heat.nonzero / max(m * n, 1):.3g}%);  {marks}"
                 + (f"\n{heat.note}" if heat.note else ""), fontsize=9)


def draw_errors(fig, ax, heat: Heat) -> None:
    """An error map on a log scale; exactly 0 grey and hatched, not comparable black."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm

    v = heat.values
    positive = v[np.isfinite(v) & (v > 0)]
    lo, hi = (positive.min(), positive.max()) if positive.size else (1e-17, 1e-16)
    norm, cmap = LogNorm(vmin=lo, vmax=max(hi, lo * 10)), colormaps["magma_r"]
    ok = np.isfinite(v) & (v > 0)
    rgba = cmap(norm(np.where(ok, v, lo)))
    rgba[~np.isfinite(v)] = MISSING
    rgba[heat.zero] = ZERO
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    if positive.size:  # with no error at all a colour bar would show an invented range
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.02)
    _hatch(ax, heat.zero)
    _axes(ax, heat)
    worst = f"max {positive.max():.3g}" if positive.size else "all exactly 0"
    missing = ", black = not comparable" if (~np.isfinite(v)).any() else ""
    ax.set_title(f"{heat.name}   ({worst}; log scale, grey hatched = exactly 0{missing})"
                 + (f"\n{heat.note}" if heat.note else ""), fontsize=9)


def draw_bars(ax, vector, horizontal: bool, heat: Heat | None) -> None:
    """vᵀJ, J u or H v as bars coloured by sign, labelled by input or output."""
    title, values, labels, _ = vector
    note = ""
    if heat is None and len(values) > 2000:  # many bars: pool them as the heat map is
        block = -(-len(values) // 500)
        note = f" (downsampled {len(values)} → {-(-len(values) // block)} by max-|·| pooling)"
        values = pool(values[None, :], 1, block)[0]
        labels = labels[::block]
    colours = np.where(values >= 0, "#c0504d", "#4f81bd")
    at = np.arange(len(values))
    (ax.barh if horizontal else ax.bar)(at, np.nan_to_num(values), color=colours)
    (ax.axvline if horizontal else ax.axhline)(0, color="0.3", lw=0.8)
    ax.set_title(title + note, fontsize=9)
    if heat is not None:
        ax.tick_params(labelleft=not horizontal)
        return  # the shared axis already carries the labels
    ticks = at if len(labels) <= LABEL_ALL else at[:: max(1, len(at) // 20)]
    (ax.set_yticks if horizontal else ax.set_xticks)(
        ticks, [labels[i] for i in ticks], fontsize=_font(len(ticks)),
        **({} if horizontal else {"rotation": 90}))


def _hatch(ax, zero: np.ndarray) -> None:
    """Hatch the exact zeros (cell by cell; beyond ``HATCH_MAX`` cells grey alone says it)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    cells = np.argwhere(zero)
    if 0 < len(cells) <= HATCH_MAX:
        ax.add_collection(PatchCollection(
            [Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in cells], facecolor="none",
            edgecolor="0.68", hatch="//", linewidth=0))


def _annotate(ax, heat: Heat, norm) -> None:
    """Numbers in the cells of a small matrix (3 significant digits)."""
    m, n = heat.values.shape
    if m * n > ANNOTATE_MAX or heat.note:
        return
    for i in range(m):
        for j in range(n):
            x = heat.values[i, j]
            dark = np.isfinite(x) and abs(norm(x) - 0.5) > 0.35
            ax.text(j, i, "0" if heat.zero[i, j] else f"{x:.3g}", ha="center", va="center",
                    fontsize=8, color="white" if dark or not np.isfinite(x) else "black")


def _axes(ax, heat: Heat) -> None:
    """Row and column labels (every one when few, else the tensors), tensor separators, and
    the tensor names on the far sides when there are several."""
    m, n = heat.values.shape
    for axis, count, labels, tensor_groups, line in (
            ("x", n, heat.cols, heat.col_groups, ax.axvline),
            ("y", m, heat.rows, heat.row_groups, ax.axhline)):
        set_ticks = ax.set_xticks if axis == "x" else ax.set_yticks
        if count <= LABEL_ALL and not heat.note:
            set_ticks(range(count), labels, fontsize=_font(count),
                      **({"rotation": 90} if axis == "x" else {}))
        else:
            set_ticks([a for _, a, _ in tensor_groups], [g for g, _, _ in tensor_groups],
                      fontsize=8)
        if _tensors(tensor_groups):  # scalars alone need no separators
            for _, a, _ in tensor_groups[1:]:
                line(a - 0.5, color="black", lw=1.2)
    ax.set_xlabel("inputs (columns): " + _names(heat.cols), fontsize=9)
    ax.set_ylabel("outputs (rows)" if heat.rows != heat.cols else "inputs (rows)", fontsize=9)
    if len(heat.col_groups) > 1 and _tensors(heat.col_groups):
        top = ax.secondary_xaxis("top")
        top.set_xticks([(a + b - 1) / 2 for _, a, b in heat.col_groups],
                       [g for g, _, _ in heat.col_groups], fontsize=9, fontweight="bold")
        top.tick_params(length=0)


def _tensors(tensor_groups) -> bool:
    """Whether any group is a tensor (several elements): only then is grouping news."""
    return any(b - a > 1 for _, a, b in tensor_groups)


def _names(labels) -> str:
    """The tensors along an axis with their element counts: ``W (36), x (6)``."""
    return ", ".join(f"{g} ({b - a})" if b - a > 1 else g for g, a, b in groups(labels))


def _font(count: int) -> float:
    return float(min(9, max(5, 300 / max(count, 1))))


def title_of(result: Result) -> str:
    """The figure's title: the command, its source (shortened) and the point."""
    source = re.sub(r"\s+", " ", result.source).strip()
    source = source if len(source) <= 90 else source[:87] + "…"
    point = ", ".join(f"{k} = {v}" for k, v in (result.point_text or {}).items())
    point = point if len(point) <= 260 else point[:257] + "…"
    point = "\n".join(textwrap.wrap("at " + point, 130)) if point else ""
    return f"jacli {result.command}   {source}" + (f"\n{point}" if point else "")
