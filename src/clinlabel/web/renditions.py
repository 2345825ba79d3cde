"""Display renditions cached on disk in `<project>/cache/renditions/`, never in the batch.

Each image is decoded once per (file version, size): the key is a hash of its relative path plus
its byte size, modification time, `max_side` (or "own size") and frame, so an edited file gets a
new rendition and the old one is simply never asked for again. The key doubles as the HTTP entity
tag.

Decoding a 12 MP JPEG takes tens of milliseconds of CPU, so it runs in worker threads (bounded by
the number of cores, so a burst of prefetches cannot starve the label saves) and two requests for
the same rendition share one decode.

The folder is bounded in bytes (`max_bytes`, 2 GiB unless the user says otherwise): a 4K colour
run or a long night of prefetching must not fill the laptop's disk. When a write takes it over the
bound, the least recently used renditions (access time, set explicitly on every hit, since
filesystems mounted noatime or relatime do not keep it) are deleted down to 80 % of it. Anything
used in the last minute is kept: it may be on its way to the browser.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.web.config import OWN_SIZE_LIMIT

if TYPE_CHECKING:
    from clinlabel.imaging.render import Rendition

DEFAULT_CACHE_BYTES = 2 * 1024**3
#: Pruning stops at this fraction of the bound, so a full cache is not pruned on every write.
PRUNE_TO = 0.8
#: A rendition used more recently than this is never pruned (it may be being sent).
PRUNE_GRACE_NS = 60 * 10**9

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_MEDIA_TYPES = {ext: media for media, ext in _EXTENSIONS.items()}


@dataclass(frozen=True)
class CachedRendition:
    path: Path
    media_type: str
    etag: str


def cache_key(relpath: str, *, size: int, mtime_ns: int, max_side: int | None, frame: int) -> str:
    """`max_side` None is the image's own size; the limit is in the key, so changing it is safe."""
    digest = hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:24]
    side = f"own{OWN_SIZE_LIMIT}" if max_side is None else str(max_side)
    return f"{digest}-{size}-{mtime_ns}-{side}-f{frame}"


