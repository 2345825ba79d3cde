"""Atomic file output: a crash or a full disk never leaves a half-written file behind.

Write to a temporary file in the destination folder, flush, fsync, then rename over the target
(rename is atomic within one file system on POSIX and Windows), and fsync the folder so the
rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from clinlabel.errors import OutputError


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import, before any threads: os.umask can only be read by setting it.
_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_writer(
    path: Path,
    *,
    mode: str = "w",
    encoding: str | None = "utf-8",
    newline: str | None = None,
    private: bool = False,
) -> Iterator[IO[str]]:
    """Open a text file whose content appears at `path` only if the block completes.

    `private` keeps the file readable by its owner only (0600) from its first byte: for secrets.
    """
    with _atomic(path, mode=mode, encoding=encoding, newline=newline, private=private) as handle:
        yield handle


@contextlib.contextmanager
def atomic_binary_writer(path: Path) -> Iterator[IO[bytes]]:
    """Binary twin of `atomic_writer`."""
    with _atomic(path, mode="wb", encoding=None, newline=None) as handle:
        yield handle


@contextlib.contextmanager
def _atomic(
    path: Path, *, mode: str, encoding: str | None, newline: str | None, private: bool = False
) -> Iterator[IO]:  # type: ignore[type-arg]
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The temporary name holds the start of the file's own only: a name near the file
        # system's 255 bytes, plus the random part, would be one it refuses.
        start = path.name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{start}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"Cannot write to {folder}: {exc.strerror}.") from exc
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file private (0600); an output is shared like any file the user saves.
        os.chmod(tmp, 0o600 if private else 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise OutputError(
                f"The disk is full: {_named(path)} was not written (any previous version is "
                "intact).",
                hint="Free some space and try again.",
            ) from exc
        raise OutputError(f"Cannot write {_named(path)}: {exc.strerror or exc}.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _named(path: Path) -> Path:
    """The output a user asked for, also when what failed was its staged copy."""
    name = path.name
    if name.startswith(".") and name.endswith(".pending"):
        return path.with_name(name[1 : -len(".pending")])
    return path


def pending_path(path: Path) -> Path:
    """Where to stage `path` before `publish` (a hidden sibling, so one rename publishes it)."""
    return path.with_name(f".{path.name}.pending")


def publish(pending: Path, path: Path) -> None:
    """Move a complete staged file over `path` in one rename, durably."""
    try:
        os.replace(pending, path)
    except OSError as exc:
        pending.unlink(missing_ok=True)
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Directories cannot be opened for fsync on Windows; there the rename is durable enough.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
