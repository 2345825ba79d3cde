"""Bytes rewritten in place (same inode, size and modification time) while a file is viewed.

Found by the attack on issue 9: the viewing service keys every cache by (device, inode, size,
mtime_ns, path), but not the change time; the label save does hash such a file anew (ADR 0009
uses the change time), so the event records bytes the annotator was never shown, and the stale
rendition is stored on disk under the file's current identity, where it survives restarts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from clinlabel.domain.images import ImageKind
from clinlabel.imaging.viewing import ViewingService

from .identity_batch import bright_spot, expected_pixels, write_identity_file


def _rewrite_in_place(path: Path, source: Path) -> None:
    """Write `source`'s bytes over `path` (same inode), then put the old times back."""
    stat = path.stat()
    data = source.read_bytes()
    assert len(data) == stat.st_size
    with path.open("r+b") as handle:
        handle.write(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    )


def test_a_frame_of_a_file_rewritten_in_place_is_the_new_bytes(tmp_path: Path) -> None:
    path = write_identity_file(tmp_path / "image.dcm", 4)  # even indices: native, one size
    other = write_identity_file(tmp_path / "other.dcm", 6)
    service = ViewingService()
    assert np.array_equal(service.frame(service.render_header(path), 1), expected_pixels(4))
    _rewrite_in_place(path, other)
    shown = service.frame(service.render_header(path), 1)
    assert np.array_equal(shown, expected_pixels(6)), "the old file's pixels were served"


def test_a_rendition_of_a_file_rewritten_in_place_is_not_kept_across_restarts(
    tmp_path: Path,
) -> None:
    path = write_identity_file(tmp_path / "image.dcm", 4)
    other = write_identity_file(tmp_path / "other.dcm", 6)
    renditions = tmp_path / "renditions"
    ViewingService(rendition_folder=renditions).rendition(path, ImageKind.DICOM, max_side=1024)
    _rewrite_in_place(path, other)
    restarted = ViewingService(rendition_folder=renditions)
    again = restarted.rendition(path, ImageKind.DICOM, max_side=1024)
    shown = np.asarray(Image.open(again.path))
    assert np.unravel_index(int(shown.argmax()), shown.shape) == bright_spot(6), (
        "the rendition on disk still shows the bytes the file held before"
    )
