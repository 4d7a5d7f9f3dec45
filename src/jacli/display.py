"""How a ``Result`` shows itself in Jupyter: the API's results are ``Shown``.

``result/`` never imports ``render/`` (the JSON contract stays plain data), so the display
lives up here, beside the API: ``Shown`` is a ``Result`` (same fields, same ``to_dict``)
with IPython's display methods added. A notebook cell ending in ``jacli.vjp(...)`` shows the
terminal's side-by-side tables as HTML; Markdown and (when asked for with ``latex=True``)
LaTeX go along as alternatives; the plain-text repr is one line, not the dataclass dump.
Renderers are imported when a display method is called, so ``import jacli`` stays cheap.
"""

from __future__ import annotations

import io
from dataclasses import fields
from functools import wraps

from jacli.result import Result

WIDTH = 120  # columns of the HTML table view: a notebook cell at its usual font size
MAX_ENTRIES = 12  # the plain repr lists a J up to this many numbers, else gives its shape
MAX_CHARS = 100  # ... and up to this many characters (long exact values, formulas)
# Our own <pre>: Rich's default page is a whole <html> document, which must not sit in a cell.
# Colours from the terminal theme, so the tables stay readable under a dark notebook theme.
_HTML = ('<div class="jacli"><pre style="font-family:Menlo,\'DejaVu Sans Mono\',consolas,'
         '\'Courier New\',monospace;line-height:1.25;color:{foreground};'
         'background-color:{background};padding:0.5em;white-space:pre;overflow-x:auto">'
         '<code style="font-family:inherit">{code}</code></pre></div>')


class Shown(Result):
    """A ``Result`` that displays itself: ``_repr_html_`` (the table view), ``_repr_markdown_``,
    ``_repr_latex_`` (``None`` unless the formulas were typeset, ``latex=True``) and a one-line
    ``repr``. Equal to the plain ``Result`` with the same fields."""

    @classmethod
    def of(cls, result: Result) -> "Shown":
        """``result``'s fields, shared (not copied), in a ``Shown``."""
        if isinstance(result, cls):
            return result
        # the fields as they are, without the dataclass __init__ (30 µs of an API call of
        # 0.5 ms over its J): Result has no __post_init__ to run again
        shown = object.__new__(cls)
        shown.__dict__.update(result.__dict__)
        return shown

    def __eq__(self, other) -> bool:
        # the dataclass __eq__ demands the exact same class; a Shown is still that Result
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Result))

    __hash__ = Result.__hash__  # defining __eq__ would otherwise drop it

    def __repr__(self) -> str:
        return f"<{summary(self)}>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        return html(self)

    def _repr_markdown_(self) -> str:
        from jacli.render.markdown import render

        return render(self)

    def _repr_latex_(self) -> str | None:
        return latex(self)


def html(result: Result, width: int = WIDTH) -> str:
    """The terminal's table view as an HTML fragment (a ``<div>``, inline styles, no scripts)."""
    from rich.console import Console

    if result.command == "graph":
        from jacli.render.graph import render
    else:
        from jacli.render.table import render
    # force_jupyter=False: inside a notebook Rich would otherwise display the print itself
    console = Console(record=True, width=width, file=io.StringIO(), force_jupyter=False,
                      force_terminal=True, color_system="truecolor", highlight=False,
                      soft_wrap=False, emoji=False)
    console.print(render(result))
    return console.export_html(inline_styles=True, code_format=_HTML)


def latex(result: Result) -> str | None:
    """The typeset formulas as display maths, one ``$$…$$`` per matrix; ``None`` (so Jupyter
    skips the LaTeX view) when SymPy's LaTeX printer was not asked for (``latex=True``)."""
    if not result.extras.get("latex"):
        return None
    from jacli.render.latex import render

    maths = [line for line in render(result).split("\n") if not line.startswith("%")]
    return "\n".join(f"$${m}$$" for m in maths) or None


def summary(r: Result) -> str:
    """``jacli vjp: vᵀJ = [6, 52] at x1=1, x2=2 (agree)``: the answer, the point, the verdict."""
    parts = [f"jacli {r.command}:", answer(r)]
    if r.point_text:
        parts.append("at " + ", ".join(f"{k}={_short(v)}" for k, v in r.point_text.items()))
    verdict = _verdict(r)
    return " ".join(p for p in parts if p) + (f" ({verdict})" if verdict else "")


def answer(r: Result) -> str:
    """The headline value: vᵀJ (grad, vjp), J u, H v, else J (or H) — autograd's floats
    (as the tables print them), else SymPy's values or formulas; too long a one by its size."""
    if r.vjp is not None:
        name = "∇" if r.command == "grad" else "vᵀJ"
        return f"{name} = " + _vector(r.vjp.exact, r.vjp.numeric, r.vjp.symbolic)
    for product, name in ((r.jvp, "J u"), (r.hvp, "H v")):
        if product is not None:
            return f"{name} = " + _vector(product.exact, product.numeric, product.symbolic)
    for matrix, name in ((r.hessian, "H"), (r.jacobian, "J")):
        if matrix is not None:
            return f"{name} = " + _matrix(matrix)
    return ""


def _texts(exact, numeric, symbolic) -> list[str] | None:
    from jacli.render.format import num

    if numeric is not None:
        return [num(x) for x in numeric]
    return None if exact is None and symbolic is None else \
        list(exact if exact is not None else symbolic)


def _vector(exact, numeric, symbolic) -> str:
    source = next((x for x in (numeric, exact, symbolic) if x is not None), None)
    if source is None:
        return "?"
    if len(source) > MAX_ENTRIES:
        return f"{len(source)} entries"  # before printing: SymPy's texts print lazily
    text = "[" + ", ".join(_texts(exact, numeric, symbolic)) + "]"
    return text if len(text) <= MAX_CHARS else f"{len(source)} entries"


def _matrix(m) -> str:
    grid = next((g for g in (m.numeric, m.exact, m.symbolic) if g is not None), None)
    if grid is None:
        return "?"
    shape = f"{len(grid)}×{len(grid[0]) if len(grid) else 0} matrix"
    if len(grid) * (len(grid[0]) if len(grid) else 0) > MAX_ENTRIES:
        return shape  # before printing: a big J's exact rows print lazily, and slowly
    numeric = grid is m.numeric
    rows = [_texts(None, row, None) if numeric else list(row) for row in grid]
    text = "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
    return text if len(text) <= MAX_CHARS else shape


def _short(text: str, limit: int = 30) -> str:
    """A long point value (a tensor's entries) cut after a whole entry: the tables show it all."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return (head[:head.rfind(",")] if "," in head else head) + ", …"


def _verdict(r: Result) -> str:
    c = r.check
    if c is None or c.all_agree is None:
        return ""
    return "agree" if c.all_agree else "DISAGREE: " + ", ".join(c.failed())


def shown(function):
    """``function``, returning its ``Result`` as a ``Shown``: the API's functions are wrapped."""
    @wraps(function)
    def call(*args, **kwargs):
        return Shown.of(function(*args, **kwargs))

    return call
