"""Array files for many points: ``--at-file`` .npy/.npz/.parquet/.arrow/.feather against the
JSON Lines path on the same points (byte for byte), ``--out-file`` .npz/.parquet against the
JSON Lines rows (bit for bit), refusals in one line, memory bounded for a memory-mapped
.npy, and the missing-pyarrow message before torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jacli.request import arrays as arrays_mod

NO_PYARROW = "pyarrow is not installed: pip install 'jacli[arrays]' to run the table tests"
SYSTEM = "2*x1+x2**2, x1**2+2*x2**3, sin(x1)*x2"
TENSOR = "y = W @ x; sum(y**2), y[0]*x[1]"


def _pyarrow():
    pa = pytest.importorskip("pyarrow", reason=NO_PYARROW)
    pytest.importorskip("pyarrow.parquet", reason=NO_PYARROW)
    return pa


def _scalars(n: int = 7):
    """Seeded points with the awkward numbers: -0.0 (read as 0, as --at reads it), integers,
    a subnormal, a large number."""
    rng = np.random.default_rng(20)
    x1, x2 = rng.normal(size=n), rng.normal(size=n) * 3
    x1[1], x2[2], x1[3], x2[4] = -0.0, 5e-324, 1e150, -7.0
    return {"x1": x1, "x2": x2}


def _tensors(n: int = 6):
    rng = np.random.default_rng(21)
    return {"x": rng.normal(size=(n, 3)), "W": rng.normal(size=(n, 2, 3))}


def _jsonl(tmp_path, columns: dict):
    path = tmp_path / "points.jsonl"
    n = len(next(iter(columns.values())))
    path.write_text("".join(json.dumps({k: v[i].tolist() for k, v in columns.items()}) + "\n"
                            for i in range(n)))
    return str(path)


def _run(cli, command, source, path, *extra):
    r = cli(command, source, "--at-file", path, *extra)
    assert r.code == 0, r.err
    return r


# -- the same stream from every format -----------------------------------------------------
def _writers(tmp_path, columns):
    """Every array format holding ``columns``, by name."""
    files = {}
    files["npz"] = tmp_path / "p.npz"
    np.savez(files["npz"], **columns)
    try:
        import pyarrow as pa
        import pyarrow.feather as feather
        import pyarrow.parquet as pq
    except ImportError:
        return files
    table = pa.table({k: _arrow_column(pa, v) for k, v in columns.items()})
    files["parquet"] = tmp_path / "p.parquet"
    pq.write_table(table, files["parquet"], row_group_size=2)  # several row groups
    files["feather"] = tmp_path / "p.feather"
    feather.write_feather(table, files["feather"], chunksize=3)
    files["arrow stream"] = tmp_path / "s.arrow"
    with pa.ipc.new_stream(str(files["arrow stream"]), table.schema) as w:
        w.write_table(table, max_chunksize=4)
    return files


def _arrow_column(pa, values):
    """A number column, or nested fixed-size lists of the flattened tensors."""
    column = pa.array(values.reshape(-1))
    for size in reversed(values.shape[1:]):
        column = pa.FixedSizeListArray.from_arrays(column, size)
    return column


@pytest.mark.parametrize("command, source, make, extra", [
    ("vjp", SYSTEM, _scalars, ("--v", "1,2,-1")),
    ("jacobian", SYSTEM, _scalars, ()),
    ("jacobian", TENSOR, _tensors, ()),
    ("vjp", TENSOR, _tensors, ("--v", "1,-2")),
])
def test_every_format_streams_what_json_lines_streams(cli, tmp_path, command, source, make,
                                                      extra):
    columns = make()
    expected = _run(cli, command, source, _jsonl(tmp_path, columns), *extra).out
    files = _writers(tmp_path, columns)
    for fmt, path in files.items():
        assert _run(cli, command, source, str(path), *extra).out == expected, fmt
    assert '"check": true' in expected and len(files) in (1, 4)
    # (_scalars' -0.0 at point 2: sin(x1)*x2 there is 0.0*x2 < 0, so -0.0 in JSON Lines, and
    # would be +0.0 had the array's -0.0 not been read as the text path reads it)


def test_npy_is_the_one_variable(cli, tmp_path):
    x = _tensors()["x"]
    np.save(tmp_path / "x.npy", x)
    expected = _run(cli, "grad", "sum(sin(x)*x)", _jsonl(tmp_path, {"x": x})).out
    assert _run(cli, "grad", "sum(sin(x)*x)", str(tmp_path / "x.npy")).out == expected
    np.save(tmp_path / "s.npy", np.arange(5, dtype=np.int32))  # integers read as floats
    rows = [json.loads(line) for line in _run(cli, "grad", "t**3", str(tmp_path / "s.npy"))
            .out.splitlines()[1:]]
    assert [r["vjp"] for r in rows] == [[3.0 * t * t] for t in range(5)]


def test_plain_list_columns_take_the_first_points_length(cli, tmp_path):
    pa = _pyarrow()
    import pyarrow.parquet as pq

    x = _tensors()["x"]
    pq.write_table(pa.table({"x": pa.array(x.tolist())}), tmp_path / "l.parquet")
    assert pa.types.is_list(pq.read_schema(tmp_path / "l.parquet").field("x").type)
    expected = _run(cli, "jacobian", "x*x[0]", _jsonl(tmp_path, {"x": x})).out
    assert _run(cli, "jacobian", "x*x[0]", str(tmp_path / "l.parquet")).out == expected


# -- --out-file ------------------------------------------------------------------------------
def _rows(out: str):
    lines = out.splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def _read_out(path):
    if str(path).endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}, json.loads(str(z["header"]))
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    got = {k: np.array(table.column(k).to_pylist()) for k in table.column_names}
    got["check"] = table.column("check").to_pylist()
    return got, json.loads(table.schema.metadata[b"jacli"])


@pytest.mark.parametrize("suffix", ["npz", "parquet"])
@pytest.mark.parametrize("command, source, make, extra, key, shape", [
    ("jacobian", SYSTEM, _scalars, (), "jacobian", (7, 3, 2)),
    ("vjp", TENSOR, _tensors, ("--v", "1,-2"), "vjp", (6, 9)),
    ("grad", "sum(x**3)", lambda: {"x": _tensors()["x"]}, (), "vjp", (6, 3)),
])
def test_out_file_holds_the_json_lines_numbers(cli, tmp_path, suffix, command, source, make,
                                               extra, key, shape):
    if suffix == "parquet":
        _pyarrow()
    points = _jsonl(tmp_path, make())
    header, rows = _rows(_run(cli, command, source, points, *extra).out)
    target = tmp_path / f"out.{suffix}"
    r = _run(cli, command, source, points, *extra, "--out-file", str(target))
    assert r.out == "" and r.err.strip() == f"jacli: wrote {shape[0]} points to {target}"
    got, meta = _read_out(target)
    assert got[key].shape == shape and got["value"].shape == (shape[0], len(header["outputs"]))
    assert got[key].dtype == np.float64
    # bit for bit: JSON's repr round-trips float64 exactly
    assert np.array_equal(got[key], np.array([row[key] for row in rows]))
    assert np.array_equal(got["value"], np.array([row["value"] for row in rows]))
    assert {k: meta[k] for k in header} == header
    checks = [{"index": r["index"], "check": r["check"]} for r in rows if "check" in r]
    if suffix == "npz":
        assert meta["checks"] == checks and list(got["outputs"]) == header["outputs"]
        assert list(got["inputs"]) == header["inputs"]
        assert list(got["variables"]) == [v["name"] for v in header["variables"]]
    else:
        assert got["check"] == [c["check"] for c in checks] + [None] * (shape[0] - len(checks))
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".jacli-*"))


def test_out_file_from_several_at_values_and_a_progress_bar(cli, tmp_path, monkeypatch):
    from jacli.cli import runner
    from jacli.many import batched

    seen = []
    monkeypatch.setattr(runner, "_progress", lambda total: seen.append(total) or seen.append)
    monkeypatch.setattr(batched, "chunk_size", lambda m, n: 2)  # 3 chunks of ≤ 2 points
    target = tmp_path / "at.npz"
    r = cli("jacobian", "x1*x2", "--at", "x1=1", "--at", "x1=2", "--at", "x1=3", "--at",
            "x2=5", "--at", "x1=4", "--at", "x1=0.5", "--out-file", str(target))
    assert r.code == 0, r.err
    got, _ = _read_out(target)
    assert got["jacobian"].tolist() == [[[5.0, x1]] for x1 in (1, 2, 3, 4, 0.5)]
    assert seen == [5, 0, 2, 4, 5, None]  # the total, then points done per chunk, then stop


def test_out_file_float32_and_a_disagreement(cli, tmp_path, monkeypatch):
    from jacli.many import stream

    x = _tensors()["x"]
    np.save(tmp_path / "x.npy", x)
    rows = _rows(_run(cli, "grad", "sum(x**3)", _jsonl(tmp_path, {"x": x}), "--dtype",
                      "float32").out)[1]
    monkeypatch.setattr(stream._Run, "_check", lambda self, i, out, start: i != 1)
    r = cli("grad", "sum(x**3)", "--at-file", str(tmp_path / "x.npy"), "--dtype", "float32",
            "--out-file", str(tmp_path / "o.npz"))
    assert r.code == 1 and "a checked point disagrees" in r.err
    got, meta = _read_out(tmp_path / "o.npz")
    assert [c["check"] for c in meta["checks"]] == [True, False, True]
    assert np.array_equal(got["vjp"], np.array([row["vjp"] for row in rows]))
    assert not np.array_equal(got["vjp"], 3 * x * x)  # float32's numbers, not float64's


@pytest.mark.parametrize("argv, needle", [
    (["jacobian", "x1*x2", "--at", "1,2", "--out-file", "o.npz"], "writes the results of many"),
    (["jacobian", "x1*x2", "--out-file", "o.npz"], "writes the results of many"),
    (["jacobian", "x1*x2", "--at-file", "p.jsonl", "--out-file", "o.csv"],
     "write .npz or .parquet"),
    (["jvp", "x1*x2", "--at", "1,2", "--u", "1,0", "--out-file", "o.npz"],
     "jvp takes no --out-file"),
])
def test_out_file_refused_where_it_cannot_apply(cli, argv, needle):
    r = cli(*argv)
    assert r.code == 2 and needle in r.err and "Traceback" not in r.err
    assert r.err.count("error:") == 1 and r.out == ""


# -- refusals ----------------------------------------------------------------------------------
def _refused(cli, tmp_path, source, name, save, needle):
    path = tmp_path / name
    save(path)
    r = cli("jacobian", source, "--at-file", str(path))
    assert r.code == 2, (r.code, r.err)
    assert needle in r.err and r.err.count("error:") == 1 and "Traceback" not in r.err
    assert r.out == ""  # refused before the stream started


@pytest.mark.parametrize("source, name, save, needle", [
    ("x1*x2", "two.npy", lambda p: np.save(p, np.ones(3)),
     "a .npy file holds one array, and the function has 2 variables"),
    ("x1*x2", "m.npz", lambda p: np.savez(p, x1=np.ones(3)), "has no array for the variable 'x2'"),
    ("x1*x2", "u.npz", lambda p: np.savez(p, x1=np.ones(3), x2=np.ones(3), z=np.ones(3)),
     "'z' is not a variable of this function"),
    ("x1*x2", "n.npz", lambda p: np.savez(p, x1=np.ones(3), x2=np.ones(4)),
     "different numbers of points (x1: 3, x2: 4)"),
    ("sum(x)", "d.npy", lambda p: np.save(p, np.array(2.0)), "the leading axis is the points"),
    ("sum(x)", "e.npy", lambda p: np.save(p, np.ones((0, 2))), "no points in the file"),
    ("sum(x)", "b.npy", lambda p: np.save(p, np.ones(3, dtype=bool)), "bool values, not numbers"),
    ("sum(x)", "nan.npy", lambda p: np.save(p, np.array([[1.0, 2], [3, np.inf]])),
     "point 2: x is not a finite number"),
    ("sum(x)", "bad.npy", lambda p: p.write_bytes(b"not numpy"), "cannot read --at-file"),
    ("sum(x)", "gone.npz", lambda p: None, "gone.npz: No such file"),
    ("sum(x)", "bad.npz", lambda p: np.save(open(p, "wb"), np.ones(2)), "not a .npz archive"),
    ("x @ x", "s.npz", lambda p: np.savez(p, x=np.ones((3, 2, 3))),
     "matmul of shapes (2, 3) and (2, 3)"),
])
def test_bad_arrays_refused_in_one_line(cli, tmp_path, source, name, save, needle):
    _refused(cli, tmp_path, source, name, save, needle)


def test_bad_tables_refused_in_one_line(cli, tmp_path):
    pa = _pyarrow()
    import pyarrow.parquet as pq

    def table(**columns):
        return lambda p: pq.write_table(pa.table(columns), p, row_group_size=2)

    cases = [
        ("sum(x)", table(x=pa.array([[1.0, 2], [3, 4], [5, 6, 7]])),
         "point 3: x has a list of 3 numbers where the first point's has 2"),
        ("x1*x2", table(x1=pa.array([1.0, None]), x2=pa.array([1.0, 2])),
         "column 'x1' has a missing (null) value"),
        ("x1*x2", table(x1=pa.array(["a", "b"]), x2=pa.array([1.0, 2])),
         "column 'x1' holds string values, not numbers"),
        ("x1*x2", table(x1=pa.array([1.0, 2]), x2=pa.array([1.0, float("nan")])),
         "point 2: x2 is not a finite number"),
        ("x1*x2*x3", table(x1=pa.array([1.0]), x2=pa.array([1.0])),
         "has no column for the variable 'x3'"),
    ]
    for i, (source, save, needle) in enumerate(cases):
        _refused(cli, tmp_path, source, f"t{i}.parquet", save, needle)
    _refused(cli, tmp_path, "x", "junk.arrow", lambda p: p.write_bytes(b"junk" * 10),
             "cannot read --at-file")


# -- memory ------------------------------------------------------------------------------------
def _rss_anon() -> int:
    """This process's private resident memory (bytes): a memory map's file pages are the
    kernel's page cache, counted apart (RssFile), and dropped under pressure."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("RssAnon"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_npy_is_memory_mapped_and_read_in_slices(tmp_path, monkeypatch):
    from jacli.backends.tensors import TorchBackend
    from jacli.many.sliced import Sliced

    n = 10_000_000  # 80 MB of float64
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64,
                                    shape=(n,))
    big[:] = 1.5
    big.flush()
    del big
    spans = []
    read = arrays_mod._Npy.read
    monkeypatch.setattr(arrays_mod._Npy, "read",
                        lambda self, name, a, b: spans.append(b - a) or read(self, name, a, b))
    before, peak = _rss_anon(), 0
    points = arrays_mod.read_arrays(str(tmp_path / "big.npy"), "--at-file")
    points.check_names(("x",))  # binds the name and checks every number, a block at a time
    assert isinstance(points.source.array, np.memmap)
    column = Sliced(points, "x", (), TorchBackend("float64", "cpu"))
    total = 0.0
    for start in range(0, n, 1 << 17):  # as batched.chunks slices it
        total += float(column[start:start + (1 << 17)].sum())
        peak = max(peak, _rss_anon() - before)
    assert total == 1.5 * n
    assert max(spans) <= arrays_mod.BLOCK_FLOATS and len(spans) > 2 * n // arrays_mod.BLOCK_FLOATS
    assert peak < n * 8 // 4, f"private memory grew by {peak / 1e6:.0f} MB for an 80 MB file"


