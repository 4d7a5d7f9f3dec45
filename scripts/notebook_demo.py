"""Regenerate docs/demo.ipynb (executed) and its screenshot docs/img/notebook.png from a real run.

    python scripts/notebook_demo.py

Needs the test extras (nbclient, nbformat, ipykernel) and nbconvert; the screenshot needs a
Chromium on PATH (``chromium``, as Debian names it) and is skipped, with a line saying so,
without one. The kernel is this interpreter. Nothing in the notebook is typed by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

DOCS = Path(__file__).resolve().parents[1] / "docs"
WINDOW = "1000,900"  # the screenshot's size in CSS pixels: the first two calls and their views

CELLS = [
    new_markdown_cell("# jacli in a notebook\n"
                      "A cell that ends in a `jacli` call shows the terminal's side-by-side "
                      "view: the symbolic Jacobian, J at the point, and vᵀJ with the sum "
                      "behind it."),
    new_code_cell("import jacli\n\n"
                  'jacli.vjp("2*x1+x2**2, x1**2+2*x2**3", at="1,2", v="1,2")'),
    new_code_cell('r = jacli.jacobian("sin(x)*y", at="x=0, y=2")\nr'),
    new_markdown_cell("It is still the plain `Result`: its fields, `to_dict()` (the JSON), "
                      "and a one-line `repr`."),
    new_code_cell("print(repr(r))\nr.jacobian.numeric, r.check.agree"),
    new_markdown_cell("`latex=True` also typesets the formulas with SymPy (`_repr_latex_`):"),
    new_code_cell("from IPython.display import Latex\n\n"
                  'Latex(jacli.grad("exp(x)*sin(y)", at="x=0, y=0", latex=True)._repr_latex_())'),
]


def execute(workdir: Path) -> nbformat.NotebookNode:
    """The demo notebook, run on a kernel that is this interpreter."""
    spec = workdir / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(workdir)  # our kernelspec first, whatever is installed
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    return nb


def screenshot(nb: nbformat.NotebookNode, workdir: Path, png: Path) -> None:
    """The notebook as nbconvert's HTML, photographed by headless Chromium."""
    from nbconvert import HTMLExporter

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium on PATH: screenshot skipped")
        return
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    page = workdir / "demo.html"
    page.write_text(body, "utf-8")
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", f"--window-size={WINDOW}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    print(f"wrote {png}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nb = execute(Path(tmp))
        nbformat.write(nb, DOCS / "demo.ipynb")
        print(f"wrote {DOCS / 'demo.ipynb'}")
        screenshot(nb, Path(tmp), DOCS / "img" / "notebook.png")


if __name__ == "__main__":
    main()
