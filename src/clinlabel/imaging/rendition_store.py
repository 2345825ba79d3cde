"""Display renditions kept on disk in `<project>/cache/renditions/`, never in the batch.

A rendition's file name is derived from the identity of the file it was made from (path,
size, modification time, inode, device: `FileIdentity.token`), the size asked for and the
frame. A look-up takes the file's identity now, so a rendition of an older version, or of
another file that once had that path, is never found again; it simply ages out. The name doubles
as the HTTP entity tag. Names carry a format and pipeline version (`KEY_VERSION`): renditions
written by a clinlabel that keyed or drew them otherwise are never read.

The folder is bounded in bytes (`max_bytes`, 2 GiB unless the user says otherwise): a 4K colour
run or a long night of prefetching must not fill the laptop's disk. When a write takes it over the
bound, the least recently used renditions (access time, set explicitly on every hit, since
filesystems mounted noatime or relatime do not keep it) are deleted down to 80 % of it. Anything
used in the last minute is kept: it may be on its way to the browser.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from clinlabel.errors import DecodeError
from clinlabel.imaging.file_identity import FileIdentity

DEFAULT_CACHE_BYTES = 2 * 1024**3
#: Pruning stops at this fraction of the bound, so a full cache is not pruned on every write.
PRUNE_TO = 0.8
#: A rendition used more recently than this is never pruned (it may be being sent).
PRUNE_GRACE_NS = 60 * 10**9
#: The key format and display pipeline version: renditions under another one are never read (and
#: age out). Raise it whenever what a rendition shows changes for the same file (v3: Presentation
#: LUT Shape and NaN voxels, ADR 0008), or renditions made before would still be served.
KEY_VERSION = "v3"

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_MEDIA_TYPES = {ext: media for media, ext in _EXTENSIONS.items()}


@dataclass(frozen=True)
class CachedRendition:
    path: Path
    media_type: str
    etag: str


def rendition_key(identity: FileIdentity, *, side: str, frame: int) -> str:
    """`side` is the long side asked for ("2048") or "own4096" for the image's own size."""
    return f"{KEY_VERSION}-{identity.token()}-{side}-f{frame}"


class RenditionStore:
    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        # Bytes in the folder: measured on the first write, then counted.
        self._bytes: int | None = None
        self._bytes_lock = threading.Lock()

    def find(self, key: str) -> CachedRendition | None:
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

    def put(self, key: str, data: bytes, media_type: str) -> CachedRendition:
        ext = _EXTENSIONS.get(media_type)
        if ext is None:
            raise DecodeError(f"Unexpected rendition type {media_type}.")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{key}.{ext}"
        # A cache needs no fsync: a lost file is decoded again. The rename keeps readers from
        # ever seeing half a file.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=f".{ext}")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._written(len(data))
        return CachedRendition(target, media_type, f'"{key}"')

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
