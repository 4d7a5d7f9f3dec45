"""The array files of ``--at-file`` (``.npy``, ``.npz``; with pyarrow ``.parquet``, ``.arrow``,
``.feather``) in, ``ArrayPoints`` out; the suffix decides the format.

An array's leading axis is the points; the rest is the variable's shape at one point
(``(N,)``: a scalar variable, ``(N, 2, 2)``: a 2×2 one). A ``.npy`` holds one array, for a
function of exactly one variable; a ``.npz`` one array per variable, by name; a table
(``request.arrow``) one column per variable. Numbers are read as float64 (integers rounded
as ``float`` rounds them), every one must be finite, and ``-0.0`` reads as ``0``, as the
exact reading of a text file has it.

Memory stays bounded where the format allows: ``.npy`` is memory-mapped and read a slice at
a time (``read``), tables a row group or record batch at a time; ``.npz`` members load
whole. The file is checked once, a block at a time, before any point is computed, so a bad
number is refused before the stream starts. NumPy is imported only when a file is read.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

from jacli.errors import LimitError, ShapeError, UsageError, ValueInputError
from jacli.request.points import MAX_POINTS, Points
from jacli.request.binding import names_text

SUFFIXES = {".npy": "npy", ".npz": "npz", ".parquet": "parquet", ".arrow": "arrow",
            ".feather": "arrow"}
NEEDS_PYARROW = ("parquet", "arrow")
BLOCK_FLOATS = 1 << 20  # floats per block of the checking pass (8 MB in float64)
OUT_KINDS = ("npz", "parquet")  # what --out-file writes
INSTALL = 'pip install "jacli[arrays]" (or pip install pyarrow)'


def kind(path: str) -> str | None:
    """The array format ``path``'s suffix names, or ``None`` (a text file: JSONL/CSV)."""
    return SUFFIXES.get(Path(path).suffix.lower())


def check_pyarrow(path: str | None, flag: str) -> None:
    """Refuse a table file when pyarrow is missing, in one line, before anything loads."""
    if path is not None and kind(path) in NEEDS_PYARROW \
            and importlib.util.find_spec("pyarrow") is None:
        raise UsageError(f"{flag} {path}: reading and writing {Path(path).suffix} files needs "
                         "pyarrow, which is not installed", hint=INSTALL, where=flag)


def check_out(path: str | None, many: bool | None) -> None:
    """Refuse ``--out-file`` where it cannot apply, before anything is computed: a suffix
    other than .npz/.parquet, or (``many`` False) one point. ``None``: not known yet."""
    if path is None:
        return
    if many is False:
        raise UsageError("--out-file writes the results of many points", where="--out-file",
                         hint="give the points with --at-file FILE or several --at values")
    if kind(path) not in OUT_KINDS:
        raise UsageError(f"--out-file {path}: write .npz or .parquet", where="--out-file",
                         hint="for JSON Lines, redirect stdout: > results.jsonl")


def read_arrays(path: str, where: str) -> "ArrayPoints":
    """The points of an array file, checked: numeric, finite, the same count for every
    variable, at most ``MAX_POINTS``."""
    check_pyarrow(path, where)
    fmt = kind(path)
    where = f"{where} {path}"
    if not Path(path).is_file():  # said as the text files' reader says it
        raise UsageError(f"cannot read {where}: No such file", where=where)
    if fmt in NEEDS_PYARROW:
        from jacli.request.arrow import Table

        source = Table(path, fmt, where)
    else:
        source = _Npy(path, where) if fmt == "npy" else _Npz(path, where)
    points = ArrayPoints(source, where)
    if not len(points):
        raise ValueInputError(f"{where}: no points in the file", where=where)
    if len(points) > MAX_POINTS:
        raise LimitError(f"{where}: {len(points)} points; the limit is {MAX_POINTS}", where=where)
    if source.names is not None:  # a .npy's array is checked once it has its name
        points.validate(source.names)
    return points


