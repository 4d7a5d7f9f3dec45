"""``--at-file`` points read while the imports run (``many.reading``).

A large JSON Lines file is parsed by a forked child while the console script imports torch;
the points travel back as plain data (``Points.plain``), and for a straight-line program the
same child goes on to the checked points' formulas (``many.checked``'s early child). Whatever the child reads
— uniform rows (sent as columns), rows that differ, numbers only the exact reader takes, a
bad line — the output, errors and exit codes must be the one process's, byte for byte.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest

from jacli.many.reading import OVERLAP_BYTES
from jacli.request.points import Points, from_plain, read_points
from test_overlap import both

SOURCE = "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3"

MARK = """
import os, jacli.many.checked as C, jacli.many.reading as R
_parent, _read, _early, _summary = os.getpid(), R._plain_points, C._early, C._summary
def _mark(what):
    open(os.environ["JACLI_AUDIT"] + ".child-" + what, "w").close()
def _marked(text):
    _mark("read")
    return _read(text)
def _early_marked(problem, text, ats):
    if text is not None:
        _mark("read")
    _mark("checked")
    return _early(problem, text, ats)
def _summary_marked(*args):
    if os.getpid() != _parent:
        _mark("checked")
    return _summary(*args)
R._plain_points, C._early, C._summary = _marked, _early_marked, _summary_marked
"""


def _lines(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [{"x1": round(rng.uniform(-2, 2), 6), "x2": rng.randint(-3, 3),
             "x3": round(rng.uniform(-2, 2), 6)} for _ in range(n)]


def _file(tmp_path, rows: list, extra: str = "") -> str:
    text = "".join(json.dumps(r) + "\n" for r in rows) + extra
    assert len(text) >= OVERLAP_BYTES  # large enough for the child
    path = tmp_path / "points.jsonl"
    path.write_text(text)
    return str(path)


def _read_by_child(tmp_path) -> bool:
    found = list(tmp_path.glob("*.child-read"))
    for f in found:
        f.unlink()
    return bool(found)


def test_a_large_file_is_read_by_a_child_and_gives_the_same_stream(tmp_path):
    path = _file(tmp_path, _lines(30_000))
    split, _ = both(tmp_path, ["jacobian", SOURCE, "--at-file", path, "--format", "json"],
                    patch=MARK)
    assert split.code == 0 and split.out.count("\n") == 30_001, split.err
    assert _read_by_child(tmp_path) and split.audit["children"] is False


@pytest.mark.parametrize("extra, code", [
    ('{"x1": 1, "x2": 2}\n', 2),  # a point without x3: named by the reader
    ('{"x1": 1, "x2": 2, "x3": 1e400}\n', 2),  # past float64: the exact reader refuses it
    ('{"x1": 1, "x2": 2, "x3": "a"}\n', 2),  # not a number
    ('{"x1": 1, "x2": 2, "x3": 3, "x4": 4}\n', 2),  # not a variable
    ('{"x3": 0.1, "x2": 2, "x1": -0.0}\n', 0),  # another key order, a negative zero
    ('{"x1": 1, "x2": 2, "x3": 3' + "0" * 60 + '}\n', 0),  # a long number: read exactly
])
def test_what_the_child_reads_or_refuses_reads_as_in_one_process(tmp_path, extra, code):
    path = _file(tmp_path, _lines(25_000), extra)
    split, _ = both(tmp_path, ["vjp", SOURCE, "--at-file", path, "--v", "1,2,3", "--json"],
                    patch=MARK)
    assert split.code == code, split.err
    assert _read_by_child(tmp_path)


def test_plain_points_rebuild_the_same_points():
    rows = [{"x": 1.5, "y": [1, 2]}, {"x": -0.0, "y": [3, 4.25]}]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    mixed = text + json.dumps({"y": [0, 1], "x": 2}) + "\n"  # another key order: columns
    ragged = text + json.dumps({"x": 2}) + "\n"  # a point without y: rows, as read
    for source in (text, mixed, ragged):
        before = read_points(source, "--at-file")
        after = from_plain(before.plain(), source, "--at-file")
        assert len(after) == len(before) and after.names() == before.names()
        for name in before.names():
            try:
                expected = before.column(name, () if name == "x" else (2,))
            except Exception as e:  # noqa: BLE001 - the same refusal
                with pytest.raises(type(e)):
                    after.column(name, () if name == "x" else (2,))
            else:
                assert after.column(name, () if name == "x" else (2,)) == expected
        assert [after.exact(i) for i in range(len(after))] == \
               [before.exact(i) for i in range(len(before))]
    assert read_points(mixed, "--at-file").plain()[1] is None  # sent as columns
    assert read_points(ragged, "--at-file").plain()[2] is None  # sent as rows
    exactly = Points.exactly([{"x": Fraction(1, 3), "y": [Fraction(2), Fraction(1, 10)]}])
    again = from_plain(exactly.plain(), "", "--at-file")  # read exactly: sent as it is
    assert again.exact(0) == exactly.exact(0) and again.column("x", ()) == [1 / 3]
    assert from_plain(read_points(text, "--at-file").plain(), text, "--at-file").exact(0) == \
        {"x": Fraction(3, 2), "y": [1, 2]}


# -- the checked points in a child (``many.checked``): forked before torch (early), deriving
# their formulas while torch is imported, or forked once torch is in, before it ran -------

LATE = """
C.early_usable = lambda problem: False  # the checked points' child forked after torch
"""


def _checked_by_child(tmp_path) -> bool:
    found = list(tmp_path.glob("*.child-checked"))
    for f in found:
        f.unlink()
    return bool(found)


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("command", [["jacobian"], ["vjp", "--v", "1,-2,0.5"], ["grad"]])
def test_the_checked_points_come_from_a_child_and_the_stream_never_imports_sympy(
        tmp_path, command, late):
    """The parent batches and writes without SymPy; the child computes the three checked
    points (early: their formulas before the parent's numbers reach it; late: torch
    inherited); the stream is the one process's, byte for byte."""
    source = "x1**2*x2 + sin(x3)" if command[0] == "grad" else SOURCE
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _lines(200, seed=3)))
    split, serial = both(tmp_path, [command[0], source, "--at-file", str(path), "--json",
                                    *command[1:]], patch=MARK + (LATE if late else ""))
    assert split.code == 0 and split.out.count("\n") == 201, split.err
    assert _checked_by_child(tmp_path)
    assert split.audit == {"torch": True, "children": False, "sympy": False}
    assert serial.audit["sympy"] is True
    rows = [json.loads(line) for line in split.out.splitlines()]
    assert [r.get("check") for r in rows[1:5]] == [True, True, True, None]


