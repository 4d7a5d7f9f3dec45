"""``--format html`` and ``--format svg``: the MathML walker, the page's structure, the heat
map, and the page loaded in a real headless browser (Chromium)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser

import pytest

import jacli
from jacli.render.mathml import to_mathml
from jacli.render.svgmap import MAX_CELLS, colour, heatmap

SEED = ("vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2")
TENSOR = ("vjp", "b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + a[0,0]; "
          "2*b + sin(w)", "--at", "a=[[2,4]]", "--at", "w=[[0,1]]", "--v", "[[1,2]]")
# Problems whose formulas cover what SymPy's printer writes: fractions, powers, negative
# powers, calls, nested calls, tensor elements, constants (E), two-argument calls.
PROBLEMS = [
    ("jacobian", "sin(x1)*exp(x2)/x1, sqrt(x1**2+x2**2), log(x1)-tanh(x2)", "1,2"),
    ("jacobian", "sigmoid(x1*x2), x1**(-2), x1**0.5, 1/(1+x1**2), atan(x1/x2), x1**x2", "1,2"),
    ("jacobian", "softplus(x1), x1*x2*x3 - x2/(x1 - x3)**3, (x1 - x2)*(x2 + x3)", "1,2,4"),
    ("grad", "sum(a**2 * a[0,1] - a/3)", ["a=[[1,2],[3,4]]"]),
    ("jacobian", "sin(x1)*(x2+x3) - x1*(x2 - x3*(x1+x2)), x1/(x2-(x1+x3))", "1,2,4"),
]


@pytest.fixture(scope="module")
def formulas():
    """Every formula string jacli produced for ``PROBLEMS`` (symbolic J and exact values)."""
    found = set()
    for command, source, at in PROBLEMS:
        r = getattr(jacli, command)(source, at=at)
        J = r.jacobian
        for rows in (J.symbolic, J.exact):
            found.update(x for row in rows for x in row)
    return sorted(found)


# -- the MathML walker -------------------------------------------------------------------------
_MO = {"−": "-", "·": "*", "\u2062": "*", "\u2061": "", ",": ","}
_MI = {"π": "pi", "e": "E"}


def _python(node: ET.Element) -> str:
    """MathML back to a Python expression, parenthesising exactly where MathML draws a bar,
    a superscript or a root; so a walker that drops needed parentheses changes the value."""
    tag, kids = node.tag, list(node)
    if tag in ("math", "mrow"):
        return "".join(_python(k) for k in kids)
    if tag == "mn":
        return node.text
    if tag == "mi":
        return _MI.get(node.text, node.text)
    if tag == "mo":
        return _MO.get(node.text, node.text)
    if tag == "mfrac":
        return f"(({_python(kids[0])})/({_python(kids[1])}))"
    if tag == "msup":
        return f"(({_python(kids[0])})**({_python(kids[1])}))"
    if tag == "msubsup":
        return f"(({_sub(kids[0], kids[1])})**({_python(kids[2])}))"
    if tag == "msqrt":
        return f"sqrt({''.join(_python(k) for k in kids)})"
    if tag == "msub":
        return _sub(*kids)
    raise AssertionError(f"unexpected MathML element {tag}")


def _sub(base: ET.Element, sub: ET.Element) -> str:
    """x with subscript 1 is the name x1; a with subscript 0,1 is the element a[0,1]."""
    base, sub = _python(base), _python(sub)
    return f"{base}[{sub}]" if "," in sub else base + sub


def _namespace() -> dict:
    import numpy as np

    funcs = {name: getattr(math, name) for name in ("sin", "cos", "tan", "exp", "log", "sqrt",
                                                    "atan", "tanh", "pi", "e")}
    return {**funcs, "E": math.e, "x1": 0.7, "x2": 1.3, "x3": 2.9,
            "a": np.array([[0.3, 1.1], [1.7, 2.3]])}


def _xml(mathml: str) -> ET.Element:
    return ET.fromstring(mathml.replace("&#x2062;", "\u2062").replace("&#x2061;", "\u2061"))


def test_walker_typesets_every_formula_jacli_produced(formulas):
    assert len(formulas) > 30
    for text in formulas:
        out = to_mathml(text, {"x1", "x2", "x3", "a"})
        assert out.startswith("<math"), (text, out)
        _xml(out)  # well-formed


def test_walker_keeps_the_value_of_every_formula(formulas):
    """Round trip: the typeset formula, read back, has the original's value (parentheses,
    fractions, powers and subscripts all in the right places)."""
    ns = _namespace()
    for text in formulas:
        back = _python(_xml(to_mathml(text, {"x1", "x2", "x3", "a"})))
        want = eval(text, {}, dict(ns))  # our own SymPy strings, never user text
        assert math.isclose(eval(back, {}, dict(ns)), want, rel_tol=1e-12), (text, back)


@pytest.mark.parametrize("text, pieces", [
    ("2*x2", ["<mn>2</mn>", "&#x2062;", "<msub><mi>x</mi><mn>2</mn></msub>"]),
    ("6*x2**2", ["<msubsup><mi>x</mi><mn>2</mn><mrow><mn>2</mn></mrow></msubsup>"]),
    ("exp(x1)**2", ["<msup><mrow><mrow><mi>exp</mi>"]),
    ("-x1/(x2 + 1)", ["<mfrac><mrow><mo>−</mo>"]),
    ("12*a[0,1]**2 + 2", ["<msubsup><mi>a</mi><mrow><mn>0</mn><mo>,</mo><mn>1</mn></mrow>"]),
    ("4*a[1,0]", ["<msub><mi>a</mi><mrow><mn>1</mn><mo>,</mo><mn>0</mn></mrow></msub>"]),
    ("sqrt(x1**2 + x2**2)", ["<msqrt>"]),
    ("a - (b + c)", ["<mo>−</mo><mrow><mo>(</mo><mi>b</mi><mo>+</mo>"]),
    ("E/(1 + E)", ["<mi>e</mi>"]),
    ("Abs(x1)", ["<mo>|</mo>"]),
])
def test_walker_structure(text, pieces):
    out = to_mathml(text)
    for piece in pieces:
        assert piece in out, (text, out)


def test_walker_falls_back_to_escaped_code():
    for text in ("Piecewise((x, x > 0), (0, True))", "x <script>&", "f(x, k=1)", "x[i]"):
        out = to_mathml(text)
        assert out.startswith('<code class="formula">') and "<script>" not in out, out
    assert "&lt;script&gt;&amp;" in to_mathml("x <script>&")


def test_walker_user_variable_named_like_a_constant():
    assert "<mi>E</mi>" in to_mathml("2*E", {"E"}) and "<mi>e</mi>" in to_mathml("2*E")


# -- the heat map ------------------------------------------------------------------------------
def _cells(svg: str) -> list[str]:
    """The fill of each cell of the map (cells carry a tooltip; the legend's swatches don't)."""
    return re.findall(r'<rect [^>]*fill="([^"]+)"[^>]*><title>', svg)


def test_heatmap_zero_is_hatched_small_is_not_and_scale_is_centred():
    svg = heatmap([[0.0, 1e-12], [-3.0, 3.0]], ["y[0]", "y[1]"], ["x1", "x2"])
    fills = _cells(svg)
    assert fills[0] == "url(#zero-j)" and fills[1] != "url(#zero-j)"
    assert fills[1] == "rgb(255,255,255)"  # 1e-12 on a ±3 scale: white, yet not hatched
    assert fills[2] == colour(-3.0, 3.0) == "rgb(33,102,172)"  # the scale's blue end
    assert fills[3] == "rgb(178,24,43)" and colour(0.0, 3.0) == "rgb(255,255,255)"
    assert "y[1]" in svg and "x2" in svg and "downsampled" not in svg


def test_heatmap_downsamples_honestly():
    m, n = 100, 3
    matrix = [[0.0] * n for _ in range(m)]
    matrix[57][1] = -5.0  # one entry in a block of zeros must still show
    svg = heatmap(matrix, [f"y[{i}]" for i in range(m)], ["x1", "x2", "x3"])
    rects = _cells(svg)
    blocks = math.ceil(m / math.ceil(m / MAX_CELLS))
    assert len(rects) == blocks * n < m * n
    assert "downsampled: each cell is a block of 3×1 entries" in svg
    assert rects.count(colour(-5.0, 5.0)) == 1 and rects.count("url(#zero-j)") == len(rects) - 1


# -- the page ----------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects every attribute, tag and the JSON script's text."""

    def __init__(self):
        super().__init__()
        self.attrs, self.tags, self.json, self._in_json = [], [], "", False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        self._in_json = tag == "script" and ("id", "jacli-result") in attrs

    def handle_endtag(self, tag):
        self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.json += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_page_is_self_contained_and_embeds_the_json(cli):
    run = cli(*SEED, "--format", "html")
    assert run.code == 0 and run.err == ""
    page = _parse(run.out)
    for name, value in page.attrs:
        if name in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", value or ""), (name, value)
    assert "link" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", run.out)  # no CSS fetches either
    assert page.tags.count("script") == 2 and page.tags.count("math") >= 4
    assert json.loads(page.json) == cli(*SEED, "--json").json


