"""The published-snippet corpus (tests/corpus/): real PyTorch against `jacli vjp - --json`.

Each snippet is run as published in real PyTorch (this test executes the trusted corpus; jacli
never executes anything) and through jacli. jacli may refuse a snippet (with one `error:` line
naming the construct) but must never give other numbers (`differs`) and never crash.
The runners and the comparison live in tests/corpus_harness.py; docs/corpus.md is the report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import corpus_harness as H
from conftest import validate

SNIPPETS = H.corpus_files()
IDS = [p.stem for p in SNIPPETS]
DOC = Path(__file__).resolve().parents[1] / "docs" / "corpus.md"


@pytest.fixture(scope="module")
def runs():
    """Both runners once for the whole module: one child process each."""
    return H.run_torch(SNIPPETS), H.run_jacli(SNIPPETS)


def test_corpus_has_at_least_60_snippets():
    assert len(SNIPPETS) >= 60


@pytest.mark.parametrize("path", SNIPPETS, ids=IDS)
def test_snippet_header_names_source_and_constructs(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# source: ") and len(lines[0]) > len("# source: ") + 5
    assert lines[1].startswith("# kind: ") and len(lines[1]) > len("# kind: ") + 5
    assert len(lines) < 60, "snippets stay short"


@pytest.mark.parametrize("path", SNIPPETS, ids=IDS)
def test_snippet_runs_in_real_pytorch(runs, path):
    torch_run = runs[0][str(path)]
    assert torch_run["ok"], torch_run["error"]


@pytest.mark.parametrize("path", SNIPPETS, ids=IDS)
def test_jacli_reproduces_or_refuses(runs, path):
    """Never another answer, never an internal error: reproduces or refused, nothing else."""
    status, detail = H.classify(runs[0][str(path)], runs[1][str(path)])
    assert status in ("reproduces", "refused"), f"{status}: {detail}"


@pytest.mark.parametrize("path", SNIPPETS, ids=IDS)
def test_a_refusal_is_one_error_line_naming_the_construct(runs, path):
    jacli_run = runs[1][str(path)]
    validate(json.loads(jacli_run["out"]))  # the published schema, success or refusal
    if jacli_run["code"] == 0:
        assert json.loads(jacli_run["out"])["schema"] == "jacli/1"
        return
    first = H.first_error_line(jacli_run["err"])
    assert re.match(r"error: \S", first), first
    assert "Traceback" not in jacli_run["err"]
    error = json.loads(jacli_run["out"])["error"]  # --json: the error object on stdout too
    assert error["message"].strip()


def test_report_in_docs_matches_this_run(runs):
    """docs/corpus.md states the counts of the current corpus (regenerate it when they move)."""
    live = H.counts_line([H.classify(runs[0][str(p)], runs[1][str(p)])[0] for p in SNIPPETS])
    assert f"**{live}.**" in DOC.read_text(encoding="utf-8")


# -- the comparison itself must be able to fail -------------------------------------------

def _torch(grad, dtype="float32", value=(1.0,)):
    return {"ok": True, "error": None, "leaves": {"x": {"dtype": dtype, "grad": grad}},
            "events": [{"kind": "backward", "value": list(value)}]}


def _jacli(grad, value=(1.0,), code=0, err=""):
    out = {"schema": "jacli/1", "value": {"numeric": list(value)}, "vjp": {"grad": {"x": grad}}}
    return {"code": code, "out": json.dumps(out), "err": err}


def test_classify_sees_other_numbers():
    assert H.classify(_torch([2.0, 4.0]), _jacli([2.0, 4.0]))[0] == "reproduces"
    assert H.classify(_torch([2.0, 4.0]), _jacli([2.0, 4.001]))[0] == "differs"
    assert H.classify(_torch([2.0, 4.0]), _jacli([2.0]))[0] == "differs"


def test_classify_tolerance_follows_the_leaf_dtype():
    assert H.classify(_torch([1.0]), _jacli([1.0 + 5e-7]))[0] == "reproduces"
    assert H.classify(_torch([1.0], "float64"), _jacli([1.0 + 5e-7]))[0] == "differs"


def test_classify_sees_a_wrong_value_a_missing_leaf_and_a_crash():
    assert H.classify(_torch([1.0], value=(3.0,)), _jacli([1.0], value=(3.5,)))[0] == "differs"
    missing = _jacli([1.0])
    missing["out"] = json.dumps({"schema": "jacli/1", "vjp": {"grad": {}}})
    assert H.classify(_torch([1.0]), missing)[0] == "differs"
    assert H.classify(_torch([1.0]), _jacli(None, code=4, err="error: internal"))[0] == "crash"
    assert H.classify(_torch([1.0]), _jacli(None, code=2, err="error: no"))[0] == "refused"


def test_classify_none_grad_matches_only_zeros():
    assert H.classify(_torch(None), _jacli([0.0, 0.0]))[0] == "reproduces"
    assert H.classify(_torch(None), _jacli([0.0, 1.0]))[0] == "differs"


def test_classify_compares_each_event_when_jacli_reports_them():
    torch_run = _torch([5.0])
    torch_run["events"] = [
        {"kind": "backward", "value": [1.0], "leaves": {"x": {"dtype": "float32", "grad": [2.0]}}},
        {"kind": "backward", "value": [1.0], "leaves": {"x": {"dtype": "float32", "grad": [5.0]}}},
    ]
    answer = json.loads(_jacli([5.0])["out"])
    answer["events"] = [{"kind": "backward", "grad": {"x": [2.0]}},
                        {"kind": "backward", "grad": {"x": [5.0]}}]
    run = {"code": 0, "out": json.dumps(answer), "err": ""}
    assert H.classify(torch_run, run)[0] == "reproduces"
    answer["events"][0]["grad"]["x"] = [3.0]  # accumulation shown wrong after the first call
    run["out"] = json.dumps(answer)
    assert H.classify(torch_run, run)[0] == "differs"


def test_classify_compares_what_a_final_jacobian_call_returned():
    torch_run = _torch(None)
    torch_run["events"] = [{"kind": "functional.jacobian", "result": [2.0, 0.0, 0.0, 4.0],
                            "leaves": {}}]
    answer = json.loads(_jacli([0.0, 0.0])["out"])
    answer["jacobian"] = {"numeric": [[2.0, 0.0], [0.0, 4.0]]}
    run = {"code": 0, "out": json.dumps(answer), "err": ""}
    assert H.classify(torch_run, run)[0] == "reproduces"
    answer["jacobian"] = {"numeric": [[2.0, 0.0], [0.0, 4.5]]}
    run["out"] = json.dumps(answer)
    assert H.classify(torch_run, run)[0] == "differs"
