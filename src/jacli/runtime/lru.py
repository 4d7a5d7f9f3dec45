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
            try:
                self._entries.move_to_end(key)
            except KeyError:  # evicted meanwhile by another thread: the entry is still good
                pass
        return entry

    def put(self, key: Hashable, value: Any) -> Any:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            try:
                self._entries.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread
                break
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
