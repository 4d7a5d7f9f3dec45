"""A module proxy that imports on first attribute access.

The function table names torch in its rows, but the symbolic-only path and ``--help`` must
never pay the ~1.7 s torch import; the proxy defers it to the first row actually run on torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """``torch = LazyModule("torch")``; ``torch.sin`` imports torch the first time."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


torch = LazyModule("torch")
