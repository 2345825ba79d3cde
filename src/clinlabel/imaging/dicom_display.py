"""From a DICOM file and a frame number to 8-bit display pixels, the way PS3.3 C.11 says.

Reads the attributes of the pipeline (top level, or the frame's functional groups in enhanced
objects), chooses the window (asked for, a preset, the file's own, a VOI LUT, or the full range)
and runs `rendering`. `grey_frame` hands the web face the full-depth values and the windows so
that window/level can run in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import JPEG2000TransferSyntaxes, JPEGLSTransferSyntaxes

from clinlabel.errors import DecodeError
from clinlabel.imaging import rendering, windowing
from clinlabel.imaging.dicom_frames import render_frame
from clinlabel.imaging.dicom_header import DicomHeader
from clinlabel.imaging.functional_groups import frame_group, value
from clinlabel.imaging.png_writer import encode_png, grey_png_stored
from clinlabel.imaging.reader import DIRECT, ImageReader
from clinlabel.imaging.rendering import GreyTransform, LutTable
from clinlabel.imaging.windowing import VOI_FUNCTIONS, Window

# Tags of the attributes read for every rendition (by tag: see `functional_groups.value`).
_RESCALE_INTERCEPT = 0x00281052
_RESCALE_SLOPE = 0x00281053
_MODALITY_LUT_SEQUENCE = 0x00283000
_VOI_LUT_SEQUENCE = 0x00283010
_WINDOW_CENTER = 0x00281050
_WINDOW_WIDTH = 0x00281051
_WINDOW_EXPLANATION = 0x00281055
_VOI_LUT_FUNCTION = 0x00281056
_PRESENTATION_LUT_SHAPE = 0x20500020

_COLOUR = frozenset(
    {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_420", "YBR_PARTIAL_422", "YBR_ICT", "YBR_RCT"}
)


@dataclass(frozen=True)
class GreyFrame:
    """One grey-scale frame at full depth: what the browser needs for live window/level."""

    stored: np.ndarray
    transform: GreyTransform
    windows: tuple[Window, ...]
    """The file's own windows (Window Center/Width), first is the default."""
    voi_lut: LutTable | None
    full_range: Window


def grey_transform(header: DicomHeader, frame: int) -> GreyTransform:
    """Modality and presentation attributes of `frame`: PS3.3 C.7.6.16.2.9 (Pixel Value
    Transformation functional group) before the top-level C.11.1 attributes.

    The Image Pixel attributes come from the header's decoder options (`DicomHeader.options`),
    read once with the header, so the dataset's own elements need not be converted again.
    """
    dataset = header.dataset
    pixel = header.options
    group = frame_group(dataset, frame, "PixelValueTransformationSequence")
    source = group if group is not None and _RESCALE_SLOPE in group else dataset
    slope = float(value(source, _RESCALE_SLOPE, 1) or 1)
    intercept = float(value(source, _RESCALE_INTERCEPT, 0) or 0)
    modality_lut = None
    if _RESCALE_SLOPE not in source:
        sequence = value(dataset, _MODALITY_LUT_SEQUENCE)
        if sequence:
            modality_lut = _lut_table(sequence[0], dataset)
    return GreyTransform(
        signed=int(pixel.get("pixel_representation", 0) or 0) == 1,
        bits_stored=int(pixel.get("bits_stored", pixel.get("bits_allocated", 16)) or 16),
        slope=slope,
        intercept=intercept,
        modality_lut=modality_lut,
        monochrome1=shown_inverted(header),
    )


def shown_inverted(header: DicomHeader) -> bool:
    """Whether the least VOI output is shown white: the polarity of PS3.3 C.11.6.

    Presentation LUT Shape (2050,0020), when the file has one, decides: INVERSE means "output
    after inversion is in P-Values", IDENTITY means no inversion (C.11.6.1). The image modules
    that require it (DX, MG, IO) pair INVERSE with MONOCHROME1 and IDENTITY with MONOCHROME2, so
    for MONOCHROME1 it names the same inversion once, not a second one; on MONOCHROME2 INVERSE
    turns the image negative. See docs/adr/0007. Without it (or with a value that is neither),
    Photometric Interpretation decides: MONOCHROME1 is shown inverted (C.7.6.3.1.2).
    """
    shape = str(value(header.dataset, _PRESENTATION_LUT_SHAPE, "") or "").strip().upper()
    if shape in ("INVERSE", "IDENTITY"):
        return shape == "INVERSE"
    return _photometric(header) == "MONOCHROME1"


