"""How much memory decoding one image may take, judged from its header before any pixel is read.

A 1 MB `.nii.gz` can declare 2048 x 2048 x 256 voxels, a 10 KB JPEG-compressed DICOM 65535 x 65535
RGB pixels, a PNG a canvas of gigapixels: their decoders allocate what the header declares, so the
header is checked against the budget first and the file refused with a `TooLargeError` past it.

What counts is what a loader holds at once: a NIfTI volume whole (it is decoded whole, every
volume of a 4-D series included), one DICOM frame (frames are decoded one at a time, so a long
cine run of ordinary frames is fine) or the whole pixel data of a Deflated DICOM (inflated whole),
and a photo's decoded canvas. Pillow's own decompression-bomb limit stays on besides this.

The limit travels with the reader that decodes (`reader.DirectReader(memory_budget=...)`, the
project's `viewing.ViewingService`), built from what the user chose (`clinlabel label`, `info`
and `render` take `--memory-budget-mb`): no module keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from clinlabel.errors import TooLargeError

MIB = 1024 * 1024
#: Per volume / frame / photo: a 512 x 512 x 1000 int16 CT is 500 MiB and fits, as does any
#: single DICOM frame or photo a camera or modality writes today.
DEFAULT_BYTES = 512 * MIB


def nifti_bytes(shape: Iterable[int], itemsize: int) -> int:
    """Bytes of a NIfTI volume as its header declares it (every dimension, stored type)."""
    return math.prod(int(n) for n in shape) * int(itemsize)


def dicom_frame_bytes(options: Mapping[str, Any]) -> int:
    """Bytes of one decoded DICOM frame: Rows x Columns x Samples per Pixel x Bits Allocated.

    Bits Allocated 1 still decodes to one byte per pixel; other depths to whole bytes.
    """
    bits = max(8, int(options.get("bits_allocated") or 8))
    return (
        int(options.get("rows") or 0)
        * int(options.get("columns") or 0)
        * int(options.get("samples_per_pixel") or 1)
        * ((bits + 7) // 8)
    )


def dicom_pixel_bytes(options: Mapping[str, Any]) -> int:
    """Bytes of a DICOM file's whole pixel data: one frame's times Number of Frames."""
    return dicom_frame_bytes(options) * max(1, int(options.get("number_of_frames") or 1))


def photo_bytes(width: int, height: int, bands: int, bytes_per_band: int = 1) -> int:
    """Bytes of a decoded photo: its canvas times its bands (RGBA is 4 bytes a pixel)."""
    return int(width) * int(height) * max(1, int(bands)) * max(1, int(bytes_per_band))


def check(declared: int, *, name: str, what: str, limit: int) -> None:
    """Raise `TooLargeError` when `declared` bytes exceed the budget.

    `what` says what was measured ("its volume (2048 x 2048 x 256 int16)"), so the message tells
    the user why the file is refused and how to raise the limit when it is genuine.
    """
    allowed = limit
    if declared <= allowed:
        return
    raise TooLargeError(
        f"{name} is too large to decode: {what} needs {_size(declared)}, "
        f"more than the memory budget of {_size(allowed)}.",
        hint="If the file is genuine, raise the budget with --memory-budget-mb.",
    )


def _size(count: int) -> str:
    if count >= 10 * 1024 * MIB:
        return f"{count / (1024 * MIB):,.0f} GiB"
    if count >= MIB:
        return f"{count / MIB:,.0f} MiB"
    return f"{count:,} bytes"