def own_max_side(width: int, height: int, *, limit: int = OWN_SIZE_LIMIT) -> int:
    """The `max_side` that gives a DICOM rendition at its own size when its long side is within
    `limit`, otherwise reduced by the smallest integer factor that brings it within `limit`.

    The rendering engine reduces by `ceil(long / max_side)`, less one when that would leave under
    `GREY_SLACK` of `max_side` (`rendering.grey_reduction`): asking for `limit` itself would send a
    5,700 px image whole. Asking for `ceil(long / factor)` pins the factor, and for an image within
    the limit (factor 1) that is its own long side: never enlarged, never reduced.
    """
    long_side = max(width, height, 1)
    factor = -(-long_side // limit)
    return -(-long_side // factor)


class RenditionCache:
    def __init__(
        self, folder: Path, *, workers: int | None = None, max_bytes: int = DEFAULT_CACHE_BYTES
    ) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.limiter = anyio.CapacityLimiter(workers or max(2, os.cpu_count() or 2))
        self._in_flight: dict[str, asyncio.Future[CachedRendition]] = {}
        self.import_lock = threading.Lock()
        # Bytes in the folder: measured on the first write of this server, then counted.
        self._bytes: int | None = None
        self._bytes_lock = threading.Lock()

    async def get(
        self, path: Path, kind: ImageKind, *, relpath: str, max_side: int | None, frame: int = 1
    ) -> CachedRendition:
        """The cached rendition of `path`, decoding it first if needed (off the event loop).

        `max_side` None: a DICOM frame at its own size (`own_max_side`); other kinds, which the
        page never asks for so, are bounded by `OWN_SIZE_LIMIT`.
        """
        # One thread hop does the stat, the cache lookup and (if needed) the decode; requests for
        # the same image and size share it.
        flight = f"{relpath}\0{max_side}\0{frame}"
        pending = self._in_flight.get(flight)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedRendition] = asyncio.get_running_loop().create_future()
        self._in_flight[flight] = future
        try:
            result = await anyio.to_thread.run_sync(
                self._produce, path, kind, relpath, max_side, frame, limiter=self.limiter
            )
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here so an unawaited future logs nothing
            raise
        finally:
            del self._in_flight[flight]
        future.set_result(result)
        return result

    def _decoders(self, kind: ImageKind) -> Callable[..., Rendition]:
        # Two worker threads importing pydicom for the first time at once can see it half
        # initialised (its modules import each other): seen as "partially initialized module
        # 'pydicom'" on the first DICOM prefetches. Decoders are imported under a lock, lazily,
        # so a batch of photos never pays for pydicom or nibabel.
        with self.import_lock:
            from clinlabel.imaging import render

            if kind is ImageKind.DICOM:
                importlib.import_module("clinlabel.imaging.dicom_display")
            elif kind is ImageKind.NIFTI:
                importlib.import_module("clinlabel.imaging.nifti")
        return render.display_rendition

    @staticmethod
    def _own_max_side(path: Path, kind: ImageKind) -> int:
        if kind is not ImageKind.DICOM:
            return OWN_SIZE_LIMIT
        # The rendering tags only (a cold read costs a fraction of a decode), on a cache miss only.
        from clinlabel.imaging.dicom_header import read_render_header

        options = read_render_header(path).options
        return own_max_side(int(options["columns"]), int(options["rows"]))

    def _find(self, key: str) -> CachedRendition | None:
        for ext, media_type in _MEDIA_TYPES.items():
            candidate = self.folder / f"{key}.{ext}"
            try:
                stat = candidate.stat()
                # Mark it used (for pruning), keeping its modification time.
                os.utime(candidate, ns=(time.time_ns(), stat.st_mtime_ns))
            except OSError:
                continue
            return CachedRendition(candidate, media_type, f'"{key}"')
        return None

    def _written(self, size: int) -> None:
        """Count a new rendition of `size` bytes and prune if the folder is over its bound."""
        with self._bytes_lock:
            if self._bytes is None:
                self._bytes = sum(size for _, size, _ in self._entries())
            else:
                self._bytes += size
            if self._bytes > self.max_bytes:
                self._bytes = self._prune(int(self.max_bytes * PRUNE_TO))

    def _entries(self) -> list[tuple[int, int, str]]:
        """(access time ns, size, path) of every rendition in the folder, oldest use first."""
        entries: list[tuple[int, int, str]] = []
        try:
            listing = list(os.scandir(self.folder))
        except OSError:
            return entries
        for entry in listing:
            if entry.name.startswith(".tmp-"):
                continue
            try:
                stat = entry.stat()
            except OSError:  # pruned or replaced meanwhile
                continue
            entries.append((stat.st_atime_ns, stat.st_size, entry.path))
        entries.sort()
        return entries

    def _prune(self, target: int) -> int:
        """Delete the least recently used renditions until at most `target` bytes remain (but
        none used within `PRUNE_GRACE_NS`); the bytes left."""
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        recent = time.time_ns() - PRUNE_GRACE_NS
        for used, size, path in entries:
            if total <= target or used > recent:
                break
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError:  # unremovable: leave it, count it
                continue
            total -= size
        return total

    def _produce(
        self, path: Path, kind: ImageKind, relpath: str, max_side: int | None, frame: int
    ) -> CachedRendition:
        try:
            stat = path.stat()
        except OSError as exc:
            raise DecodeError(f"{relpath} cannot be read: {exc.strerror or exc}.") from exc
        key = cache_key(
            relpath, size=stat.st_size, mtime_ns=stat.st_mtime_ns, max_side=max_side, frame=frame
        )
        found = self._find(key)
        if found is not None:
            return found
        display_rendition = self._decoders(kind)
        if max_side is None:
            max_side = self._own_max_side(path, kind)
        rendition = display_rendition(path, kind, max_side=max_side, frame=frame)
        ext = _EXTENSIONS.get(rendition.media_type)
        if ext is None:
            raise DecodeError(f"Unexpected rendition type {rendition.media_type}.")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{key}.{ext}"
        # A cache needs no fsync: a lost file is decoded again. The rename keeps readers from
        # ever seeing half a file.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=f".{ext}")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(rendition.data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._written(len(rendition.data))
        return CachedRendition(target, rendition.media_type, f'"{key}"')