def file_windows(dataset: Dataset, frame: int) -> tuple[Window, ...]:
    """Window Center/Width pairs (C.11.2.1.2), from the Frame VOI LUT functional group first."""
    group = frame_group(dataset, frame, "FrameVOILUTSequence")
    source = group if group is not None and _WINDOW_CENTER in group else dataset
    centers = _as_list(value(source, _WINDOW_CENTER))
    widths = _as_list(value(source, _WINDOW_WIDTH))
    explanations = [str(e) for e in _as_list(value(source, _WINDOW_EXPLANATION))]
    function = str(value(source, _VOI_LUT_FUNCTION, "LINEAR") or "LINEAR").strip().upper()
    if function not in VOI_FUNCTIONS:
        function = "LINEAR"
    windows: list[Window] = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        try:
            window = Window(
                float(center),
                float(width),
                function,  # type: ignore[arg-type]
                explanations[index] if index < len(explanations) else "",
            )
        except (TypeError, ValueError):
            continue
        minimum = 1.0 if window.function == "LINEAR" else 0.0
        if window.width > minimum or (window.function == "LINEAR" and window.width == 1):
            windows.append(window)
    return tuple(windows)


def voi_lut(dataset: Dataset) -> LutTable | None:
    """The first VOI LUT Sequence (0028,3010) item as a table (C.11.2.1.1), if any."""
    sequence = value(dataset, _VOI_LUT_SEQUENCE)
    return _lut_table(sequence[0], dataset) if sequence else None


def grey_frame(path: Path, *, frame: int = 1, reader: ImageReader = DIRECT) -> GreyFrame:
    """Stored values of a grey-scale frame with everything needed to window it anywhere."""
    header, stored = render_frame(path, frame, reader=reader)
    if stored.ndim != 2:
        raise DecodeError(f"{header.path.name} is a colour image, not grey-scale.")
    transform = grey_transform(header, frame)
    return GreyFrame(
        stored=stored,
        transform=transform,
        windows=file_windows(header.dataset, frame),
        voi_lut=voi_lut(header.dataset),
        full_range=rendering.full_range(stored, transform),
    )


def display_pixels(
    path: Path,
    *,
    frame: int = 1,
    window: Window | None = None,
    preset: str | None = None,
    invert: bool = False,
    reduce: int = 1,
    reader: ImageReader = DIRECT,
) -> np.ndarray:
    """8-bit pixels as the viewer shows them: rows x columns (grey) or rows x columns x 3 (RGB).

    Window choice: `window`, else `preset` ("full" for the full range, a CT preset name, or the
    explanation of one of the file's windows), else the file's first window, else its VOI LUT
    Sequence, else the frame's full range.

    `reduce` > 1 (renditions for a smaller screen) box-filters by that integer factor. Grey frames
    on the table route are reduced as stored values, before the table, as viewers resample before
    windowing: the table then looks up 1/factor^2 of the pixels. The window is chosen on the whole
    frame first, so "full range" is the same with or without reduction. Colour and the rest are
    reduced after display (8-bit means per channel).
    """
    header, stored = render_frame(path, frame, reader=reader)
    shown = _display(header, stored, frame, window, preset, invert, reduce)
    assert isinstance(shown, np.ndarray)
    return shown


def rendition_png(
    path: Path, *, frame: int = 1, max_side: int = 2048, reader: ImageReader = DIRECT
) -> tuple[bytes, int, int]:
    """The browser rendition as (stored-deflate PNG, width, height): `display_pixels` with the
    file's default window, reduced for a `max_side` screen by `rendering.grey_reduction`.

    Grey frames on the table route are looked up straight into the PNG's stored blocks
    (`png_writer.grey_png_stored`); anything else is encoded from its display pixels.
    """
    header, stored = render_frame(path, frame, reader=reader)
    options = header.options
    reduce = rendering.grey_reduction(int(options["columns"]), int(options["rows"]), max_side)
    shown = _display(header, stored, frame, None, None, False, reduce, rows=True)
    if isinstance(shown, rendering.LookUpRows):
        data = grey_png_stored(shown.height, shown.width, shown.fill)
        if data is not None:
            return data, shown.width, shown.height
        shown = _display(header, stored, frame, None, None, False, reduce)
        assert isinstance(shown, np.ndarray)
    return encode_png(shown, compress=False), int(shown.shape[1]), int(shown.shape[0])


def _display(
    header: DicomHeader,
    stored: np.ndarray,
    frame: int,
    window: Window | None,
    preset: str | None,
    invert: bool,
    reduce: int,
    rows: bool = False,
) -> np.ndarray | rendering.LookUpRows:
    """The display pixels, or with `rows` (grey frames on the table route only) the rows to be
    looked up where the caller wants them (`rendering.look_up_rows`)."""
    if _is_colour(header, stored):
        return _reduced_display(_colour(header, stored), reduce)
    transform = grey_transform(header, frame)
    table: LutTable | None = None
    # The frame's least and greatest stored value, when the window was made from them.
    span: tuple[int, int] | None = None
    if window is None and preset is not None:
        window = _preset(preset, header, frame, stored, transform)
    if window is None:
        windows = file_windows(header.dataset, frame)
        if windows:
            window = windows[0]
        else:
            table = voi_lut(header.dataset)
            if table is None:
                if rendering.table_friendly(stored):
                    span = rendering.stored_span(stored)
                window = rendering.full_range(stored, transform, span=span)
    if rendering.table_friendly(stored):
        bits = transform.bits_stored if _masked(header, stored, transform) else None
        if rows and stored.ndim == 2 and reduce < 2:
            line = rendering.cached_display_affine(
                stored.dtype.str, transform, window, table, invert, bits
            )
            if line is not None:
                return rendering.line_rows(stored, line, span=span)
        lut = rendering.cached_display_lut(stored.dtype.str, transform, window, table, invert, bits)
        if rows and stored.ndim == 2:
            return rendering.look_up_rows(stored, lut, reduce, bits=bits)
        if reduce > 1:
            return rendering.reduce_and_look_up(stored, lut, reduce, bits=bits)
        return rendering.apply_display_lut(stored, lut)
    shown = rendering.display_values(stored, transform, window=window, voi_lut=table, invert=invert)
    return _reduced_display(shown, reduce)


