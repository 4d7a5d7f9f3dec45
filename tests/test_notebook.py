"""The API's results display themselves in Jupyter (``jacli.display.Shown``).

The unit tests call the ``_repr_*_`` methods directly; one test runs a real notebook on a real
IPython kernel (nbclient) and reads back what the front end would show. The kernel is this
interpreter, named in a kernelspec written to a temporary folder: nothing installed globally
is assumed, so it runs the same in a fresh virtualenv (``pip install -e ".[test]"``).
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import fields, replace

import pytest

import jacli
from jacli.display import Shown, summary
from jacli.result import Result

VJP = ("2*x1+x2**2, x1**2+2*x2**3", "1,2", "1,2")


@pytest.fixture(scope="module")
def seed():
    """The seed example: vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]."""
    source, at, v = VJP
    return jacli.vjp(source, at=at, v=v)


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?", text)


# --- without a kernel ------------------------------------------------------------------------

def test_the_api_returns_a_result_that_shows_itself(seed):
    assert isinstance(seed, Result) and isinstance(seed, Shown)
    plain = Result(**{f.name: getattr(seed, f.name) for f in fields(Result)})
    assert plain == seed and seed == plain  # the same Result, whichever side asks
    assert plain.to_dict() == seed.to_dict()
    assert replace(seed, notices=("x",)) != plain


def test_compute_returns_a_shown_result_too():
    r = jacli.compute(jacli.Problem(source="x*y", command="jacobian", at=("2,3",)))
    assert isinstance(r, Shown)
    assert r.jacobian.numeric == [[3.0, 2.0]]


def test_the_plain_repr_is_one_short_line(seed):
    text = repr(seed)
    assert text == "<jacli vjp: vᵀJ = [6, 52] at x1=1, x2=2 (agree)>"
    assert "\n" not in text and len(text) < 120


def test_the_repr_pretty_hook_prints_the_short_repr(seed):
    IPython = pytest.importorskip("IPython.lib.pretty", reason="IPython comes with ipykernel")
    assert IPython.pretty(seed) == repr(seed)


def test_the_repr_names_a_big_jacobian_by_its_shape():
    r = jacli.jacobian("x**2", at="x=[1,2,3,4,5]")
    assert repr(r) == "<jacli jacobian: J = 5×5 matrix at x=[1, 2, 3, 4, 5] (agree)>"
    small = jacli.jacobian("sin(x)*y", at="x=0, y=2")
    assert repr(small) == "<jacli jacobian: J = [[2, 0]] at x=0, y=2 (agree)>"
    assert repr(jacli.jacobian("sin(x)*y")) == "<jacli jacobian: J = [[y*cos(x), sin(x)]]>"


def test_the_repr_gives_autograds_floats_and_cuts_a_long_point():
    r = jacli.compute(jacli.Problem("sin(x1)*x2, x1**2", command="jvp", at=("1,2",), u="1,0"))
    assert summary(r) == f"jacli jvp: J u = [{2 * math.cos(1):.6g}, 2] at x1=1, x2=2 (agree)"
    long = jacli.vjp("x*y", at="x=[1,2,3,4,5,6,7,8,9,10,11,12,13], y=2", v=[1] * 13)
    assert summary(long) == \
        "jacli vjp: vᵀJ = 14 entries at x=[1, 2, 3, 4, 5, 6, 7, 8, 9, …, y=2 (agree)"


def test_the_repr_says_a_disagreement():
    r = jacli.grad("x**2 + y", at="x=3, y=1")
    assert summary(r) == "jacli grad: ∇ = [6, 1] at x=3, y=1 (agree)"
    bad = replace(r.check, agree=False, all_agree=False)
    assert summary(replace(r, check=bad)).endswith("(DISAGREE: sympy)")


def test_html_holds_the_tables_and_numbers(seed):
    html = seed._repr_html_()
    assert html.startswith("<div") and html.rstrip().endswith("</div>")
    assert "<html" not in html and "<script" not in html  # a fragment for a cell, no code
    text = re.sub(r"<[^>]+>", "", html)
    for title in ("symbolic J", "J at the point (autograd)", "vᵀJ"):
        assert title in text
    assert "[6, 52]" in text and "1·[2, 4] + 2·[2, 24]" in text


def test_markdown_holds_the_tables(seed):
    md = seed._repr_markdown_()
    assert "| `y[0]` |" in md and "[6, 52]" in md


def test_latex_only_when_asked_for(seed):
    assert seed._repr_latex_() is None  # the default call skips SymPy's LaTeX printer
    r = jacli.jacobian("sin(x)*y", at="x=0, y=2", latex=True)
    tex = r._repr_latex_()
    assert tex.startswith("$$J =") and r"\cos{\left(x \right)}" in tex
    assert tex.count("$$") == 4  # two displayed matrices: the formulas and their values


# --- on a real kernel --------------------------------------------------------------------------

def _kernel_dir(tmp_path) -> str:
    """A kernelspec for this interpreter, in a temporary folder jupyter will search first."""
    spec = tmp_path / "kernels" / "jacli-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "jacli test", "language": "python"}))
    return str(tmp_path)


def test_a_notebook_shows_the_side_by_side_view(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="pip install -e '.[test]'")
    monkeypatch.setenv("JUPYTER_PATH", _kernel_dir(tmp_path))
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))  # no home folder state, in or out
    source, at, v = VJP
    cells = ["import jacli",
             f"jacli.vjp({source!r}, at={at!r}, v={v!r})",
             'jacli.jacobian("sin(x)*y", at="x=0, y=2")']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="jacli-test", timeout=120).execute()

    assert nb.cells[0].outputs == []  # importing prints nothing
    vjp_out, jac_out = (c.outputs for c in nb.cells[1:])
    for outputs in (vjp_out, jac_out):
        assert [o.output_type for o in outputs] == ["execute_result"]  # Rich printed nowhere
    vjp_data, jac_data = vjp_out[0].data, jac_out[0].data
    assert vjp_data["text/plain"] == "<jacli vjp: vᵀJ = [6, 52] at x1=1, x2=2 (agree)>"
    html = re.sub(r"<[^>]+>", "", vjp_data["text/html"])
    assert "[6, 52]" in html and "symbolic J" in html and "J at the point (autograd)" in html
    assert "[6, 52]" in vjp_data["text/markdown"]
    assert "text/latex" not in vjp_data  # not asked for
    assert jac_data["text/plain"] == "<jacli jacobian: J = [[2, 0]] at x=0, y=2 (agree)>"
    text = re.sub(r"<[^>]+>", "", jac_data["text/html"])
    assert "y*cos(x)" in text and "sin(x)" in text
    assert _numbers(jac_data["text/markdown"].split("Jacobian at the point:")[1])[:2] == ["2", "0"]