def test_parquet_is_read_a_row_group_at_a_time(cli, tmp_path, monkeypatch):
    pa = _pyarrow()
    import pyarrow.parquet as pq

    from jacli.many import batched
    from jacli.request import arrow

    rng = np.random.default_rng(22)
    columns = {"x1": rng.normal(size=5000), "x2": rng.normal(size=5000)}
    pq.write_table(pa.table(columns), tmp_path / "p.parquet", row_group_size=100)
    expected = _run(cli, "vjp", SYSTEM, _jsonl(tmp_path, columns), "--v", "1,1,1").out
    rows = []
    numbers = arrow._numbers
    monkeypatch.setattr(arrow, "_numbers", lambda column, *a: rows.append(len(column))
                        or numbers(column, *a))
    monkeypatch.setattr(batched, "chunk_size", lambda m, n: 250)  # chunks straddle groups
    assert _run(cli, "vjp", SYSTEM, str(tmp_path / "p.parquet"), "--v", "1,1,1").out == expected
    assert set(rows) == {100}  # never the whole file: a row group, a column at a time
    # for each of the 2 columns, each of the 50 row groups converted once when checked and
    # once when computed (a chunk that starts in the group the last one ended in finds it
    # kept), plus group 0 for the shapes and again for the exactly checked points
    assert len(rows) <= 2 * (50 + 50 + 2)


# -- pyarrow missing -----------------------------------------------------------------------
def test_missing_pyarrow_named_before_torch(tmp_path):
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'pyarrow' "
        "else real(name, *a)\n"
        "from jacli.cli import main\n"
        "for argv in (['jacobian', 'x1*x2', '--at-file', 'p.parquet'],\n"
        "             ['grad', 'x*x', '--at-file', 'p.npz', '--out-file', 'o.parquet'],\n"
        "             ['jacobian', 'x', '--at-file', 'p.feather']):\n"
        "    print(main(argv), file=sys.stderr)\n"
        "print('torch' in sys.modules, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    lines = out.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 3 and lines[-1] == "False", out.stderr
    assert "--at-file p.parquet: reading and writing .parquet files needs pyarrow" in errors[0]
    assert "--out-file o.parquet" in errors[1] and ".feather" in errors[2]
    assert lines.count("2") == 3 and lines.count('hint: pip install "jacli[arrays]" '
                                                 "(or pip install pyarrow)") == 3
