"""SVG: the table view (``render/table.py``) as a terminal screenshot, by Rich's exporter.

Rich's SVG template names a web font on a CDN; that ``url(…)`` is removed, so the picture
fetches nothing (the font is used when installed locally, a monospace one otherwise).
"""

from __future__ import annotations

import io
import re

from jacli.render.table import render as table
from jacli.result import Result

WIDTH = 120  # columns of the recorded terminal: wide enough for the side-by-side panels


def render(result: Result) -> str:
    from rich.console import Console
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME

    console = Console(record=True, width=WIDTH, file=io.StringIO(), highlight=False,
                      soft_wrap=False, force_terminal=True, color_system="truecolor")
    console.print(table(result))
    svg = console.export_svg(title=f"jacli {result.command}", theme=DEFAULT_TERMINAL_THEME)
    return offline(svg)


def offline(svg: str) -> str:
    """Drop every remote ``url(http…) format(…)`` source from the ``@font-face`` rules."""
    return re.sub(r',\s*url\("https?://[^"]*"\)\s*format\("[^"]*"\)', "", svg)
