"""Renditions: what the browser and `clinlabel render` show for one image file.

The web face calls `display_rendition` (and caches the result on disk); `render_png` is the CLI's
"exactly what the viewer shows, at the image's own size". Both write PNG with `png_writer`
(a fixed row filter in NumPy, not Pillow's per-row adaptive search): stored for renditions, which
cross a loopback socket, and Huffman-coded for the files users keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import raster
from clinlabel.imaging.png_writer import encode_png
from clinlabel.imaging.reader import DIRECT, ImageReader
from clinlabel.imaging.windowing import Window

PLANES = ("axial", "coronal", "sagittal")


@dataclass(frozen=True)
class Rendition:
    """Encoded bytes ready to send, with their media type and pixel size."""

    data: bytes
    media_type: str
    width: int
    height: int


def display_rendition(
    path: Path,
    kind: ImageKind,
    *,
    max_side: int = 2048,
    frame: int = 1,
    plane: str = "axial",
    reader: ImageReader = DIRECT,
) -> Rendition:
    """The browser rendition of one image (frame and slice numbered from 1).

    Photos: the original bytes of a small upright baseline JPEG, otherwise a DCT-scaled JPEG q85
    (PNG when transparent). DICOM and NIfTI: the 8-bit image after the PS3.3 C.11 pipeline with the
    file's own default window (or the full range), as a lossless PNG (stored, not compressed: it
    crosses a loopback socket, where encoding time matters and size hardly does). NIfTI slices
    are reduced by a power of two keeping at least 0.9 `max_side` (`raster.draft_scale`); DICOM
    frames by the integer factor of `rendering.grey_reduction`, on the stored values before the
    display table (`dicom_display.display_pixels`).
    Raises `DecodeError` for anything that cannot be shown.
    """
    path = Path(path)
    if kind is ImageKind.RASTER:
        data, media_type, width, height = raster.photo_rendition(
            path, max_side=max_side, memory_budget=reader.memory_budget
        )
        return Rendition(data=data, media_type=media_type, width=width, height=height)
    if kind is ImageKind.DICOM:
        from clinlabel.imaging import dicom_display

        data, width, height = dicom_display.rendition_png(
            path, frame=frame, max_side=max_side, reader=reader
        )
        return Rendition(data=data, media_type="image/png", width=width, height=height)
    pixels = render_array(path, kind, frame=frame, plane=plane, reader=reader)
    factor = raster.draft_scale(pixels.shape[1], pixels.shape[0], max_side)
    if factor > 1:
        # Box-filtered (each output pixel the mean of factor x factor inputs), not striding,
        # so thin lines and fine noise do not alias.
        pixels = np.asarray(_to_image(pixels).reduce(factor))
    return _png_rendition(pixels)


def _png_rendition(pixels: np.ndarray) -> Rendition:
    return Rendition(
        data=encode_png(pixels, compress=False),
        media_type="image/png",
        width=int(pixels.shape[1]),
        height=int(pixels.shape[0]),
    )


def render_array(
    path: Path,
    kind: ImageKind,
    *,
    frame: int = 1,
    plane: str = "axial",
    window: Window | None = None,
    preset: str | None = None,
    invert: bool = False,
    reader: ImageReader = DIRECT,
) -> np.ndarray:
    """The 8-bit display pixels (rows x columns, or rows x columns x 3) of a DICOM or NIfTI file."""
    if kind is ImageKind.DICOM:
        from clinlabel.imaging import dicom_display

        return dicom_display.display_pixels(
            path, frame=frame, window=window, preset=preset, invert=invert, reader=reader
        )
    if kind is ImageKind.NIFTI:
        from clinlabel.imaging import nifti

        return nifti.display_slice(
            path,
            index=frame,
            plane=plane,
            window=window,
            preset=preset,
            invert=invert,
            reader=reader,
        )
    shown: np.ndarray = np.asarray(raster.display_image(path, memory_budget=reader.memory_budget))
    return shown


def render_png(
    path: Path,
    kind: ImageKind,
    *,
    frame: int = 1,
    plane: str = "axial",
    window: Window | None = None,
    preset: str | None = None,
    invert: bool = False,
    reader: ImageReader = DIRECT,
) -> bytes:
    """PNG of exactly what the viewer shows, at the image's own size (for `clinlabel render`)."""
    pixels = render_array(
        Path(path),
        kind,
        frame=frame,
        plane=plane,
        window=window,
        preset=preset,
        invert=invert,
        reader=reader,
    )
    return encode_png(pixels, compress=True)


