"""The command line: the Typer app (``app``), the console script (``console``: errors to exit
codes), the one runner (source → ``Problem`` → compute → render → exit code) and
``jacli batch``. The only package that prints and exits.

Owns option parsing and error-to-exit-code conversion; never does maths, and never imports
torch or SymPy at module top (``--help`` and ``--version`` must stay fast).
"""

from jacli.cli.app import app
from jacli.cli.console import main, run

__all__ = ["app", "main", "run"]
