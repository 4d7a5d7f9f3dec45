"""HTML: one self-contained page — the tables, vᵀJ's sum, the formulas in MathML, a heat map
of J in inline SVG, and the JSON result embedded.

The page fetches nothing: no CDN, no external fonts, scripts or images; MathML is made here
(``render/mathml.py``), the heat map too (``render/svgmap.py``). Everything from the Result is
escaped (labels hold brackets and ``<``). The JSON is ``render/json.py``'s strict JSON inside
``<script type="application/json" id="jacli-result">``, with ``<``, ``>`` and ``&`` written as
``\\u003c``… so no text can close the tag. One small inline script records any script error
into the page (``#jacli-errors``) and checks that the embedded JSON parses, so a headless
browser can tell from the DOM alone that the page ran cleanly.
"""

from __future__ import annotations

import math
from html import escape

from jacli.render import json as json_renderer
from jacli.render.format import MAX_COLS, MAX_ROWS, definitions, elide, num, relation, \
    vector, with_exact
from jacli.render.mathml import to_mathml
from jacli.render.matrix import derivative
from jacli.render.svgmap import heatmap
from jacli.render.table import hang, nested, check_line, fd_line, identity, structure_line
from jacli.result import Result
from jacli.result.labels import dims_text

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#222222;
max-width:1200px}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
pre,code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9rem}
pre.source{background:#f6f8fa;padding:.5rem;border-radius:4px;white-space:pre-wrap}
.row{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
table{border-collapse:collapse}th,td{border:1px solid #cccccc;padding:.25rem .5rem;
text-align:center}th{background:#f0f3f6;font-family:ui-monospace,monospace;font-weight:600}
td.extra,th.extra{background:#fbfaf3}
caption{font-weight:600;padding:.3rem;text-align:left;white-space:nowrap}
.panel{border:1px solid #bbbbbb;border-radius:6px;padding:.6rem 1rem;margin:.6rem 0}
.identity{font-size:1.1rem;font-weight:600}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700}.dim{color:#666666}
.axis{font:11px ui-monospace,monospace;fill:#333333}.axis-title{font:11px sans-serif;fill:#666666}
figure.heatmap{margin:0}figcaption{color:#555555;font-size:.85rem;max-width:480px}
math{font-size:1.05em}
"""

# Runs first: any later script error lands in the DOM, where a headless browser can read it.
GUARD = """
window.jacliErrors=[];window.addEventListener("error",function(e){window.jacliErrors.push(
String(e.message));var b=document.getElementById("jacli-errors");if(b){b.textContent=
window.jacliErrors.join("\\n");}});
document.addEventListener("DOMContentLoaded",function(){var b=document.getElementById(
"jacli-errors");b.textContent=window.jacliErrors.join("\\n");var r=JSON.parse(
document.getElementById("jacli-result").textContent);document.body.setAttribute(
"data-json-command",r.command);document.getElementById("jacli-json").textContent=
JSON.stringify(r,null,2);});
"""


def render(result: Result) -> str:
    """The whole page as one string."""
    r = result
    names = frozenset(v.name for v in r.variables)
    body = [header(r), *jacobian_section(r, names)]
    if r.vjp is not None:
        body.append(vjp_panel(r, names))
    if r.jvp is not None:
        body.append(jvp_panel(r))
    if r.hessian is not None:
        body += hessian_section(r, names)
    body.append(verdict(r))
    body.append(_json_block(r))
    title = escape(f"jacli {r.command}: {r.source.strip()[:80]}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><script>{GUARD}</script><style>{STYLE}</style></head>"
            "<body>" + "\n".join(body) + '<pre id="jacli-errors" hidden></pre></body></html>\n')


def header(r: Result) -> str:
    n = sum(math.prod(v.shape) for v in r.variables)
    out = [f"<header><h1>jacli {escape(r.command)}</h1>",
           f'<pre class="source"><code>{escape(r.source.strip())}</code></pre>',
           f"<p>f: ℝ<sup>{n}</sup> → ℝ<sup>{len(r.outputs)}</sup>, output "
           f"<code>{escape(r.output_label)}</code> ({escape(dims_text(r.output_shape))})</p>",
           f"<p>variables ({escape(r.order)}): " + ", ".join(
               f"<code>{escape(v.name)}</code>" + (f" ({escape(dims_text(v.shape))})"
                                                   if v.shape else "")
               for v in r.variables) + "</p>"]
    if r.point_text:
        out.append('<p class="point">at ' + ", ".join(
            f"<code>{escape(k)} = {escape(v)}</code>" for k, v in r.point_text.items())
            + f" · {escape(r.dtype)} on {escape(r.device)}</p>")
    else:
        out.append("<p>no point given (--at): formulas only</p>")
    return "\n".join(out) + "</header>"


def matrix_table(caption: str, rows: list[str], cols: list[str], cell,
                 extra: list[tuple[str, list[str]]] = ()) -> str:
    """A ``<table>``: ``cell(i, j)`` is HTML; ``extra`` columns (name, HTML per row) follow
    J's columns. Past ``MAX_ROWS``×``MAX_COLS`` the middle is elided and the shape said."""
    ri, ci = elide(len(rows), MAX_ROWS), elide(len(cols), MAX_COLS)
    head = "<tr><th></th>" + "".join(
        "<th>…</th>" if j is None else f"<th>{escape(cols[j])}</th>" for j in ci)
    head += "".join(f'<th class="extra">{escape(name)}</th>' for name, _ in extra) + "</tr>"
    body = []
    for i in ri:
        if i is None:
            body.append("<tr><th>⋮</th>" + "<td>⋮</td>" * (len(ci) + len(extra)) + "</tr>")
            continue
        tds = "".join("<td>…</td>" if j is None else f"<td>{cell(i, j)}</td>" for j in ci)
        tds += "".join(f'<td class="extra">{values[i]}</td>' for _, values in extra)
        body.append(f"<tr><th>{escape(rows[i])}</th>{tds}</tr>")
    shape = f" ({len(rows)}×{len(cols)})" if (None in ri or None in ci) else ""
    return (f"<table><caption>{escape(caption)}{shape}</caption>{head}"
            + "".join(body) + "</table>")


def at_point(x: float | None, exact: str | None, names, dtype: str) -> str:
    """The float, and the exact value typeset when it says more (``0.841471 ≈ sin(1)``)."""
    text = with_exact(x, exact, dtype=dtype)
    shown = num(x)
    rel = relation(shown, exact, x, dtype) if exact is not None and x is not None else None
    if rel is None or text != f"{shown} {rel} {exact}":  # plain, ≠, or a rounding error
        return escape(text)
    return f"{escape(shown)} {rel} {to_mathml(exact, names)}"


def jacobian_section(r: Result, names) -> list[str]:
    J = r.jacobian
    if J is None:
        return []
    tables, rows, cols = [], list(r.outputs), list(r.inputs)
    if J.symbolic is not None:
        tables.append(matrix_table(f"symbolic J = {derivative(r)}", rows, cols,
                                   lambda i, j: to_mathml(J.symbolic[i][j], names)))
    if J.numeric is not None or J.exact is not None:
        extra = []
        if r.value_numeric is not None or r.value_exact is not None:
            extra.append((f"value {r.output_label}", [
                at_point(r.value_numeric[i] if r.value_numeric else None,
                         r.value_exact[i] if r.value_exact else None, names, r.dtype)
                for i in range(len(rows))]))
        if r.vjp is not None and len(r.vjp.v_exact) == len(rows):
            extra.append(("v", [escape(x) for x in r.vjp.v_exact]))
        tables.append(matrix_table("J at the point", rows, cols, lambda i, j: at_point(
            J.numeric[i][j] if J.numeric else None, J.exact[i][j] if J.exact else None,
            names, r.dtype), extra))
    if J.numeric is not None:
        tables.append(heatmap(J.numeric, rows, cols, _groups(cols), "j", "numeric J (autograd)"))
    else:
        tables.append('<p class="dim">no heat map: J was not evaluated (no point, or autograd '
                      "skipped)</p>")
    return ["<section><h2>The Jacobian</h2>", *definitions_list(J, names),
            f'<div class="row">{"".join(tables)}</div>', "</section>"]


def definitions_list(J, names) -> list[str]:
    """``where s1 = …``: the names the shortened formulas use, typeset, above the tables."""
    where = definitions(J)
    if not where:
        return []
    items = "".join(f'<li class="definition">'
                    f"{to_mathml(name, names)} = {to_mathml(formula, names)}</li>"
                    for name, formula in where)
    return [f'<p>where</p><ul class="definitions">{items}</ul>']


def _groups(labels: list[str]) -> list[tuple[str, int]]:
    """Consecutive labels of one variable (``a[0,0]``, ``a[0,1]`` → a), with their count."""
    out: list[tuple[str, int]] = []
    for label in labels:
        name = label.split("[", 1)[0]
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + 1)
        else:
            out.append((name, 1))
    return out


def vjp_panel(r: Result, names) -> str:
    vj = r.vjp
    out = ['<section class="panel vjp"><h2>vᵀJ — what '
           f"{escape(r.output_label)}.backward(v) leaves in .grad</h2>",
           f'<p class="dim">v = {escape(nested(vj.v_exact, r.output_shape))} '
           f'from {escape(vj.v_source)}</p>']
    if r.jacobian is not None and identity(r):
        out.append(f'<p class="identity">{escape(identity(r))}</p>')
    if vj.grad_repr:
        for name, text in vj.grad_repr.items():
            none = " (PyTorch: None — not in the output's graph)" if name in vj.grad_none else ""
            out.append(f"<pre>{escape(hang(f'{name}.grad = ', text))}{escape(none)}</pre>")
    elif vj.symbolic:
        out += [f"<p>(vᵀJ)[{escape(x)}] = {to_mathml(f, names)}</p>"
                for x, f in zip(r.inputs, vj.symbolic)]
    return "\n".join(out) + "</section>"


def jvp_panel(r: Result) -> str:
    p = r.jvp
    answer = p.exact or [num(x) for x in (p.numeric or [])] or p.symbolic or []
    return ('<section class="panel jvp"><h2>J u — the Jacobian-vector product</h2>'
            f'<p class="dim">u = {escape(vector(p.vector_exact))} (one number per input)</p>'
            f'<p class="identity">J u = {escape(vector(answer))}</p></section>')


def hessian_section(r: Result, names) -> list[str]:
    H, cols = r.hessian, list(r.inputs)
    tables = []
    if H.symbolic is not None:
        tables.append(matrix_table("symbolic Hessian ∂²y/∂xᵢ∂xⱼ", cols, cols,
                                   lambda i, j: to_mathml(H.symbolic[i][j], names)))
    if H.numeric is not None or H.exact is not None:
        tables.append(matrix_table("Hessian at the point", cols, cols, lambda i, j: at_point(
            H.numeric[i][j] if H.numeric else None, H.exact[i][j] if H.exact else None,
            names, r.dtype)))
    if H.numeric is not None:
        tables.append(heatmap(H.numeric, cols, cols, _groups(cols), "h", "numeric H (autograd)",
                              "rows and columns: inputs"))
    out = ["<section><h2>The Hessian</h2>", f'<div class="row">{"".join(tables)}</div>']
    if r.hvp is not None:
        answer = r.hvp.exact or [num(x) for x in (r.hvp.numeric or [])] or r.hvp.symbolic
        out.append(f"<p>H v with v = {escape(vector(r.hvp.vector_exact))}: "
                   f"{escape(vector(answer))}</p>")
    return out + ["</section>"]


def verdict(r: Result) -> str:
    """The check line(s), structure and notices, in the table view's words."""
    lines = [check_line(r)]
    if r.check is not None and r.check.finite_differences is not None:
        lines.append(fd_line(r.check.finite_differences))
    if r.structure and "rank" in r.structure and r.command in ("jacobian", "check"):
        lines.append(structure_line(r.structure, r.strategy))
    out = ['<section class="verdict"><h2>Check</h2>']
    for text in lines:
        out.append(f'<p class="{_css(str(text.style))}">'
                   + escape(text.plain).replace("\n", "<br>") + "</p>")
    out += [f'<p class="warn notice">note: {escape(n)}</p>' for n in r.notices]
    return "\n".join(out) + "</section>"


def _css(style: str) -> str:
    return {"green": "ok", "bold red": "bad", "yellow": "warn"}.get(style, "dim")


def _json_block(r: Result) -> str:
    text = json_renderer.render(r)
    for raw, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(raw, code)  # inside JSON strings only: JSON has no other < > &
    return ('<details><summary>JSON result (the same as --json)</summary>'
            f'<script type="application/json" id="jacli-result">{text}</script>'
            '<p class="dim">embedded in this page as '
            '<code>&lt;script id="jacli-result"&gt;</code></p><pre id="jacli-json"></pre>'
            '</details>')