def test_page_shows_the_numbers_and_the_sum(cli):
    out = cli(*SEED, "--format", "html").out
    assert "vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]" in out
    assert "x1.grad = tensor(6.)" in out and "x2.grad = tensor(52.)" in out
    assert "✓ autograd and SymPy agree" in out and "<svg" in out and "<figcaption>" in out
    cells = re.findall(r"<td>([^<]*)</td>", out)
    assert ["2", "4", "2", "24"] == cells[:4]  # J at the point, row by row
    assert re.search(r'<td class="extra">17</td><td class="extra">2</td>', out)  # y₁, v₁


def test_page_escapes_labels_and_source(cli, tmp_path):
    src = tmp_path / "f.py"
    src.write_text("y = a * 2  # keep </script> & <b>\ny[0,1] + a[0,0]**2\n")
    out = cli("grad", "-f", str(src), "--at", "a=[[1,2]]", "--format", "html").out
    assert "&lt;/script&gt; &amp; &lt;b&gt;" in out and "<b>" not in out
    assert out.count("</script>") == 2  # the guard's and the JSON's own: nothing closed early
    assert "<th>a[0,1]</th>" in out
    assert json.loads(_parse(out).json)["inputs"] == ["a[0,0]", "a[0,1]"]


def test_page_for_hessian_jvp_and_check(cli):
    h = cli("hessian", "x1**2*x2 + sin(x1*x2)", "--at", "1,2", "--format", "html")
    assert h.code == 0 and "The Hessian" in h.out and 'id="zero-h"' in h.out
    assert "0.36281 ≈ <math" in h.out  # H at the point with its exact value typeset
    u = cli("jvp", "x1*x2, x1+x2", "--at", "1,2", "--u", "1,0", "--format", "html")
    assert u.code == 0 and "J u = [2, 1]" in u.out
    c = cli("check", "x1*x2, x1+x2", "--at", "1,2", "--format", "html")
    assert c.code == 0 and "finite differences agree" in c.out


