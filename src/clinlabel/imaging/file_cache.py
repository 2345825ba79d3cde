"""A small LRU cache of things loaded from files, keyed by path, modification time and size.

Parsing a DICOM header or loading a NIfTI volume costs far more than showing one frame or slice
of it, and the viewer asks for the same file again and again. A changed file (new mtime or size)
is a new key, so a stale entry is never served; old entries fall out by count or by weight.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from clinlabel.errors import DecodeError

T = TypeVar("T")


class FileCache(Generic[T]):
    """Values loaded from files, at most `max_items` of them and `max_weight` in all."""

    def __init__(
        self,
        *,
        max_items: int,
        max_weight: int | None = None,
        weight: Callable[[T], int] = lambda _: 0,
    ) -> None:
        self._items: OrderedDict[tuple[str, int, int], T] = OrderedDict()
        self._lock = threading.Lock()
        self._max_items = max_items
        self._max_weight = max_weight
        self._weight = weight

    def get(
        self,
        path: Path,
        load: Callable[[Path, int], T],
        *,
        also: FileCache[T] | None = None,
    ) -> T:
        """The value for `path`, from `load(path, size)` on first use; `DecodeError` if the
        file cannot be read or is empty. A value `also` holds for the same key is returned as
        it is (one stat for both caches), without being copied here."""
        path = Path(path)
        try:
            stat = path.stat()
        except OSError as exc:
            raise DecodeError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
        # abspath, not resolve(): no system calls per look-up (resolve costs about as much as
        # reading a CT slice's pixels). A file reached through two links is cached twice, the
        # worst that can happen; mtime and size still keep every entry fresh.
        key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        if also is not None:
            with also._lock:
                found = also._items.get(key)
            if found is not None:
                return found
        if stat.st_size == 0:
            raise DecodeError(f"{path.name} is empty (0 bytes).")
        value = load(path, stat.st_size)
        with self._lock:
            self._items[key] = value
            while len(self._items) > 1 and self._too_full():
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def _too_full(self) -> bool:
        if len(self._items) > self._max_items:
            return True
        if self._max_weight is None:
            return False
        return sum(self._weight(value) for value in self._items.values()) > self._max_weight
