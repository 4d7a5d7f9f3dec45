"""``--at-file`` points read while the imports run (``many.reading``).

A large JSON Lines file is parsed by a forked child while the console script imports torch
and SymPy; the points travel back as plain data (``Points.plain``). Whatever the child reads
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
import os, jacli.many.reading as R
_read = R._plain_points
def _marked(text):
    open(os.environ["JACLI_AUDIT"] + ".child-read", "w").close()
    return _read(text)
R._plain_points = _marked
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


# -- the checked points in a child (``stream._Run``): forked once torch is in, before it ran --

CHECKED_MARK = """
import os, jacli.many.checked as S
_parent, _summary = os.getpid(), S._summary
def _marked(*args):
    if os.getpid() != _parent:
        open(os.environ["JACLI_AUDIT"] + ".child-checked", "w").close()
    return _summary(*args)
S._summary = _marked
"""


def _checked_by_child(tmp_path) -> bool:
    found = list(tmp_path.glob("*.child-checked"))
    for f in found:
        f.unlink()
    return bool(found)


@pytest.mark.parametrize("command", [["jacobian"], ["vjp", "--v", "1,-2,0.5"], ["grad"]])
def test_the_checked_points_come_from_a_child_and_the_stream_never_imports_sympy(
        tmp_path, command):
    """The parent batches and writes without SymPy; the child (torch inherited, SymPy its
    own) computes the three checked points; the stream is the one process's, byte for byte."""
    source = "x1**2*x2 + sin(x3)" if command[0] == "grad" else SOURCE
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _lines(200, seed=3)))
    split, serial = both(tmp_path, [command[0], source, "--at-file", str(path), "--json",
                                    *command[1:]], patch=CHECKED_MARK)
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
                    patch=CHECKED_MARK)
    assert split.code == code and split.err.startswith("error:"), split.err
    assert split.audit is not None and split.audit["children"] is False