def _to_image(pixels: np.ndarray) -> Image.Image:
    if pixels.ndim == 2:
        return Image.fromarray(pixels, mode="L")
    return Image.fromarray(pixels, mode="RGB")


def kind_of(path: Path) -> ImageKind:
    """Guess the kind of a file from its name and first bytes (for the CLI, which has no scan)."""
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return ImageKind.NIFTI
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return ImageKind.RASTER
    if name.endswith((".dcm", ".dicom")) or head[128:132] == b"DICM":
        return ImageKind.DICOM
    if not name.endswith((".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp")):
        from clinlabel.imaging import dicom_header

        if dicom_header.looks_like_dicom(path):
            return ImageKind.DICOM
    return ImageKind.RASTER


#: The most bytes the page may hold for one photo's full-resolution picture (decoded RGBA): a
#: 12 MP camera photo is 48 MiB, a 24 MP one 96 MiB. Past it (or past the project's memory
#: budget, or the browser's 16384 px texture side) the picture is reduced by the smallest whole
#: factor that fits, so even a gigapixel scan is sharper at 100 % than the screen rendition.
FULL_BYTES = 128 * 1024 * 1024
FULL_MAX_SIDE = 16384


@dataclass(frozen=True)
class PhotoSize:
    """A photo's upright size (EXIF orientation applied) and the size its full rendition has."""

    width: int
    height: int
    full_width: int
    full_height: int

    @property
    def reduction(self) -> int:
        return max(1, -(-self.width // self.full_width))


def full_reduction(width: int, height: int, *, memory_budget: int) -> int:
    """The smallest whole factor by which a `width` x `height` photo is reduced for the page."""
    limit = min(FULL_BYTES, memory_budget)
    factor = 1
    while (
        max(width, height) / factor > FULL_MAX_SIDE
        or (width // factor) * (height // factor) * 4 > limit
    ):
        factor += 1
    return factor


def photo_size(path: Path, *, memory_budget: int) -> PhotoSize:
    """The upright size of a photo from its header (no pixel is decoded)."""
    image = raster.open_image(Path(path), memory_budget=memory_budget)
    try:
        width, height = image.size
        orientation = raster.exif_of(image, Path(path).name).get(raster.EXIF_ORIENTATION, 1)
    finally:
        image.close()
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn: the picture stands the other way
        width, height = height, width
    factor = full_reduction(width, height, memory_budget=memory_budget)
    return PhotoSize(width, height, width // factor, height // factor)


def full_photo_rendition(path: Path, *, memory_budget: int) -> Rendition:
    """A photo at its own pixels (or reduced by `full_reduction` when too large for the page).

    The file's own bytes when the browser shows them exactly as the screen rendition does (an
    upright 8-bit JPEG or PNG), so 100 % shows the camera's pixels; otherwise decoded upright
    and encoded losslessly (PNG), or as JPEG q95 when the file itself is a JPEG.
    """
    path = Path(path)
    size = photo_size(path, memory_budget=memory_budget)
    if size.reduction == 1 and raster.original_fits_full(path, memory_budget=memory_budget):
        data = path.read_bytes()
        media_type = "image/jpeg" if data[:2] == b"\xff\xd8" else "image/png"
        return Rendition(data, media_type, size.width, size.height)
    shown = raster.display_image(path, memory_budget=memory_budget)
    if size.reduction > 1:
        # Box-filtered, like the screen rendition's reductions: fine detail does not alias.
        shown = shown.reduce(size.reduction)
    data, media_type = raster.encode_full(shown, jpeg=raster.is_jpeg(path))
    return Rendition(data, media_type, shown.width, shown.height)