def _reduced_display(pixels: np.ndarray, factor: int) -> np.ndarray:
    """8-bit display pixels box-filtered by `factor` (Pillow's `reduce`: partial edge boxes)."""
    if factor <= 1:
        return pixels
    from PIL import Image

    image = Image.fromarray(pixels, mode="L" if pixels.ndim == 2 else "RGB")
    return np.asarray(image.reduce(factor))


def _preset(
    name: str, header: DicomHeader, frame: int, stored: np.ndarray, transform: GreyTransform
) -> Window:
    lowered = name.strip().lower()
    if lowered in ("full", "full-range", "full_range"):
        return rendering.full_range(stored, transform)
    for own in file_windows(header.dataset, frame):
        if own.explanation.strip().lower() == lowered:
            return own
    try:
        return windowing.preset(lowered)
    except KeyError as exc:
        raise DecodeError(str(exc.args[0])) from None


def _masked(header: DicomHeader, stored: np.ndarray, transform: GreyTransform) -> bool:
    """True when the frame holds only Bits Stored values, so a 2^bits table covers it.

    pydicom clears the unused high bits (its `correct_unused_bits`, on by default) for every
    syntax but the JPEG-LS and JPEG 2000 families, and `dicom_frames` reads native data the same
    way; for those two families we look at the values (their decode costs far more than the look).
    """
    syntax = header.transfer_syntax
    if syntax in JPEGLSTransferSyntaxes or syntax in JPEG2000TransferSyntaxes:
        return rendering.within_bits(stored, transform.bits_stored)
    return True


def _photometric(header: DicomHeader) -> str:
    """Photometric Interpretation, from the decoder options read with the header."""
    return str(header.options.get("photometric_interpretation", "") or "").strip()


def _is_colour(header: DicomHeader, stored: np.ndarray) -> bool:
    photometric = _photometric(header)
    return stored.ndim == 3 or photometric == "PALETTE COLOR" or photometric in _COLOUR


def _colour(header: DicomHeader, stored: np.ndarray) -> np.ndarray:
    """Palette colour through its LUTs (C.7.6.3.1.5); RGB/YBR already converted by pydicom."""
    photometric = _photometric(header)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels.processing import apply_color_lut

        try:
            rgb = np.asarray(apply_color_lut(np.asarray(stored), header.dataset))
        except (AttributeError, ValueError, KeyError, IndexError) as exc:
            raise DecodeError(
                f"{header.path.name}: the palette cannot be applied ({exc})."
            ) from exc
        bits = 16 if rgb.dtype.itemsize > 1 else 8
        return rendering.colour_to_uint8(rgb[..., :3], bits_stored=bits)
    if stored.ndim != 3:
        raise DecodeError(f"{header.path.name}: {photometric} data decoded with one sample.")
    bits = int(header.options.get("bits_stored", 8))
    return rendering.colour_to_uint8(stored, bits_stored=bits)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]


def _lut_table(item: Dataset, dataset: Dataset) -> LutTable | None:
    """A LUT Descriptor and LUT Data (C.11.1.1, C.11.2.1.1) as a `LutTable`."""
    descriptor = item.get("LUTDescriptor")
    data = item.get("LUTData")
    if descriptor is None or data is None or len(descriptor) < 3:
        return None
    entries, first, bits = (int(v) for v in descriptor[:3])
    entries = entries or 65536  # PS3.3 C.11.1.1: 0 means 2^16 entries
    if first >= 32768 and int(dataset.get("PixelRepresentation", 0) or 0) == 1:
        first -= 65536  # the first mapped value shares the pixel data's signedness
    if isinstance(data, bytes):
        dtype = np.dtype("<u2") if bits > 8 or len(data) >= 2 * entries else np.dtype("u1")
        values = np.frombuffer(data, dtype=dtype).astype(np.float64)
    else:
        values = np.asarray(list(data) if not isinstance(data, int) else [data], dtype=np.float64)
    if values.size == 0:
        return None
    return LutTable(first_mapped=first, bits=bits, data=values[:entries])
