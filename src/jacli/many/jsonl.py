"""The many-points rows as JSON Lines text, written from arrays a chunk at a time.

A row is ``{"index": i, "value": [...], "jacobian": [[...], ...]}`` (or ``"vjp"``), byte for
byte what ``json.dumps(row)`` writes: ``", "`` between items, floats by ``repr``. Writing
is float formatting: ``repr`` costs ~0.5 µs a float, so 10⁵ points of a 3→3 J (1.2 M floats)
took longer than reading, computing and the symbolic side together. Two writers, one format:

* ``orjson``, when installed (optional: ``pip install jacli[fast]``): each array of the chunk
  written in one call (~10× faster per float), ``","`` widened to ``", "``, then cut at the
  points' boundaries. orjson's shortest round-trip digits are ``repr``'s, and so is its
  layout except for 1e-9 ≤ |x| < 1e-4 (``1e-5`` vs ``1e-05``, ``0.00001``): a row holding a
  number below 1e-4 in magnitude (zero aside) is written by ``repr`` instead, as is every
  row of a chunk without orjson (tests/test_many_fast.py compares both on tricky values);
* ``repr``: one ``%`` per row on its varying numbers; entries constant over the chunk
  are written into the format once (``_template``).

Rows with a NaN or an infinity are the caller's: their strict strings ("NaN", "Infinity") go
through ``json.dumps`` (``stream.json_lines``). Returns lines for every row, those included.
"""

from __future__ import annotations

import os

from jacli.runtime.overlap import may_fork

try:  # optional: the writer falls back on repr, with the same bytes
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

TINY = 1e-4  # below this magnitude (zero aside) repr and orjson lay numbers out differently


def lines(start: int, arrays: dict, keys: list[str], use_orjson: bool | None = None) -> list[str]:
    """The JSON line of each point of a chunk: ``arrays[k]`` is an (N, ...) float NumPy
    array for each key (``value`` (N, m), ``jacobian`` (N, m, n), ``vjp`` (N, n)), point
    ``start + i`` in row i. ``use_orjson``: force a writer (default: orjson when installed)."""
    import numpy as np

    arrays = {k: np.ascontiguousarray(arrays[k], dtype=np.float64) for k in keys}
    N = len(arrays[keys[0]])
    fast = orjson is not None if use_orjson is None else use_orjson
    if not fast or N == 0 or any(0 in a.shape for a in arrays.values()):
        return _by_repr(start, arrays, keys, range(N), [""] * N)
    cut = {k: _cut(arrays[k]) for k in keys}
    row = "{" + '"index": %d, ' + ", ".join(f'"{k}": %s' for k in keys) + "}\n"
    out = [row % (start + i, *vals) for i, vals in enumerate(zip(*(cut[k] for k in keys)))]
    tiny = np.zeros(N, dtype=bool)
    for a in arrays.values():
        flat = np.abs(a.reshape(N, -1))
        tiny |= ((flat < TINY) & (flat > 0)).any(1)
    return _by_repr(start, arrays, keys, np.flatnonzero(tiny).tolist(), out)


def _cut(a) -> list[str]:
    """Each point's part of ``a`` (N, ...) as JSON text: one orjson call for the whole
    array, split at the separators between points (``]], [[`` for (N, m, n))."""
    depth = a.ndim - 1  # brackets each point's text opens with
    text = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY).replace(b",", b", ").decode()
    if depth == 0:
        return text[1:-1].split(", ")
    opened, closed = "[" * depth, "]" * depth
    return [opened + part + closed
            for part in text[1 + depth:-1 - depth].split(closed + ", " + opened)]


def _by_repr(start: int, arrays: dict, keys: list[str], rows, out: list[str]) -> list[str]:
    """``out`` with the given rows written by ``repr`` (Python's own layout): every row
    from one ``tolist`` per array (the second half in a second process, ``halves``), a few
    rows from their own."""
    if len(rows) == len(out) and len(out):
        row, data = _template(arrays, keys)
        return halves(lambda a, b: [row % (start + i, *vals) for i, vals in
                                    enumerate(data[a:b], a)], len(out))
    row = "{" + '"index": %d, ' + ", ".join(f'"{k}": %r' for k in keys) + "}\n"
    for i in rows:
        out[i] = row % (start + i, *(arrays[k][i].tolist() for k in keys))
    return out


def _template(arrays: dict, keys: list[str]) -> tuple[str, list]:
    """A row's ``%`` format and each point's values for it. An entry that holds the same
    float at every point of the chunk (bit for bit: a constant of J, the 2 of d(2*x2)/dx2)
    is written into the format once instead of by ``repr`` at every point: 4 of the 12
    numbers of a row of the seeds' 3→3 system, 40% of its writing time."""
    import numpy as np

    parts, varying = [], []
    for k in keys:
        flat = arrays[k].reshape(len(arrays[k]), -1)
        same = (flat.view(np.int64) == flat[:1].view(np.int64)).all(0)  # -0.0 is not 0.0
        entries = iter(repr(float(x)) if c else "%r" for x, c in zip(flat[0], same))
        parts.append(f'"{k}": ' + _nested(arrays[k].shape[1:], entries))
        varying.append(flat[:, ~same])
    data = np.concatenate(varying, axis=1).tolist()
    return "{" + '"index": %d, ' + ", ".join(parts) + "}\n", data


def _nested(shape: tuple, entries) -> str:
    """``entries`` (texts, row-major) laid out as a JSON list of ``shape``, as ``repr``
    lays out a nested list."""
    if not shape:
        return next(entries)
    return "[" + ", ".join(_nested(shape[1:], entries) for _ in range(shape[0])) + "]"


def halves(write, n: int) -> list[str]:
    """``write(0, n)``: the lines of rows 0 … n-1 (each ending in one newline). Past
    ``PARALLEL_ROWS`` a forked child writes the second half while this process writes the
    first, and sends it back as one text: formatting floats is Python work the GIL keeps on
    one core, and it was most of an ``--at-file`` run's own time (0.45 s of 10⁵ 3→3 points).
    The child runs no torch and takes no lock (its parent may have threads); where it fails,
    or cannot be forked (not Linux, ``JACLI_OVERLAP=0``), this process writes it all."""
    if n < PARALLEL_ROWS or not may_fork():
        return write(0, n)
    half = n // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its half as one text, then out without the parent's cleanup
        try:
            os.close(read_end)
            data = memoryview("".join(write(half, n)).encode())
            while data:
                data = data[os.write(write_end, data):]
        finally:
            os._exit(0)
    os.close(write_end)
    first = write(0, half)
    with os.fdopen(read_end, "rb") as pipe:
        second = pipe.read().decode().splitlines(keepends=True)
    _, status = os.waitpid(pid, 0)
    if status != 0 or len(second) != n - half:  # the child did not finish: write it here
        second = write(half, n)
    return first + second


PARALLEL_ROWS = 20_000  # below this, forking (~5 ms with torch loaded) costs more than it saves
