"""How many frames (or slices) an image has, read from its header: a frame label must name one.

A DICOM file has Number of Frames; a NIfTI volume has a slice count per plane, and the page may
label a slice of any plane, so a frame number is accepted up to the largest of the three; a photo
is one frame. Nothing is decoded: the DICOM header comes from the reader (in the server, the
viewing service's cached one), a NIfTI header is read alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError, ValidationError
from clinlabel.imaging.reader import DIRECT, ImageReader


def frame_count(path: Path, kind: ImageKind, *, reader: ImageReader = DIRECT) -> int:
    """Frames of a DICOM file, largest slice count of a NIfTI volume, 1 for a photo."""
    if kind is ImageKind.DICOM:
        return reader.header(path).frames
    if kind is ImageKind.NIFTI:
        return _nifti_slices(path)
    return 1


def _nifti_slices(path: Path) -> int:
    import nibabel as nib

    from clinlabel.imaging.nifti import quiet

    try:
        with quiet():
            image: Any = nib.load(path)
            shape = tuple(int(n) for n in image.header.get_data_shape())
    except Exception as exc:  # nibabel raises many types for damaged headers
        raise DecodeError(f"{path.name} has a damaged NIfTI header ({exc}).") from exc
    return max((*shape[:3], 1))


def check_frame(path: Path, kind: ImageKind, frame: int, *, reader: ImageReader = DIRECT) -> None:
    """`ValidationError` unless `frame` (from 1; 0 is the whole file) exists in the image."""
    if frame == 0:
        return
    if frame < 0:
        raise ValidationError("Frames are numbered from 1 (0 is the whole file).")
    try:
        count = frame_count(path, kind, reader=reader)
    except DecodeError as exc:
        raise ValidationError(
            f"Frame {frame} cannot be labelled: the frames of {path.name} cannot be counted "
            f"({exc.message.rstrip('.')}).",
            hint="Label the whole file instead.",
        ) from exc
    if frame > count:
        what = "frame" if count == 1 else "frames"
        raise ValidationError(
            f"{path.name} has {count} {what}; frame {frame} does not exist.",
            hint="Label the whole file, or a frame from 1 to the last.",
        )
