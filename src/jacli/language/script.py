"""Which texts are scripts: programs of statements, which the script machine runs when the
straight-line language refuses them. A single expression or a comma list of outputs never
is: its refusal stands as the parser gave it."""

from __future__ import annotations

import ast
import warnings


def is_script(text: str) -> bool:
    """True for a program of several statements or of one non-expression statement."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            body = ast.parse(text.replace("^", "**"), mode="exec").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return len(body) > 1 or (len(body) == 1 and not isinstance(body[0], ast.Expr))
