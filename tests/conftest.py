"""Shared fixtures: run the real CLI entry point in-process and capture what a user sees.

Every JSON document a run writes to stdout (one object, or JSON Lines: batch answers, the
many-points stream) is validated against the published schema (``jacli schema``), so each
test that produces JSON also checks the contract.
"""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from jacli.cli import main
from jacli.result.schema import part

ROOT = Path(__file__).resolve().parents[1]

# JACLI_TEST_DEVICE=cuda re-runs every CLI test of the suite on a GPU (a check for machines
# that have one; CI has none). Tests that assert CPU-only facts then fail, by design.
_DEVICE = os.environ.get("JACLI_TEST_DEVICE")
_NUMERIC = {"jacobian", "vjp", "grad", "jvp", "hessian", "check", "graph"}


def pytest_report_header(config):
    return f"jacli CLI tests on device: {_DEVICE or 'as given (cpu by default)'}"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self):
        document = json.loads(self.out)  # strict: json.loads refuses nothing we emit, see below
        validate(document)  # the fixture validated stdout already; this names the culprit
        return document


def _strict_loads(text: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


_VALIDATORS: dict[str, Draft202012Validator] = {}


def kind_of(document) -> str:
    """Which part of the schema a JSON document of jacli's claims to be."""
    if not isinstance(document, dict) or "error" in document:
        return "error"
    if "index" in document and "schema" not in document:
        return "many_row"
    return "many_header" if "points" in document else "result"


def validate(document, kind: str | None = None) -> None:
    """Assert that ``document`` matches the published schema's part ``kind`` (by default the
    part it claims to be: the message then names the key at fault, not a failed ``oneOf``)."""
    kind = kind or kind_of(document)
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = Draft202012Validator(part(kind))
    error = best_match(_VALIDATORS[kind].iter_errors(document))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        pytest.fail(f"JSON output breaks the published schema ({kind}) at {where}: "
                    f"{error.message[:300]}", pytrace=False)


def validate_output(out: str) -> None:
    """Validate stdout if it is JSON: one document, or JSON Lines (many points: the header
    first, then rows or a final error; batch: one answer per line). Other formats pass."""
    if not out.lstrip().startswith("{"):
        return
    try:
        documents = [_strict_loads(out)]
    except ValueError:
        try:
            documents = [_strict_loads(line) for line in out.splitlines() if line.strip()]
        except ValueError:
            return  # not JSON (or not strict JSON: the tests that care say so themselves)
    kinds = [kind_of(d) for d in documents]
    for i, (document, kind) in enumerate(zip(documents, kinds)):
        if kind == "many_row":
            assert "many_header" in kinds[:i], "a many-points row before the header"
        validate(document, kind)


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli("vjp", "x**2", "--at", "1", stdin=None)`` -> Run(code, out, err)."""

    def run(*argv: str, stdin: bytes | None = None) -> Run:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        if _DEVICE and argv and argv[0] in _NUMERIC and "--device" not in argv:
            argv = (argv[0], "--device", _DEVICE, *argv[1:])
        code = main(list(argv))
        captured = capsys.readouterr()
        validate_output(captured.out)
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli_json(cli):
    """Run with --json, assert success, return the parsed (strict) JSON."""

    def run(*argv: str, stdin: bytes | None = None, code: int = 0):
        r = cli(*argv, "--json", stdin=stdin)
        assert r.code == code, (r.code, r.err)
        return _strict_loads(r.out)

    return run
