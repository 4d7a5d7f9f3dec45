"""What a user sees at 60, 80, 100 and 120 columns: no number, formula or label is ever cut
inside a cell; float32 never writes ``=`` between unequal numbers; the mode is one line; the
vᵀJ sum breaks only between terms; .grad headers and tensor reprs read right.

The oracle for every string is the same run's ``--json`` output.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from rich.console import Console

from jacli import jacobian, vjp
from jacli.render.format import num
from jacli.render.matrix import _numeric_grid, numeric_panel
from jacli.render.table import render

WIDTHS = [60, 80, 100, 120]

# (command args, why it is here). Most formulas fit a 60-column line; the tables built from
# them do not.
CASES = [
    (["jacobian", "sin(x1)*x2*x4*exp(x3), x1**2*x3*x4*log(x2)", "--at", "1.1,2.2,3.3,4.4"],
     "long formulas and 6-digit numbers (the issue's example)"),
    (["jacobian", "exp(-x1*x2)/(exp(-x1*x2) + x3**2), x1*x2*x3", "--at", "1.1,1,0.5"],
     "a long exact value: exp(-11/10)/(exp(-11/10) + 1/4)"),
    (["jacobian", "tanh(W @ x)", "--at", "W=[[1,2],[0.5,-1]]", "--at", "x=[0.1,-0.3]"],
     "bracketed labels W[0,1], W[1,0] that must stay distinct"),
    (["vjp", "x1*x2*x3, x1+x2+x3, x1+x2*x3", "--at", "1,2,3", "--v", "0.1,0.2,0.3"],
     "v and value columns (seed S15)"),
    (["check", "x**2", "--at", "x=10000.1", "--dtype", "float32"],
     "float32 rounding"),
]


def _run(cli, monkeypatch, width: int, args: list[str]) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    r = cli(*args)
    assert r.code == 0, r.err
    return r.out


def _unwrapped(out: str) -> str:
    """The output with panel borders, line breaks and spaces removed."""
    return "".join(line.strip().strip("│").replace(" ", "") for line in out.splitlines())


def _cut(out: str) -> list[str]:
    """Lines where "…" touches text: a cell cut by Rich (elision markers stand alone)."""
    return [line for line in out.splitlines() if re.search(r"[^\s│…]…|…[^\s│…]", line)]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args, why", CASES, ids=[c[1][:24] for c in CASES])
def test_every_number_formula_and_label_is_whole(cli, cli_json, monkeypatch, width, args, why):
    out = _run(cli, monkeypatch, width, args)
    d = cli_json(*args)
    assert all(len(line) <= width for line in out.splitlines()), out
    assert not _cut(out), _cut(out)
    J = d["jacobian"]
    for formula in (f for row in J["symbolic"] for f in row):
        if len(formula) <= width - 8:  # fits a line of the panel: on one line, whole
            assert formula in out, (formula, out)
        else:  # wider than the terminal: wrapped, but every character is there
            assert formula.replace(" ", "") in _unwrapped(out), (formula, out)
    for x in (x for row in J["numeric"] for x in row):
        assert num(x) in out, (num(x), out)
    for x, exact in zip(d["value"]["numeric"], d["value"]["exact"]):
        assert num(x) in out, (num(x), out)
        assert exact in out or "exact forms: --json or a wider terminal" in out, (exact, out)
    for label in d["inputs"] + d["outputs"]:
        assert re.search(re.escape(label) + r"(?![\d,\]])", out), label


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args, why", CASES, ids=[c[1][:24] for c in CASES])
def test_equals_sign_only_between_equal_numbers(cli, monkeypatch, width, args, why):
    out = _run(cli, monkeypatch, width, args)
    pairs = re.findall(r"(?<![\w/*.])(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?) = (-?\d+(?:/\d+)?)(?![\w.*(])",
                       out)
    for left, right in pairs:
        assert Fraction(left) == Fraction(right), (left, right)


def test_float32_says_approximately_and_shows_the_rounding_error(cli, cli_json, monkeypatch):
    args = ["check", "x**2", "--at", "x=10000.1", "--dtype", "float32"]
    out = _run(cli, monkeypatch, 80, args)
    d = cli_json(*args)
    x, exact = d["value"]["numeric"][0], d["value"]["exact"][0]
    error = float(Fraction(x) - Fraction(exact))
    assert error != 0
    assert f"{num(x)} ≈ {exact} (float32 rounding error {num(error)})" in out
    assert f"{num(x)} = " not in out
    wide = _run(cli, monkeypatch, 120, args)  # the table, with J's exact forms
    for x, exact in zip(d["jacobian"]["numeric"][0], d["jacobian"]["exact"][0]):
        assert Fraction(x) != Fraction(exact)  # float32 holds neither exactly
        assert f"{num(x)} ≈ {exact}" in wide and f"{num(x)} = " not in wide, wide


def test_too_many_entries_drop_whole_columns_and_say_how_to_see_them(cli, monkeypatch):
    out = _run(cli, monkeypatch, 80, ["jacobian", "sin(x)*exp(x)", "--at",
                                      "x=[" + ",".join(str(i / 10) for i in range(1, 11)) + "]"])
    assert "not shown: column(s)" in out and "--wrt" in out and "--json" in out
    assert not _cut(out)
    assert all(len(line) <= 80 for line in out.splitlines())
    shown = [c for c in (f"x[{j}]" for j in range(8)) if re.search(re.escape(c) + r"\s", out)]
    assert shown and "x[9]" in out  # some columns kept, the rest named in the note


def test_a_wide_terminal_keeps_the_tables(cli, monkeypatch):
    out = _run(cli, monkeypatch, 120, CASES[0][0])
    assert "symbolic J = ∂y/∂x (SymPy)" in out and "J at the point (autograd)" in out
    assert "no room for a table" not in out


def test_a_narrow_terminal_lists_entries_whole(cli, monkeypatch):
    out = _run(cli, monkeypatch, 60, CASES[0][0])
    assert re.search(r"dy\[0\]/dx1 = x2\*x4\*exp\(x3\)\*cos\(x1\) ≈ 119\.046", out), out


def _text(renderable, width: int) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_mode_is_one_line_and_explain_gives_the_reasoning():
    r = jacobian("sin(x1)*x2, 2*x1*x2", at="1,2")  # a literal: the reverse-mode rule
    short = _text(render(r), 100)
    modes = [line for line in short.splitlines() if line.startswith("mode:")]
    assert len(modes) == 1 and "--explain" in modes[0]
    assert "reverse" in modes[0] and "VJP" in modes[0]
    nxt = short.splitlines()[short.splitlines().index(modes[0]) + 1]
    assert nxt.startswith("✓")  # the mode text does not spill onto a second line
    full = " ".join(_text(render(r, explain=True), 100).split())
    assert " ".join(r.structure["mode"].split()) in full


def test_vjp_sum_breaks_between_terms_and_keeps_each_vector_whole():
    r = vjp("x1*x2*x3, x1+x2+x3, x1+x2*x3", at="1,2,3", v="0.1,0.2,0.3")
    for width in WIDTHS:
        out = _text(render(r), width)
        for vector in ("[6, 3, 2]", "[1, 1, 1]", "[1, 3, 2]", "[11/10, 7/5, 1]"):
            assert vector in out, (width, out)
        sums = [line.strip("│ ") for line in out.splitlines() if "·[" in line or "= [11" in line]
        assert all(line.startswith(("vᵀJ =", "+", "=")) for line in sums), sums


def test_grad_header_names_print_x_only_when_x_is_the_variable():
    many = _text(render(vjp("x1*x2, x1+x2", at="1,2", v="1,1")), 100)
    assert "print(x.grad)" not in many and "each variable's .grad" in many
    one = _text(render(vjp("a**2", at="a=[1,2]", v="1,1")), 100)
    assert "print(a.grad) shows:" in one


def test_tensor_repr_continuation_lines_align_under_the_first():
    r = vjp("W @ x", at=["W=[[1,2],[3,4]]", "x=[1,2]"], v="1,2")
    lines = _text(render(r), 100).splitlines()
    first = next(i for i, line in enumerate(lines) if "W.grad = tensor([[" in line)
    assert lines[first + 1].index("[") == lines[first].index("[[") + 1


def test_v_and_value_columns_differ_in_style_and_are_separated():
    r = vjp("x1*x2*x3, x1+x2+x3, x1+x2*x3", at="1,2,3", v="0.1,0.2,0.3")
    styles = [style for _, style, _ in _numeric_grid(r).extras]
    assert len(styles) == 2 and styles[0] != styles[1]
    out = _text(render(r), 100)
    row = next(line for line in out.splitlines() if "0.1 = 1/10" in line)
    assert re.search(r"0\.1 = 1/10 │\s+6 │", row), row


def test_heat_scale_is_not_red_and_still_varies_with_magnitude():
    r = jacobian("x**3", at="x=[" + ",".join(str(i) for i in range(1, 11)) + "]")
    console = Console(record=True, width=200, color_system="truecolor")
    console.print(numeric_panel(r))
    html = console.export_html().lower()
    colours = set(re.findall(r"\.r\d+ \{color: (#[0-9a-f]{6})", html))
    assert not colours & {"#800000", "#ff0000"}  # red marks disagreements only
    assert len(colours) >= 2  # entries of different magnitude look different


def test_a_vector_too_wide_for_exact_forms_falls_back_to_whole_float_vectors():
    r = vjp("tanh(W @ x)", at=["W=[[1,2,3,4],[0.5,0.25,-1,2],[1,1,1,1],[-2,0.1,0.3,0.7]]",
                               "x=[0.1,0.2,-0.3,0.4]"], v="1,2,3,4")
    out = _text(render(r), 80)
    sums = [line.strip("│ ") for line in out.splitlines() if "·[" in line or "≈ [" in line]
    assert sums and sums[0].startswith("vᵀJ ≈")  # floats, said to be rounded
    assert all(line.count("[") == line.count("]") for line in sums), sums
    assert num(r.vjp.numeric[-1]) in sums[-1]  # the answer's last entry, whole
