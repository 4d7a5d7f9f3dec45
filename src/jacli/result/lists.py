"""Lists made on first read: what a ``Result`` holds where making the list costs.

Plain Python; no torch, no SymPy: the values are opaque here.
"""

from __future__ import annotations

from typing import Callable


class Texts:
    """A list of strings printed on first read: ``Texts(values, printer)`` stands for
    ``printer(values)`` (one string per value).

    Printing SymPy expressions costs ~40 µs each; a 200×200 Jacobian has 40 000 of them per
    matrix, and a table shows a dozen rows. So ``compute`` hands over each row's values with
    the printer, and a row is printed whole, once, by whatever reads it first (a renderer,
    ``to_dict``). It is equal to the plain list it stands for, and ``strict`` (every JSON
    path) turns it into one. The values are opaque here: this module imports no SymPy.
    A plain class, not a ``Sequence`` subclass: ``isinstance`` against an ABC costs ~10× a
    plain check, and ``strict`` asks it of every string and float of a 40 000-entry J.
    """

    __slots__ = ("_values", "_printer", "_strings")

    def __init__(self, values: list, printer: Callable[[list], list[str]]) -> None:
        self._values, self._printer, self._strings = values, printer, None

    def _list(self) -> list[str]:
        if self._strings is None:
            self._strings = self._printer(self._values)
            self._values = self._printer = None  # printed: the expressions can go
        return self._strings

    def __getitem__(self, i):
        return self._list()[i]

    def __len__(self) -> int:
        return len(self._values) if self._strings is None else len(self._strings)

    def __iter__(self):
        return iter(self._list())

    def __eq__(self, other) -> bool:
        if isinstance(other, Texts):
            other = other._list()
        return self._list() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # mutable-looking like the list it stands for

    def __repr__(self) -> str:
        return repr(self._list())


class Floats:
    """Autograd's numbers listed on first read: ``Floats(t)`` stands for ``t.tolist()`` (a
    J's rows of floats) and keeps ``t`` itself as ``.tensor`` for callers who want it.

    Listing a 300×300 J costs ~2 ms and freeing the lists about as much: the API in a loop
    that reads ``.tensor``, or nothing, pays neither. Equal to the list it stands for;
    NumPy (``np.asarray``) reads the tensor directly. Opaque here: no torch import.
    """

    __slots__ = ("tensor", "_rows")

    def __init__(self, tensor) -> None:
        self.tensor, self._rows = tensor, None

    def tolist(self) -> list:
        if self._rows is None:
            self._rows = self.tensor.tolist()
        return self._rows

    def __getitem__(self, i):
        return self.tolist()[i]

    def __len__(self) -> int:
        return len(self.tensor)

    def __iter__(self):
        return iter(self.tolist())

    def __eq__(self, other) -> bool:
        if isinstance(other, Floats):
            other = other.tolist()
        return self.tolist() == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # mutable-looking like the list it stands for

    def __array__(self, dtype=None, copy=None):
        return self.tensor.detach().cpu().numpy().astype(dtype or "float64", copy=False)

    def __repr__(self) -> str:
        return repr(self.tolist())
