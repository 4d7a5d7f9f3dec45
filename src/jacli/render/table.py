"""The Rich view: symbolic J, J at the point, v and vᵀJ side by side, and the agreement line.

``render(result)`` returns a renderable; it prints nothing. Every label and formula is a
``Text`` object, never markup, because labels contain brackets (``a[0,1]``) that Rich would
silently swallow as markup tags. Panels sit side by side when the terminal is wide enough
(stacked otherwise). Nothing is cut to fit: ``render/fit.py`` measures each table against the
console's width at print time and, where it does not fit, lists the entries one per line or
drops whole columns and says which; ``render/matrix.py`` builds the J tables.
"""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from jacli.render.fit import Fit, Phrases, fit_grid, side_by_side, wrap_pieces
from jacli.render.format import MAX_COLS, MAX_TERMS, definitions, num, vector, with_exact
from jacli.render.matrix import grid, jacobian_view
from jacli.render.timeline import timeline
from jacli.request.command import Command as C
from jacli.result import Result
from jacli.result.labels import dims_text


def render(result: Result, *, explain: bool = False) -> RenderableType:
    """The whole view. ``explain`` writes out why the AD mode was chosen (one line otherwise)."""
    parts: list[RenderableType] = [header(result)]
    events = timeline(result)
    if events is not None:
        parts.append(events)
    if result.jacobian is not None:
        parts.extend(definitions_lines(result))
        parts.append(jacobian_view(result))
    if result.vjp is not None:
        parts.append(vjp_panel(result))
    if result.jvp is not None:
        parts.append(jvp_panel(result))
    if result.hessian is not None:
        parts.append(hessian_panels(result))
    if result.structure and "rank" in result.structure and result.command in (C.jacobian, C.check):
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
    t.append(f" · f: R^{n} → R^{m}" + (f" (output {r.output_label} is {dims_text(r.output_shape)})"
                                      if len(r.output_shape) > 1 else ""))
    t.append(f"\nvariables ({r.order}): ")
    t.append(", ".join(f"{v.name}" + (f" ({dims_text(v.shape)})" if v.shape else "")
                       for v in r.variables), style="cyan")
    if r.point_text:
        t.append("\nat ")
        t.append(", ".join(f"{k} = {_elided(v)}" for k, v in r.point_text.items()),
                 style="cyan")
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


def _elided(text: str, limit: int = 160) -> str:
    """A point's value as the header shows it: whole when short, else its start and a
    pointer to the JSON (a 256×256 weight matrix is not a header)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(", ", 0, limit)
    return text[:cut if cut > 0 else limit] + ", …  (all values: --json)"


def definitions_lines(r: Result) -> list[Text]:
    """``where s1 = exp(x[0]) + exp(x[1])``, once above the J panels that use the names."""
    lines = []
    for k, (name, formula) in enumerate(definitions(r.jacobian)):
        line = Text("where " if k == 0 else "      ", style="dim")
        line.append(name, style="bold")
        line.append(f" = {formula}")
        lines.append(line)
    return lines


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
        if r.jacobian is None:  # a script's event PyTorch ran but jacli could not replay
            numbers = [num(x) for x in r.vjp.numeric or []]
            return wrap_pieces("vᵀJ =", [vector(numbers)], width, style="bold")
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
        Text(f"output {r.output_label} ({dims_text(r.output_shape)}), v = "
             f"{nested(vj.v_exact, r.output_shape)} from {vj.v_source}", style="dim"),
        _identity_fit(r)]
    if vj.grad_repr:
        lines.append(Text(_grad_header(r.output_label, list(vj.grad_repr)), style="dim"))
        for name, text in vj.grad_repr.items():
            none = "   (PyTorch: None — not in the output's graph)" if name in vj.grad_none else ""
            lines.append(Text(hang(f"{name}.grad = ", text) + none))
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


def hang(prefix: str, text: str) -> str:
    """``prefix`` + a multi-line repr, its continuation lines shifted right by the prefix so
    that they stay aligned under the first line (as ``print`` would align them)."""
    pad = "\n" + " " * len(prefix)
    return prefix + pad.join(text.split("\n"))


def nested(flat: list[str], shape: tuple[int, ...]) -> str:
    """``[[1, 2]]``: v in the output's shape, as the user would write it (elided if long)."""
    if len(flat) > MAX_COLS:
        return vector(flat)
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    return "[" + ", ".join(nested(flat[i * step:(i + 1) * step], shape[1:])
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
        panels.append(fit_grid(grid(r, lambda i, j: Text(H.symbolic[i][j]), rows=r.inputs,
                                     entry=entry), Text("symbolic Hessian ∂²y/∂xᵢ∂xⱼ")))
    if H.numeric is not None or H.exact is not None:
        def cell(i, j):
            return Text(with_exact(H.numeric[i][j] if H.numeric else None,
                                   H.exact[i][j] if H.exact else None, dtype=r.dtype))
        panels.append(fit_grid(grid(r, cell, rows=r.inputs, entry=entry),
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
    if fd["agree"] is None:
        return Text("finite differences compared no entry: autograd or the difference quotient "
                    "is not finite at this point", style="yellow")
    if fd["agree"] and fd.get("explained"):  # the rest differ only by a gradient stop
        return Phrases(["✓ finite differences agree with autograd",
                        f"except at the gradient stop ({', '.join(fd['explained'][:4])}):",
                        "expected, see the notes"], style="green")
    if fd["agree"]:
        return Phrases(["✓ finite differences agree with autograd",
                        f"(max |Δ| = {num(fd['max_abs_diff'])};", f"{fd['tolerance']})"],
                       style="green")
    return Text(f"✗ finite differences disagree with autograd on "
                f"{', '.join(fd['disagreements'][:4])}", style="bold red")


def check_line(r: Result) -> Text:
    c = r.check
    if c is None:
        if r.value_numeric is None:
            return Text("formulas only: give --at to evaluate and check them", style="dim")
        return Text("not checked: the symbolic side was skipped", style="yellow")
    ulps = [f"worst {num(c.max_ulps)} ulp in float32)"] if c.max_ulps is not None else []
    if c.agree:
        return Phrases([f"✓ autograd and SymPy agree on all {c.compared} entries",
                        f"(max |Δ| = {num(c.max_abs_diff)};",
                        c.tolerance + (";" if ulps else ")"), *ulps], style="green")
    if c.agree is None:
        return Text("not compared: no exact value could be evaluated", style="yellow")
    return Text(f"✗ autograd and SymPy disagree on {len(c.disagreements)} of {c.compared} "
                f"entries, first {c.worst}", style="bold red")