class ArrayPoints(Points):
    """N points held in arrays: ``read(name, start, stop)`` gives points ``start:stop`` of a
    variable as one float64 NumPy array; ``exact(i)`` point i as ``Fraction`` values. A
    ``.npy``'s one array takes its variable's name in ``check_names``."""

    def __init__(self, source, where: str) -> None:
        super().__init__(source.count, self._exact)
        self.source, self.where = source, where

    def names(self) -> list[str]:
        return list(self.source.names)

    def check_names(self, variables) -> None:
        if self.source.names is None:  # .npy: one array, one variable
            if len(variables) != 1:
                raise UsageError(f"{self.where}: a .npy file holds one array, and the function "
                                 f"has {len(variables)} variables ({names_text(variables)})",
                                 hint="give a .npz with one array per variable, by name",
                                 where=self.where)
            self.source.names = [variables[0]]
            self.validate(self.source.names)
            return
        extra = [n for n in self.source.names if n not in variables]
        if extra:
            raise ValueInputError(f"{self.where}: {extra[0]!r} is not a variable of this "
                                  "function", hint=f"variables: {names_text(variables)}",
                                  where=self.where)
        missing = [n for n in variables if n not in self.source.names]
        if missing:
            self.shape(missing[0])  # refused there, naming the arrays the file holds

    def shape(self, name: str) -> tuple[int, ...]:
        """``name``'s shape at one point; a clear refusal when the file lacks it."""
        if name not in self.names():
            noun = getattr(self.source, "noun", "array")
            raise ValueInputError(f"{self.where} has no {noun} for the variable {name!r}",
                                  hint=f"{noun}s in the file: {names_text(self.names())}",
                                  where=self.where)
        return self.source.shape(name)

    def read(self, name: str, start: int, stop: int):
        """Points ``start:stop`` of ``name``: a new (stop-start, *shape) float64 array."""
        import numpy as np

        self.shape(name)
        block = np.array(self.source.read(name, start, stop), dtype=np.float64)
        block += 0.0  # -0.0 + 0.0 is 0.0: the exact reading's zero has no sign
        return block

    def column(self, name: str, shape: tuple[int, ...]):
        """Every point's value of ``name`` (a float64 array), of ``shape`` at each point."""
        if self.shape(name) != shape:
            raise ShapeError(f"{self.where}: {name} has shape {self.shape(name)} at each "
                             f"point, not {shape}", where=self.where)
        return self.read(name, 0, self.count)

    def validate(self, names) -> None:
        """Every number of ``names`` finite, checked a block of points at a time (bounded
        memory; a table's row groups are each read once for all the names)."""
        import numpy as np

        per_point = sum(int(np.prod(self.shape(n))) for n in names)
        size = max(1, BLOCK_FLOATS // max(1, per_point))
        for start in range(0, self.count, size):
            for name in names:
                block = self.read(name, start, min(start + size, self.count))
                bad = ~np.isfinite(block.reshape(len(block), -1)).all(1)
                if bad.any():
                    raise ValueInputError(
                        f"{self.where}: point {start + int(np.argmax(bad)) + 1}: {name} is "
                        "not a finite number", hint="every value must be finite, as --at "
                        "wants it", where=self.where)

    def _exact(self, i: int) -> dict:
        return {n: _fractions(self.read(n, i, i + 1)[0].tolist()) for n in self.names()}


def _fractions(value):
    return [_fractions(v) for v in value] if isinstance(value, list) else Fraction(value)


def numeric(dtype, name: str, where: str) -> None:
    """Refuse a NumPy dtype that is not integers or reals (booleans are not numbers)."""
    if dtype.kind not in "iuf":
        raise ValueInputError(f"{where}: {name} holds {dtype} values, not numbers",
                              hint="store integers or floats", where=where)


def _points_axis(array, name: str, where: str) -> None:
    numeric(array.dtype, name, where)
    if array.ndim == 0:
        raise ShapeError(f"{where}: {name} is a single number; the leading axis is the points",
                         hint="save an array of shape (N, ...)", where=where)


def _load(load, where: str):
    """``load()``, with a file NumPy cannot read said in one line."""
    import zipfile

    try:
        return load()
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueInputError(f"cannot read {where}: {getattr(e, 'strerror', None) or e}",
                              hint="save it with numpy.save / numpy.savez", where=where) from None


class _Npy:
    """One memory-mapped array: ``read`` copies only the slice asked for."""

    def __init__(self, path: str, where: str) -> None:
        import numpy as np

        self.array = _load(lambda: np.load(path, mmap_mode="r", allow_pickle=False), where)
        if not isinstance(self.array, np.ndarray):
            raise ValueInputError(f"{where}: not a .npy array", where=where)
        _points_axis(self.array, "the array", where)
        self.names, self.count = None, len(self.array)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.array.shape[1:])

    def read(self, name: str, start: int, stop: int):
        return self.array[start:stop]


class _Npz(_Npy):
    """One array per variable, each loaded whole (a zip member cannot be memory-mapped)."""

    def __init__(self, path: str, where: str) -> None:
        import numpy as np

        z = _load(lambda: np.load(path, allow_pickle=False), where)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueInputError(f"{where}: not a .npz archive", where=where,
                                  hint="save it with numpy.savez(FILE, x=..., y=...)")
        with z:
            arrays = {name: _load(lambda: z[name], f"{where} member {name}") for name in z.files}
        for name, array in arrays.items():
            _points_axis(array, name, where)
        counts = {len(a) for a in arrays.values()}
        if len(counts) > 1:
            raise ShapeError(f"{where}: the arrays hold different numbers of points ("
                             + ", ".join(f"{n}: {len(a)}" for n, a in arrays.items()) + ")",
                             hint="every array's leading axis is the same N points", where=where)
        self.arrays, self.names, self.count = arrays, list(arrays), counts.pop() if counts else 0

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.arrays[name].shape[1:])

    def read(self, name: str, start: int, stop: int):
        return self.arrays[name][start:stop]
