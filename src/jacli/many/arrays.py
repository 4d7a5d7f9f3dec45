"""``--out-file`` (``write``): the many-points results as arrays, not JSON Lines.

``.npz`` holds ``value`` (N, m) and ``jacobian`` (N, m, n) or ``vjp`` (N, n), ``inputs`` and
``outputs`` (the labels of J's columns and rows), ``variables`` (the names) and ``header``
(the JSON Lines stream's header object as JSON text, with ``checks`` added: the checked
points' verdicts). Each array is first filled on disk (a memory-mapped ``.npy``) and then
stored in the archive, so memory stays bounded whatever N is. ``.parquet`` (pyarrow) holds a
row per point: ``index``, ``value`` and ``jacobian`` or ``vjp`` as fixed-size-list columns
(J nested m × n), ``check`` (the verdict; null where not checked), the header as the
schema's ``jacli`` metadata; written a chunk (a row group) at a time.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from jacli.request.arrays import kind


def write(problem, points, path: str, progress=None) -> bool:
    """Compute every point and write the arrays to ``path`` (replaced only once complete);
    returns whether a checked point disagreed."""
    from jacli.many.stream import tensors

    stream = tensors(problem, points)
    header = next(stream)
    if progress:
        progress(0)
    part = Path(path).with_name(Path(path).name + ".part")
    writer = _Parquet if kind(path) == "parquet" else _Npz
    checks = {}
    try:
        with writer(part, header, problem.command) as out:
            for start, arrays, checks in stream:
                out.add(start, {k: v.cpu().double().numpy() for k, v in arrays.items()}, checks)
                if progress:
                    progress(start + len(arrays["value"]))
            header = {**header, "checks": [{"index": i, "check": c}
                                           for i, c in sorted(checks.items())]}
            out.close(header)
        os.replace(part, path)
    finally:
        if part.exists():
            part.unlink()
    return any(c is False for c in checks.values())


def _shapes(header: dict, command: str) -> dict:
    N, m, n = header["points"], len(header["outputs"]), len(header["inputs"])
    key = "jacobian" if command in ("jacobian", "check") else "vjp"
    return {"value": (N, m), key: (N, m, n) if key == "jacobian" else (N, n)}


class _Npz:
    """Arrays filled a chunk at a time in memory-mapped ``.npy`` files beside the target,
    then stored (uncompressed, as ``numpy.savez``) in the archive."""

    def __init__(self, path: Path, header: dict, command: str) -> None:
        import numpy as np

        self.path = path
        self.tmp = tempfile.TemporaryDirectory(dir=path.parent, prefix=".jacli-")
        self.arrays = {k: np.lib.format.open_memmap(os.path.join(self.tmp.name, k + ".npy"),
                                                    mode="w+", dtype=np.float64, shape=shape)
                       for k, shape in _shapes(header, command).items()}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.arrays = {}
        self.tmp.cleanup()

    def add(self, start: int, arrays: dict, checks: dict) -> None:
        for k, block in arrays.items():
            self.arrays[k][start:start + len(block)] = block.reshape(
                len(block), *self.arrays[k].shape[1:])

    def close(self, header: dict) -> None:
        import numpy as np

        from jacli.result import strict

        labels = {"inputs": header["inputs"], "outputs": header["outputs"],
                  "variables": [v["name"] for v in header["variables"]]}
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
            for k, array in self.arrays.items():
                array.flush()
                z.write(array.filename, k + ".npy")
            for k, value in {**labels, "header": json.dumps(strict(header), allow_nan=False)
                             }.items():
                with z.open(k + ".npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.array(value, dtype=str))


class _Parquet:
    """One row per point, written a chunk (a row group) at a time."""

    def __init__(self, path: Path, header: dict, command: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from jacli.result import strict

        self.shapes = _shapes(header, command)
        fields = [pa.field("index", pa.int64())] + [
            pa.field(k, _nested(pa, s[1:])) for k, s in self.shapes.items()] + [
            pa.field("check", pa.bool_())]
        self.schema = pa.schema(fields, metadata={
            "jacli": json.dumps(strict(header), allow_nan=False)})
        self.writer = pq.ParquetWriter(path, self.schema)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.writer.close()

    def add(self, start: int, arrays: dict, checks: dict) -> None:
        import numpy as np
        import pyarrow as pa

        N = len(arrays["value"])
        columns = [pa.array(np.arange(start, start + N, dtype=np.int64))]
        for k, s in self.shapes.items():
            values = pa.array(np.ascontiguousarray(arrays[k]).reshape(-1))
            for size in reversed(s[1:]):
                values = pa.FixedSizeListArray.from_arrays(values, size)
            columns.append(values)
        verdict, known = np.zeros(N, dtype=bool), np.zeros(N, dtype=bool)
        for i, check in checks.items():
            if start <= i < start + N and check is not None:
                verdict[i - start], known[i - start] = check, True
        columns.append(pa.array(verdict, mask=~known))
        self.writer.write_batch(pa.record_batch(columns, schema=self.schema))

    def close(self, header: dict) -> None:
        """Nothing left: the header went into the schema, the checks into ``check``."""


def _nested(pa, dims: tuple[int, ...]):
    """float64, in a fixed-size list per dimension: (m, n) is a list of m lists of n."""
    t = pa.float64()
    for size in reversed(dims):
        t = pa.list_(t, size)
    return t
