"""Can a DICOM or NIfTI file be shown? Header-level checks for `clinlabel scan` (no pixels decoded).

Discovery checks that a file is the image its name promises; this goes one step further for the
medical formats, whose failures only show when the viewer opens them: a DICOM object without
pixel data (a structured report, a presentation state), a transfer syntax no installed plugin
decodes (MPEG video, say), native pixel data cut short, encapsulated fragments running past the end
of the file, a NIfTI whose voxels do not fit in the file, a header declaring more pixels than
the memory budget (`budget`). Such files stay in the queue (the
annotator can label them NA with a comment); `scan` lists them so nobody is surprised.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import budget

_ITEM, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD


def why_not_shown(
    path: Path, kind: ImageKind, *, memory_budget: int = budget.DEFAULT_BYTES
) -> str | None:
    """Why the viewer could not show `path`, or None when its header promises an image (and
    one frame or volume of it fits in `memory_budget` bytes)."""
    try:
        if kind is ImageKind.DICOM:
            _check_dicom(Path(path), memory_budget)
        elif kind is ImageKind.NIFTI:
            _check_nifti(Path(path), memory_budget)
    except DecodeError as exc:
        reason = str(exc).rstrip(".")
        # The caller shows the path beside the reason; "x.dcm has no pixel data" reads as twice.
        name = Path(path).name
        if reason.startswith((f"{name} ", f"{name}: ")):
            reason = reason[len(name) :].lstrip(": ")
        return reason
    except OSError as exc:
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    return None


def _check_dicom(path: Path, limit: int) -> None:
    from clinlabel.imaging.dicom_header import parse_render_header

    # Raises for a missing or damaged header, no pixel data, an incomplete Image Pixel module,
    # native data shorter than its frames, and a transfer syntax without a decoder.
    header = parse_render_header(path)
    header.take_handover()  # no frame is read here: drop the file's bytes at once
    budget.check(
        budget.dicom_frame_bytes(header.options),
        name=path.name,
        what=f"one frame ({header.options['rows']} x {header.options['columns']} pixels)",
        limit=limit,
    )
    if header.is_encapsulated and header.inflated is None:
        _check_fragments(path, header.pixel_offset)


def _check_fragments(path: Path, offset: int) -> None:
    """PS3.5 A.4: items (offset table, then fragments) until the sequence delimiter, each
    within the file. Only the 8-byte item headers are read."""
    size = os.path.getsize(path)
    with path.open("rb") as handle:
        at = offset
        while True:
            handle.seek(at)
            head = handle.read(8)
            if len(head) < 8:
                raise DecodeError(
                    f"{path.name} is truncated: its compressed pixel data has no end marker."
                )
            group, element, length = struct.unpack("<HHI", head)
            tag = group << 16 | element
            if tag == _SEQUENCE_END:
                return
            if tag != _ITEM:
                raise DecodeError(f"{path.name}: its compressed pixel data is damaged.")
            at += 8 + length
            if at > size:
                raise DecodeError(
                    f"{path.name} is truncated: a fragment of its compressed pixel data runs "
                    f"{at - size} bytes past the end of the file."
                )


def _check_nifti(path: Path, limit: int) -> None:
    import nibabel as nib
    import numpy as np

    try:
        image: Any = nib.load(path)  # a Nifti1Image or Nifti2Image, typed as their base here
        header = image.header
        shape = header.get_data_shape()
        dtype = np.dtype(header.get_data_dtype())
        # The proxy's offset is where nibabel will read the voxels (vox_offset as stored).
        offset = int(getattr(image.dataobj, "offset", 0))
    except Exception as exc:  # nibabel raises many types for damaged headers
        raise DecodeError(f"{path.name} has a damaged NIfTI header ({exc}).") from exc
    if not shape or 0 in shape:
        raise DecodeError(f"{path.name} holds no voxels.")
    budget.check(
        budget.nifti_bytes(shape, dtype.itemsize),
        name=path.name,
        what=f"its volume ({' x '.join(map(str, shape))} {dtype.name})",
        limit=limit,
    )
    if path.name.lower().endswith(".gz"):
        return  # the size inside is known only by inflating it all; the viewer says if short
    needed = offset + int(np.prod(shape)) * dtype.itemsize
    size = os.path.getsize(path)
    if size < needed:
        raise DecodeError(
            f"{path.name} is truncated: its voxels need {needed} bytes, the file holds {size}."
        )
