"""A heat map of a numeric matrix (J or H) as pure inline SVG: one ``rect`` per cell.

Colour: a diverging scale centred on 0 (blue below, red above, white at 0), symmetric up to
the largest finite |entry|. An entry that is exactly 0 is hatched grey, so it never looks like
a small number; NaN is black; ±inf is the scale's end, marked with a dot. Row labels are the
outputs, column labels the inputs; lines separate the variables (tensors) among the columns.
A matrix larger than ``MAX_CELLS`` per side is downsampled honestly: each cell stands for a
block of entries and shows the block's entry of largest magnitude (hatched only when the
whole block is exactly 0), and the caption says so. Only plain Python; no plotting library.
"""

from __future__ import annotations

import math
from html import escape

from jacli.render.format import num

MAX_CELLS = 48  # per side: beyond this, blocks of entries share a cell
CELL = 40  # px per cell at most (small matrices); 640 px per side at most
LABEL_CHARS = 14  # labels longer than this are cut on the axis (the tooltip has them whole)


def heatmap(matrix: list[list[float]], rows: list[str], cols: list[str],
            groups: list[tuple[str, int]] = (), uid: str = "j", title: str = "J",
            axes: str = "rows: outputs · columns: inputs") -> str:
    """``<figure>`` with the SVG and its caption. ``groups``: (variable, column count) in
    column order, for the separators. ``uid`` keeps ids unique when a page holds several."""
    m, n = len(matrix), len(matrix[0]) if matrix else 0
    if m == 0 or n == 0:
        return f"<p>{escape(title)} is empty ({m}×{n}): nothing to draw.</p>"
    rb, cb = math.ceil(m / MAX_CELLS), math.ceil(n / MAX_CELLS)
    cells = _blocks(matrix, rb, cb)
    scale = max((abs(x) for row in matrix for x in row if math.isfinite(x)), default=0.0)
    caption = f"{escape(title)}: {m}×{n}, colour scale ±{escape(num(scale))}"
    if rb > 1 or cb > 1:
        caption += (f"; downsampled: each cell is a block of {rb}×{cb} entries, coloured by "
                    "its entry of largest magnitude (hatched only if the whole block is 0)")
    svg = _svg(cells, rows, cols, rb, cb, groups, scale, uid, title, axes)
    return f'<figure class="heatmap">{svg}<figcaption>{caption}</figcaption></figure>'


def _blocks(matrix, rb: int, cb: int) -> list[list[tuple[float, bool]]]:
    """(shown value, all exactly zero) per block of ``rb``×``cb`` entries."""
    out = []
    for i in range(0, len(matrix), rb):
        row = []
        for j in range(0, len(matrix[0]), cb):
            block = [x for r in matrix[i:i + rb] for x in r[j:j + cb]]
            nan = [x for x in block if math.isnan(x)]
            shown = nan[0] if nan else max(block, key=abs)
            row.append((shown, all(x == 0 for x in block)))
        out.append(row)
    return out


def colour(x: float, scale: float) -> str:
    """``rgb(…)``: white at 0, saturated red (+) / blue (−) at ±``scale``."""
    if math.isnan(x):
        return "rgb(0,0,0)"
    t = 1.0 if scale == 0 or math.isinf(x) else min(abs(x) / scale, 1.0)
    far = (178, 24, 43) if x > 0 else (33, 102, 172)
    return "rgb({},{},{})".format(*(round(255 + (c - 255) * t) for c in far))


