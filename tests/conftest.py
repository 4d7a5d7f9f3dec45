"""Shared fixtures: run the real CLI entry point in-process and capture what a user sees."""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from jacli.cli import main

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
        return json.loads(self.out)  # strict: json.loads refuses nothing we emit, see below


def _strict_loads(text: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


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
