"""``python -m jacli``."""

from jacli.cli import run

run()
