"""The JSON renderer: ``Result.to_dict()`` as strict JSON (RFC 8259), nothing else."""

from __future__ import annotations

import json

from jacli.errors import JacliError
from jacli.result import SCHEMA, Result, strict


def render(result: Result) -> str:
    return json.dumps(result.to_dict(), allow_nan=False, indent=2, ensure_ascii=False)


def render_error(error: JacliError) -> str:
    """``{"schema": "jacli/1", "error": {...}}``: what scripts get instead of a result."""
    return json.dumps(strict({"schema": SCHEMA, "error": error.to_dict()}), allow_nan=False,
                      ensure_ascii=False)
