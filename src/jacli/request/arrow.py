"""Tables of points for ``--at-file``: Parquet and Arrow IPC (``.arrow``/``.feather``), read
with pyarrow (an optional extra; ``request.arrays`` checks it is installed first).

A column per variable, a row per point. A number column (integers or floats) is a scalar
variable. A list column is a tensor variable: each row holds the tensor's numbers flattened
row-major, and the nesting gives the shape: ``fixed_size_list<double>[3]`` is shape (3,),
a fixed-size list of fixed-size lists ``[2][3]`` is (2, 3). Plain (variable-size) lists are
read the same way, their lengths taken from the first point, and every point must have
those lengths. No nulls.

Memory: Parquet is read a row group at a time, an IPC file a record batch at a time
(memory-mapped); an IPC *stream* has no index, so it is read whole.
"""

from __future__ import annotations

import bisect

from jacli.errors import ShapeError, ValueInputError


class Table:
    """The ``source`` of ``request.arrays.ArrayPoints`` for a table file: ``names``,
    ``count``, ``shape(name)``, ``read(name, start, stop)``."""

    noun = "column"

    def __init__(self, path: str, fmt: str, where: str) -> None:
        import pyarrow as pa

        self.where = where
        try:
            schema, sizes, self._get = _parquet(path) if fmt == "parquet" else _ipc(path)
        except (OSError, pa.ArrowException) as e:
            raise ValueInputError(f"cannot read {where}: {e}", where=where,
                                  hint="write it with pyarrow (parquet.write_table or "
                                  "feather.write_feather)") from None
        self.names = list(schema.names)
        self.starts = [0]
        for size in sizes:
            self.starts.append(self.starts[-1] + size)
        self.count = self.starts[-1]
        self._window: tuple = (None, None)  # ((start, stop), {name: array})
        self._last: tuple = (None, None)  # (batch, {name: array})
        self._shapes: dict[str, tuple[int, ...]] = {}
        twice = [n for i, n in enumerate(self.names) if n in self.names[:i]]
        if twice:
            raise ValueInputError(f"{where}: two columns are named {twice[0]!r}", where=where)
        if self.count:  # the first point's lengths fix the shapes
            first = self._batch(next(b for b, size in enumerate(sizes) if size))
            self._shapes = {n: a.shape[1:] for n, a in first.items()}

    def shape(self, name: str) -> tuple[int, ...]:
        return self._shapes[name]

    def read(self, name: str, start: int, stop: int):
        """Points start:stop of a column. Every column of that window is converted at once
        and kept until another window is asked for: the stream reads each variable's slice
        of the same chunk in turn."""
        if self._window[0] != (start, stop):
            self._window = ((start, stop), None)  # drop the old window before the new one
            self._window = ((start, stop), self._columns(start, stop))
        return self._window[1][name]

    def _columns(self, start: int, stop: int) -> dict:
        """Every column's points start:stop, from the row groups (batches) that hold them."""
        import numpy as np

        first = bisect.bisect_right(self.starts, start) - 1
        parts = {n: [] for n in self.names}
        for b in range(first, len(self.starts) - 1):
            lo = self.starts[b]
            if lo >= stop:
                break
            for n, values in self._batch(b).items():
                parts[n].append(values[max(start - lo, 0):stop - lo])
        return {n: p[0] if len(p) == 1 else np.concatenate(p) for n, p in parts.items()}

    def _batch(self, b: int) -> dict:
        """Batch ``b``'s columns as NumPy arrays; the last one is kept (a window of points
        often starts in the row group the previous one ended in)."""
        if self._last[0] != b:
            self._last = (None, None)
            batch = self._get(b)
            self._last = (b, {n: _numbers(batch.column(n), n, self.starts[b],
                                          self._shapes.get(n), self.where)
                              for n in self.names})
        return self._last[1]


def _parquet(path: str):
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path, memory_map=True)
    sizes = [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)]
    return f.schema_arrow, sizes, f.read_row_group


def _ipc(path: str):
    import pyarrow as pa

    try:
        reader = pa.ipc.open_file(pa.memory_map(path))
        sizes = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
        return reader.schema, sizes, reader.get_batch
    except pa.ArrowInvalid:  # not the file format: the stream format, read whole
        with pa.memory_map(path) as source:
            table = pa.ipc.open_stream(source).read_all()
        batches = table.to_batches()
        return table.schema, [b.num_rows for b in batches], batches.__getitem__


def _numbers(column, name: str, offset: int, shape, where: str):
    """A column of one batch as a (rows, *shape) NumPy array of its numbers.

    ``shape``: the first point's shape, which every point must have (``None`` while the
    first batch is read). ``offset``: the batch's first point, for the messages."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    rows, dims = len(column), []
    while pa.types.is_list(column.type) or pa.types.is_large_list(column.type) \
            or pa.types.is_fixed_size_list(column.type):
        _no_nulls(column, name, where)
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        want = shape[len(dims)] if shape is not None and len(dims) < len(shape) else \
            (int(lengths[0]) if len(lengths) else 0)
        if (lengths != want).any():
            j = int((lengths != want).argmax())
            raise ShapeError(f"{where}: point {offset + j // _product(dims) + 1}: {name} has a "
                             f"list of {lengths[j]} numbers where the first point's has {want}",
                             hint="every point's tensor has the same shape", where=where)
        dims.append(want)
        column = column.flatten()
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise ValueInputError(f"{where}: column {name!r} holds {column.type} values, not numbers",
                              hint="store integers or floats, or lists of them", where=where)
    _no_nulls(column, name, where)
    values = column.to_numpy(zero_copy_only=False).reshape(rows, *dims)
    if shape is not None and values.shape[1:] != tuple(shape):
        raise ShapeError(f"{where}: {name} has shape {values.shape[1:]} in a later row group, "
                         f"the first point gave {tuple(shape)}", where=where)
    return values


def _no_nulls(column, name: str, where: str) -> None:
    if column.null_count:
        raise ValueInputError(f"{where}: column {name!r} has a missing (null) value",
                              hint="every point needs every number", where=where)


def _product(dims) -> int:
    out = 1
    for d in dims:
        out *= d
    return out
