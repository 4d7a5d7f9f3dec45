"""Lists made on first read: what a ``Result`` holds where making the list costs.

Plain Python; no torch, no SymPy: the values are opaque here.
"""

from __future__ import annotations

from typing import Callable


class Listed:
    """A list made on first read (``tolist()``, once): equal to it, and read like it.
    A plain class, not a ``Sequence`` subclass: ``isinstance`` against an ABC costs ~10× a
    plain check, and ``strict`` asks it of every string and float of a 40 000-entry J."""

    __slots__ = ()

    def tolist(self) -> list:
        raise NotImplementedError

    def __getitem__(self, i):
        return self.tolist()[i]

    def __iter__(self):
        return iter(self.tolist())

    def __eq__(self, other) -> bool:
        if isinstance(other, Listed):
            other = other.tolist()
        return self.tolist() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # mutable-looking like the list it stands for

    def __repr__(self) -> str:
        return repr(self.tolist())


class Texts(Listed):
    """A list of strings printed on first read: ``Texts(values, printer)`` stands for
    ``printer(values)`` (one string per value).

    Printing SymPy expressions costs ~40 µs each; a 200×200 Jacobian has 40 000 of them per
    matrix, and a table shows a dozen rows. So ``compute`` hands over each row's values with
    the printer, and a row is printed whole, once, by whatever reads it first (a renderer,
    ``to_dict``). ``strict`` (every JSON path) turns it into the plain list. The values are
    opaque here: this module imports no SymPy.
    """

    __slots__ = ("_values", "_printer", "_strings")

    def __init__(self, values: list, printer: Callable[[list], list[str]]) -> None:
        self._values, self._printer, self._strings = values, printer, None

    def tolist(self) -> list[str]:
        if self._strings is None:
            self._strings = self._printer(self._values)
            self._values = self._printer = None  # printed: the expressions can go
        return self._strings

    def __len__(self) -> int:
        return len(self._values) if self._strings is None else len(self._strings)


class Floats(Listed):
    """Autograd's numbers listed on first read: ``Floats(t)`` stands for ``t.tolist()`` (a
    J's rows of floats) and keeps ``t`` itself as ``.tensor`` for callers who want it.

    Listing a 300×300 J costs ~2 ms and freeing the lists about as much: the API in a loop
    that reads ``.tensor``, or nothing, pays neither. NumPy (``np.asarray``) reads the
    tensor directly. Opaque here: no torch import.
    """

    __slots__ = ("tensor", "_rows")

    def __init__(self, tensor) -> None:
        self.tensor, self._rows = tensor, None

    def tolist(self) -> list:
        if self._rows is None:
            self._rows = self.tensor.tolist()
        return self._rows

    def __len__(self) -> int:
        return len(self.tensor)

    def __array__(self, dtype=None, copy=None):
        return self.tensor.detach().cpu().numpy().astype(dtype or "float64", copy=False)
