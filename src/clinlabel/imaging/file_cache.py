"""A bounded LRU of values computed from files, keyed by what identifies them exactly.

Keys are `FileIdentity` values (or tuples holding one), never a path alone or a Python object's
`id()`. Entries fall out by count and by weight (bytes), the total kept as entries come and go.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class IdentityCache(Generic[K, T]):
    """At most `max_items` values and `max_weight` in all (the newest value is always kept)."""

    def __init__(
        self,
        *,
        max_items: int,
        max_weight: int | None = None,
        weight: Callable[[T], int] = lambda _: 0,
    ) -> None:
        self._items: OrderedDict[K, tuple[T, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_items = max_items
        self._max_weight = max_weight
        self._weight = weight
        self._total = 0

    def get(self, key: K) -> T | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: T) -> None:
        weight = self._weight(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            self._items[key] = (value, weight)
            self._total += weight
            while len(self._items) > 1 and self._too_full():
                _, (_, dropped) = self._items.popitem(last=False)
                self._total -= dropped

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0

    def _too_full(self) -> bool:
        if len(self._items) > self._max_items:
            return True
        return self._max_weight is not None and self._total > self._max_weight
