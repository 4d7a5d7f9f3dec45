"""A small bounded cache, least recently used out first, for work a process repeats.

Parsed programs, their lowerings and their symbolic Jacobians are cached with it (the API in
a loop, ``jacli batch``, many points of one program). What goes in must be immutable, or
treated so by every reader: an entry is shared by every request that finds it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable


class Lru:
    """At most ``size`` entries; ``get`` refreshes an entry, ``put`` evicts the oldest."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, value: Any) -> Any:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
