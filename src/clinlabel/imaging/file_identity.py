"""The identity of a file on disk: what every viewing cache is keyed by and checked against.

A path alone is not an identity (the file can be replaced), nor is a Python object's `id()`
(reused as soon as the object is freed, which once showed one file's pixels for another's). A
file version is the device and inode `stat` reports for the path (symbolic links followed), with
its size, modification time and change time, plus the absolute path asked for; a cached value is
served only for exactly that identity, and a value computed from bytes read while the identity
changed is thrown away (`check_unchanged`). The change time (st_ctime_ns) is what catches bytes
rewritten in place with the modification time put back: the kernel sets it on every write and
on `utime` itself, and no user call can set it back. Device and inode name the file itself, so
the path is not resolved (`realpath` costs an `lstat` per folder, 17 us on a batch path, on every
look-up): a file reached through two links is cached twice, the worst that can happen.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from clinlabel.errors import DecodeError


@dataclass(frozen=True, slots=True)
class FileIdentity:
    path: str
    """The absolute path the file was asked for by (normalised, links not resolved)."""
    size: int
    mtime_ns: int
    inode: int
    device: int
    ctime_ns: int
    """The inode's change time: moved by any write or attribute change, never set back."""

    def token(self) -> str:
        """A short digest of the whole identity, for file names and entity tags."""
        text = (
            f"{self.path}\0{self.size}\0{self.mtime_ns}\0{self.inode}\0{self.device}"
            f"\0{self.ctime_ns}"
        )
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def identify(path: Path | str) -> FileIdentity:
    """The identity of the file at `path` now; `DecodeError` when it cannot be read."""
    return _stat_identity(os.path.abspath(path), Path(path).name)


def check_unchanged(identity: FileIdentity) -> None:
    """`DecodeError` unless the file still has `identity` (call after reading it)."""
    now = _stat_identity(identity.path, Path(identity.path).name)
    if now != identity:
        raise FileChangedError(
            f"{Path(identity.path).name} changed on disk while it was being read; try again."
        )


class FileChangedError(DecodeError):
    """The file was replaced or written while it was read: what was read is not kept."""


def _stat_identity(absolute: str, name: str) -> FileIdentity:
    try:
        stat = os.stat(absolute)
    except OSError as exc:
        raise DecodeError(f"Cannot read {name}: {exc.strerror or exc}.") from exc
    return FileIdentity(
        path=absolute,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        inode=stat.st_ino,
        device=stat.st_dev,
        ctime_ns=stat.st_ctime_ns,
    )
