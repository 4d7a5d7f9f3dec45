"""Module proxies that import on first attribute access, and meanings built on first call.

The function table names torch and SymPy in its rows, but the symbolic-only path and
``--help`` must never pay the ~1.7 s torch import, and the numeric path (a forked child
computing numbers, ``--at-file``'s batches, ``symbolic="never"``) never the ~0.6 s SymPy
import. The proxies defer each import to the first row actually run on that side; ``Later``
defers building a SymPy meaning (lifting a function to object arrays reads SymPy).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Callable


class LazyModule:
    """``torch = LazyModule("torch")``; ``torch.sin`` imports torch the first time. Each
    attribute read is kept on the proxy, so the next read is a plain attribute read (the
    symbolic side reads ``sp.Add`` and the like thousands of times a request)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        value = getattr(self._module, attr)
        setattr(self, attr, value)
        return value


class Later:
    """A callable built by ``build()`` on its first call (then called as itself): a row's
    SymPy meaning that would read SymPy, or a SymPy-side module, to be built."""

    __slots__ = ("build", "fn")

    def __init__(self, build: Callable[[], Callable]) -> None:
        self.build, self.fn = build, None

    def __call__(self, *args, **kwargs):
        if self.fn is None:
            self.fn = self.build()
        return self.fn(*args, **kwargs)


torch = LazyModule("torch")
sympy = LazyModule("sympy")
# the SymPy side's own modules: each imports SymPy and defines SymPy classes at its top
object_arrays = LazyModule("jacli.backends.object_arrays")
piecewise = LazyModule("jacli.backends.piecewise")
sym_extra = LazyModule("jacli.backends.sym_extra")
