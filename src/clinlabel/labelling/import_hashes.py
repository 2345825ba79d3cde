"""SHA-256 of many image files at once, under the rules `project.confined_path` keeps.

An import hashes every image it labels first (a label points at exact bytes). Resolving each
file's whole path through `confined_path` (a realpath of the batch and of every folder, in
Python, holding the GIL) cost more than hashing a small image. Here a folder is resolved once
and checked to be inside the batch; each file is then opened without following a link
(`O_NOFOLLOW`) nor waiting on a pipe (`O_NONBLOCK`), and must be a regular file. A file that is
a link is resolved and checked in full by `confined_path`, as a label save does.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from clinlabel.errors import ImageFileError
from clinlabel.labelling.project import confined_path, file_sha256

_CHUNK = 1 << 20
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)


class BatchHasher:
    """Hashes files of one batch; one per worker (it keeps the folders it resolved)."""

    def __init__(self, batch: Path) -> None:
        self.batch = batch
        self.root = os.path.realpath(batch)
        self._folders: dict[str, str | None] = {}

    def _folder(self, below: str) -> str | None:
        """The real path of a folder of the batch, or None if it resolves outside it."""
        if below not in self._folders:
            real = os.path.realpath(os.path.join(self.root, *below.split("/")))
            inside = real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)
            self._folders[below] = real if inside else None
        return self._folders[below]

    def sha256(self, relpath: str) -> str | None:
        """The file's SHA-256, or None if it is gone, not a regular file, or outside the batch
        (never read then)."""
        below, _, name = relpath.rpartition("/")
        folder = self._folder(below)
        if folder is None:
            return None
        try:
            fd = os.open(os.path.join(folder, name), _FLAGS)
        except OSError:
            return self._through_links(relpath)  # a link (ELOOP), or gone
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        try:
            if not regular:  # a folder, a named pipe or a device in the image's place
                return None
            # Read on the descriptor itself: a file object and its buffer cost more than the
            # read of a small image.
            digest = hashlib.sha256()
            try:
                while chunk := os.read(fd, _CHUNK):
                    digest.update(chunk)
            except OSError:
                return None
            return digest.hexdigest()
        finally:
            os.close(fd)

    def _through_links(self, relpath: str) -> str | None:
        try:
            return file_sha256(confined_path(self.batch, relpath))
        except ImageFileError:
            return None
