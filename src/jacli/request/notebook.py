"""Notebooks as input: a Jupyter ``.ipynb`` document's code cells, in order, as one script.

Markdown cells and outputs are dropped; IPython magics and shell lines (``%matplotlib
inline``, ``!pip install``) become blank lines, so line numbers in messages still count the
joined code. Pure JSON reading: nothing in a cell is run here.
"""

from __future__ import annotations

import json


def notebook_code(text: str) -> str | None:
    """The code of notebook JSON ``text``, or ``None`` when ``text`` is not a notebook."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        return None
    lines: list[str] = []
    for cell in document["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        lines.extend(source.splitlines())
        lines.append("")
    return without_magics("\n".join(lines))


def without_magics(text: str) -> str:
    """IPython magics and shell lines (``%matplotlib inline``, ``!pip install torch``) as
    blank lines: never Python, so a pasted cell keeps its line numbers and nothing else."""
    if "%" not in text and "!" not in text:
        return text
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in text.split("\n"))
