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
* ``repr``: one ``%`` per row on the rows' Python lists.

Rows with a NaN or an infinity are the caller's: their strict strings ("NaN", "Infinity") go
through ``json.dumps`` (``stream.json_lines``). Returns lines for every row, those included.
"""

from __future__ import annotations

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
    from one ``tolist`` per array, a few rows from their own."""
    row = "{" + '"index": %d, ' + ", ".join(f'"{k}": %r' for k in keys) + "}\n"
    if len(rows) == len(out):
        return [row % (start + i, *vals)
                for i, vals in enumerate(zip(*(arrays[k].tolist() for k in keys)))]
    for i in rows:
        out[i] = row % (start + i, *(arrays[k][i].tolist() for k in keys))
    return out