def test_graph_refuses_html(cli):
    run = cli("graph", "x*2", "--format", "html")
    assert run.code == 2 and "html" in run.err and run.out == ""


def test_svg_is_the_table_view_without_remote_fonts(cli):
    run = cli(*SEED, "--format", "svg")
    assert run.code == 0 and run.out.startswith("<svg")
    ET.fromstring(run.out)  # well-formed
    assert not re.search(r'url\("?https?:', run.out)
    assert "[6,&#160;52]" in run.out or "[6, 52]" in run.out.replace("&#160;", " ")


# -- in a real browser -------------------------------------------------------------------------
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary on PATH (apt-get install chromium)")


def _browse(page, tmp_path, *flags):
    """Run headless Chromium on the file ``page``; returns (stdout, stderr)."""
    done = subprocess.run([BROWSER, "--headless", "--disable-gpu", "--no-sandbox",
                           "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
                           f"--user-data-dir={tmp_path / 'profile'}", *flags,
                           page.as_uri()], capture_output=True, text=True, timeout=90)
    return done.stdout, done.stderr


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@needs_browser
def test_page_in_headless_chromium(cli, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(cli(*SEED, "--format", "html").out, encoding="utf-8")
    dom, err = _browse(page, tmp_path, "--dump-dom")
    assert _console_errors(err) == []
    assert re.search(r'<pre id="jacli-errors"[^>]*></pre>', dom)  # the page saw no error
    assert 'data-json-command="vjp"' in dom  # its script ran and parsed the embedded JSON
    assert "vᵀJ = 1·[2, 4] + 2·[2, 24] = [6, 52]" in dom and "<math" in dom
    shown = re.search(r'<pre id="jacli-json">(.*?)</pre>', dom, re.S)[1]
    assert json.loads(unescape(shown))["vjp"]["numeric"] == [6.0, 52.0]  # filled by the page
    shot = tmp_path / "page.png"
    _browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1100,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


@needs_browser
def test_browser_check_sees_a_script_error(cli, tmp_path):
    """The detector works: the same page with a broken script is caught twice over."""
    page = tmp_path / "broken.html"
    text = cli(*SEED, "--format", "html").out
    page.write_text(text.replace("</body>", "<script>notDefined()</script></body>"))
    dom, err = _browse(page, tmp_path, "--dump-dom")
    assert "notDefined" in re.search(r'<pre id="jacli-errors"[^>]*>(.*?)</pre>', dom, re.S)[1]
    assert any("notDefined" in line for line in _console_errors(err))