def _label(text: str) -> str:
    return escape(text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…")


def _svg(cells, rows, cols, rb, cb, groups, scale, uid, title, axes) -> str:
    h, w = len(cells), len(cells[0])
    size = max(8, min(CELL, 640 // max(h, w)))
    left = 8 + 7 * min(LABEL_CHARS, max(len(r) for r in rows))
    top = 8 + 7 * min(LABEL_CHARS, max(len(c) for c in cols))
    width, height = max(left + w * size + 10, left + 330), top + h * size + 62
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="heat map of {escape(title)}">',
             f'<defs><pattern id="zero-{uid}" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#999999" stroke-width="2"/></pattern>'
             f'<linearGradient id="scale-{uid}"><stop offset="0" stop-color="{colour(-1, 1)}"/>'
             '<stop offset="0.5" stop-color="rgb(255,255,255)"/>'
             f'<stop offset="1" stop-color="{colour(1, 1)}"/></linearGradient></defs>']
    for i, row in enumerate(cells):
        for j, (x, zero) in enumerate(row):
            fill = f"url(#zero-{uid})" if zero else colour(x, scale)
            where = _where(rows, cols, i, j, rb, cb)
            parts.append(f'<rect x="{left + j * size}" y="{top + i * size}" width="{size}" '
                         f'height="{size}" fill="{fill}" stroke="#ffffff" stroke-width="0.5">'
                         f'<title>{escape(where)} = {escape(num(x))}</title></rect>')
            if math.isinf(x):
                parts.append(f'<circle cx="{left + j * size + size / 2}" '
                             f'cy="{top + i * size + size / 2}" r="2" fill="#000000"/>')
    parts += _axes(rows, cols, rb, cb, left, top, size, h, w)
    parts += _separators(groups, cb, left, top, size, h)
    parts.append(_legend(uid, scale, left, top + h * size + 14))
    parts.append(f'<text x="{left}" y="{top + h * size + 54}" class="axis-title">'
                 f'{escape(axes)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _where(rows, cols, i, j, rb, cb) -> str:
    r0, c0 = i * rb, j * cb
    r = rows[r0] if rb == 1 else f"{rows[r0]}…{rows[min(r0 + rb, len(rows)) - 1]}"
    c = cols[c0] if cb == 1 else f"{cols[c0]}…{cols[min(c0 + cb, len(cols)) - 1]}"
    return f"∂{r}/∂{c}"


def _axes(rows, cols, rb, cb, left, top, size, h, w) -> list[str]:
    """Row labels at the left, column labels rotated above; every ``k``-th when crowded."""
    out = []
    step = max(1, math.ceil(12 / size))  # keep labels ≥ 12 px apart
    for i in range(0, h, step):
        y = top + i * size + size / 2 + 4
        out.append(f'<text x="{left - 4}" y="{y}" text-anchor="end" class="axis">'
                   f'{_label(rows[i * rb])}</text>')
    for j in range(0, w, step):
        x = left + j * size + size / 2 + 4
        out.append(f'<text x="{x}" y="{top - 4}" transform="rotate(-90 {x} {top - 4})" '
                   f'class="axis">{_label(cols[j * cb])}</text>')
    return out


def _separators(groups, cb, left, top, size, h) -> list[str]:
    """A line between the columns of consecutive variables, where some variable is a tensor
    (between scalar variables every column would get one, and the lines would say nothing)."""
    out, at = [], 0
    if all(count == 1 for _, count in groups):
        return out
    for _, count in list(groups)[:-1]:
        at += count
        x = left + at / cb * size
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + h * size}" '
                   'stroke="#333333" stroke-width="1.5"/>')
    return out


def _legend(uid: str, scale: float, x: int, y: int) -> str:
    s, w = escape(num(scale)), 180
    return (f'<g class="legend"><rect x="{x}" y="{y}" width="{w}" height="10" '
            f'fill="url(#scale-{uid})" stroke="#999999"/>'
            f'<text x="{x}" y="{y + 24}" class="axis">−{s}</text>'
            f'<text x="{x + w / 2}" y="{y + 24}" text-anchor="middle" class="axis">0</text>'
            f'<text x="{x + w}" y="{y + 24}" text-anchor="end" class="axis">{s}</text>'
            f'<rect x="{x + w + 15}" y="{y}" width="10" height="10" fill="url(#zero-{uid})" '
            f'stroke="#999999"/><text x="{x + w + 30}" y="{y + 9}" class="axis">exactly 0</text>'
            f'<rect x="{x + w + 95}" y="{y}" width="10" height="10" fill="rgb(0,0,0)"/>'
            f'<text x="{x + w + 110}" y="{y + 9}" class="axis">NaN</text></g>')
