"""Rendering: what a person sees in a wide and a narrow terminal (Console(record=True))."""

from __future__ import annotations

import io
import re

from rich.console import Console

from jacli import jacobian, vjp
from jacli.render.table import identity, render


def text_at(result, width: int) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(render(result))
    return console.export_text()


def test_wide_terminal_puts_symbolic_and_numeric_side_by_side():
    r = vjp("2*x1+x2**2, x1**2+2*x2**3", at="1,2", v="1,2")
    out = text_at(r, 140)
    first_row = next(line for line in out.splitlines() if "2*x2" in line)
    assert "symbolic J" in out and "J at the point (autograd)" in out
    assert "24" in first_row or "4" in first_row  # the numeric panel shares the line
    assert "vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]" in out
    assert "x1.grad = tensor(6.)" in out and "x2.grad = tensor(52.)" in out
    assert "✓ autograd and SymPy agree" in out


def test_narrow_terminal_stacks_panels_without_losing_content():
    r = vjp("2*x1+x2**2, x1**2+2*x2**3", at="1,2", v="1,2")
    out = text_at(r, 40)
    lines = out.splitlines()
    sym = next(i for i, line in enumerate(lines) if "symbolic J" in line)
    num = next(i for i, line in enumerate(lines) if "J at the point" in line)
    assert num > sym  # stacked, not side by side
    assert all(len(line) <= 40 for line in lines)
    assert "6*x2**2" in out and "52" in out


def test_labels_with_brackets_survive_rich_markup():
    """a[0,1] must not be eaten as a markup tag."""
    r = jacobian("a @ w", at=["a=[[2,3],[1,2]]", "w=[[0],[0]]"])
    out = text_at(r, 160)
    for label in ("a[0,0]", "a[1,1]", "w[1,0]", "y[1,0]"):
        assert label in out


def test_exact_value_shown_where_it_differs_in_form():
    r = jacobian("x**2/3", at="x=1")
    out = text_at(r, 120)
    assert "0.666667 ≈ 2/3" in out  # ≈: the decimal shown is not 2/3


def test_large_matrix_is_elided_with_its_shape():
    r = jacobian("x**2", at="x=[" + ",".join(["1"] * 30) + "]")
    out = text_at(r, 200)
    assert "30×30" in out
    assert "…" in out and "⋮" in out
    assert "x[29]" in out and "x[12]" not in out


def test_identity_abbreviates_long_sums():
    r = vjp("x**2", at="x=[1,2,3,4,5,6]", v="1,1,1,1,1,1")
    assert identity(r).count("·") == 3 and "…" in identity(r)


def test_disagreement_is_shown_not_hidden():
    r = jacobian("x/x", at="x=0")
    out = text_at(r, 120)
    assert "✗ autograd and SymPy disagree" in out
    assert "0/0" in out  # the notice explains why


def test_formulas_only_without_a_point():
    out = text_at(jacobian("sin(x)*y, exp(x*y)"), 100)
    assert "y*cos(x)" in out and "x*exp(x*y)" in out
    assert "formulas only" in out


def test_heat_colours_by_magnitude_and_respects_no_color(monkeypatch):
    r = jacobian("x**3", at="x=[" + ",".join(str(i) for i in range(1, 11)) + "]")
    console = Console(record=True, width=200, color_system="truecolor")
    console.print(render(r))
    html = console.export_html()
    assert "color: #008000" in html  # the largest entries: green (red marks disagreements)
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()  # what a terminal receives (export_html keeps styles regardless)
    Console(file=out, force_terminal=True, width=200, color_system="truecolor").print(render(r))
    assert "\x1b[1m" in out.getvalue() and not re.search(r"\x1b\[[0-9;]*3[0-7]m",
                                                            out.getvalue())