@pytest.mark.parametrize("args, extra, code", [
    (["--v", "1,2"], "", 2),  # v of the wrong length: the checked point's refusal
    (["--v", "1,2,3"], '{"x1": 1, "x2": 2, "x3": 1e400}\n', 2),  # the columns' refusal first
    (["--v", "1,2,3"], '{"x1": 1, "x2": 2}\n', 2),  # a point without x3
])
def test_a_refusal_with_the_checked_points_in_a_child_reads_as_in_one_process(
        tmp_path, args, extra, code):
    path = tmp_path / "points.jsonl"
    rows = _lines(2, seed=4)
    path.write_text(json.dumps(rows[0]) + "\n" + extra + json.dumps(rows[1]) + "\n")
    split, _ = both(tmp_path, ["vjp", SOURCE, "--at-file", str(path), "--json", *args],
                    patch=MARK)
    assert split.code == code and split.err.startswith("error:"), split.err
    assert split.audit is not None and split.audit["children"] is False


REFUSE_NUMBERS = """
import jacli.analysis.assemble as A, jacli.analysis.split as S
from jacli.errors import ShapeError

def refuse(problem, setup):
    raise ShapeError("v has shape (3,) but y has shape (2,)", hint="v needs shape (2,)",
                     where="--v", line=1, column=4, source="x1, x2")

A.numeric = S.numeric = refuse
"""


@pytest.mark.parametrize("large", [False, True])
def test_the_parents_numeric_error_reaches_the_early_child_and_reads_as_in_one_process(
        tmp_path, large):
    """The checked points' numbers (the parent's, sent to the early child) fail: the stream
    refuses as the one process does, whichever child read the points."""
    path = _file(tmp_path, _lines(25_000)) if large else tmp_path / "points.jsonl"
    if not large:
        path.write_text("".join(json.dumps(r) + "\n" for r in _lines(50, seed=6)))
    split, _ = both(tmp_path, ["jacobian", SOURCE, "--at-file", str(path), "--json"],
                    patch=MARK + REFUSE_NUMBERS)
    assert split.code == 2 and json.loads(split.out.splitlines()[0])["error"]["kind"] == "shape"
    assert _checked_by_child(tmp_path) and split.audit["children"] is False
