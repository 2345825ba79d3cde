"""Full-depth grey pixels for window/level in the browser: one frame or slice per response.

The page windows grey-scale DICOM and NIfTI itself (a lookup table per window change, no round
trip), so it needs the stored values, not an 8-bit rendition. A response is

    uint32 LE  n          length of the JSON header
    n bytes    header     rows, columns, dtype, spacing, rescale, windows, VOI function, ...
    padding    to a multiple of 8 bytes, so the values can be viewed as a typed array in place
    values     rows x columns little-endian values of `header["dtype"]`, row by row

Colour DICOM (RGB, YBR, palette) answers with a header only (`"colour": true`, with the image's
own rows and columns) and the page shows 8-bit renditions at that size. Headers, frames and
volumes come from an `ImageReader` (the project's viewing service when serving).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import dicom_display, rendering
from clinlabel.imaging.file_identity import FileIdentity
from clinlabel.imaging.functional_groups import frame_group
from clinlabel.imaging.geometry import geometry_of
from clinlabel.imaging.reader import ImageReader
from clinlabel.imaging.rendering import GreyTransform, LutTable
from clinlabel.imaging.rendition_store import KEY_VERSION
from clinlabel.imaging.windowing import CT_PRESETS, Window

PLANES = ("axial", "coronal", "sagittal")
# Types a browser has typed arrays for; anything wider is sent as float32 (NIfTI int64, float64).
_WIRE_TYPES = {"u1": "uint8", "i1": "int8", "u2": "uint16", "i2": "int16", "u4": "uint32"}
_WIRE_TYPES |= {"i4": "int32", "f4": "float32"}
_COLOUR = frozenset(
    {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_420", "YBR_PARTIAL_422", "YBR_ICT", "YBR_RCT"}
)
_COLOUR |= {"PALETTE COLOR"}


@dataclass(frozen=True)
class PixelPayload:
    """The encoded response body and its entity tag."""

    body: bytes
    etag: str


def decode(body: bytes) -> tuple[dict[str, Any], np.ndarray | None]:
    """The header and values of a body `encode` made (None for a colour header-only answer)."""
    (length,) = struct.unpack_from("<I", body)
    header: dict[str, Any] = json.loads(body[4 : 4 + length])
    start = 4 + length + (-(4 + length)) % 8
    if header.get("colour"):
        return header, None
    values = np.frombuffer(body[start:], dtype=np.dtype(header["dtype"]).newbyteorder("<"))
    return header, values.reshape(header["rows"], header["columns"])


def pixel_etag(identity: FileIdentity, *, frame: int, plane: str) -> str:
    # "px2": payloads carry the volume's orientation letters; older copies a browser kept are
    # fetched again rather than revalidated.
    return f'"px2-{KEY_VERSION}-{identity.token()}-{plane}-f{frame}"'


def pixel_payload(
    path: Path, kind: ImageKind, *, frame: int, plane: str, reader: ImageReader
) -> bytes:
    """The wire format of the module docstring for one frame (DICOM) or slice (NIfTI)."""
    if kind is ImageKind.DICOM:
        return _dicom(path, frame, reader)
    if kind is ImageKind.NIFTI:
        return _nifti(path, frame, plane, reader)
    raise DecodeError("Photos are shown as renditions; they have no full-depth pixels.")


def encode(header: dict[str, Any], values: np.ndarray | None) -> bytes:
    """The wire format of the module docstring."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    start = 4 + len(text)
    padding = (-start) % 8
    parts = [struct.pack("<I", len(text)), text, b" " * padding]
    if values is not None:
        parts.append(values.tobytes())
    return b"".join(parts)


def _dicom(path: Path, frame: int, reader: ImageReader) -> bytes:
    header = reader.header(path)
    dataset = header.dataset
    photometric = str(dataset.get("PhotometricInterpretation", "")).strip().upper()
    common = {
        "frame": frame,
        "frames": header.frames,
        "frame_time_ms": _frame_time_ms(dataset, frame),
        "modality": str(dataset.get("Modality", "")),
        "photometric": photometric,
    }
    if photometric in _COLOUR or int(header.options.get("samples_per_pixel", 1) or 1) > 1:
        # The page asks for this header once per colour file (its frames are renditions), so a
        # Frame Time Vector comes whole: cine then waits each frame's own interval.
        times = _frame_times_ms(dataset, header.frames)
        # The image's own size: its frames come at that size (up to `viewing.OWN_SIZE_LIMIT`).
        size = {"rows": int(header.options["rows"]), "columns": int(header.options["columns"])}
        return encode({**common, "colour": True, "frame_times_ms": times, **size}, None)
    grey = dicom_display.grey_frame(path, frame=frame, reader=reader)
    stored, transform = grey.stored, grey.transform
    if transform.modality_lut is not None:
        # A Modality LUT Sequence (C.11.1.1) is rare: send modality values and no rescale.
        stored = rendering.modality_values(stored, transform).astype(np.float32)
        transform = _identity(transform)
    spacing = _pixel_spacing(dataset)
    out = {
        **common,
        "colour": False,
        **_grey_header(stored, transform, grey.windows, grey.full_range),
        "row_spacing": spacing[0],
        "column_spacing": spacing[1],
        "voi_lut": _lut_json(grey.voi_lut),
    }
    return encode(out, _wire(stored))


def _nifti(path: Path, index: int, plane: str, reader: ImageReader) -> bytes:
    if plane not in PLANES:
        raise DecodeError(f"Unknown plane {plane!r}: use axial, coronal or sagittal.")
    from clinlabel.imaging import nifti  # nibabel: only for volumes

    volume = reader.volume(path)
    stored, row_spacing, column_spacing = nifti.oriented_slice(volume, plane=plane, index=index)
    own = volume.default_window
    full = reader.volume_range(volume)
    windows = () if own == full else (own,)
    out = {
        "frame": index,
        "frames": volume.slices(plane),
        "slices": {p: volume.slices(p) for p in PLANES},
        "plane": plane,
        "frame_time_ms": None,
        "modality": "NIfTI",
        "photometric": "MONOCHROME2",
        "colour": False,
        **_grey_header(stored, volume.transform, windows, full),
        "row_spacing": row_spacing,
        "column_spacing": column_spacing,
        "voi_lut": None,
        "axes": nifti.slice_axes(volume, plane),
        "orientation": nifti.slice_orientation(volume, plane),
    }
    return encode(out, _wire(np.ascontiguousarray(stored)))


def _grey_header(
    stored: np.ndarray, transform: GreyTransform, windows: tuple[Window, ...], full: Window
) -> dict[str, Any]:
    return {
        "rows": int(stored.shape[0]),
        "columns": int(stored.shape[1]),
        "dtype": _wire_type(stored),
        "min": _number(stored.min()),
        "max": _number(stored.max()),
        "slope": transform.slope,
        "intercept": transform.intercept,
        "monochrome1": transform.monochrome1,
        "windows": [_window_json(w) for w in windows],
        "full_range": _window_json(full),
        "presets": _presets(),
    }


def _presets() -> list[dict[str, Any]]:
    """The CT presets of `imaging.windowing`, so the page and `clinlabel render` agree."""
    return [{"name": name, **_window_json(w)} for name, w in CT_PRESETS.items()]


def _window_json(window: Window) -> dict[str, Any]:
    return {
        "center": window.center,
        "width": window.width,
        "function": window.function,
        "explanation": window.explanation,
    }


def _lut_json(table: LutTable | None) -> dict[str, Any] | None:
    if table is None:
        return None
    return {
        "first_mapped": table.first_mapped,
        "bits": table.bits,
        "data": [float(v) for v in table.data],
    }


def _identity(transform: GreyTransform) -> GreyTransform:
    return replace(transform, slope=1.0, intercept=0.0, modality_lut=None)


def _wire_type(stored: np.ndarray) -> str:
    return _WIRE_TYPES.get(f"{stored.dtype.kind}{stored.dtype.itemsize}", "float32")


def _wire(stored: np.ndarray) -> np.ndarray:
    name = _wire_type(stored)
    target = np.dtype(name).newbyteorder("<")
    if stored.dtype == target and stored.flags.c_contiguous:
        return stored
    return np.ascontiguousarray(stored, dtype=target)


def _number(value: Any) -> float | int | None:
    number = value.item() if hasattr(value, "item") else value
    return number if isinstance(number, int) else float(number) if abs(number) < 1e309 else None


def _pixel_spacing(dataset: Any) -> tuple[float, float]:
    """Row and column spacing in mm (Pixel Spacing, else Imager Pixel Spacing), 1 if unknown.

    Only the ratio matters here: the page stretches non-square pixels to their true aspect.
    """
    group = frame_group(dataset, 1, "PixelMeasuresSequence")
    for source in (group, dataset):
        if source is None:
            continue
        for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
            value = source.get(keyword)
            try:
                rows, columns = float(value[0]), float(value[1])
            except (TypeError, ValueError, IndexError):
                continue
            if rows > 0 and columns > 0:
                return rows, columns
    return 1.0, 1.0


def _frame_times_ms(dataset: Any, frames: int) -> list[float | None] | None:
    """Each frame's time on screen, from a Frame Time Vector (0018,1065); None without one."""
    if not dataset.get("FrameTimeVector"):
        return None
    return [_frame_time_ms(dataset, frame) for frame in range(1, frames + 1)]


def _frame_time_ms(dataset: Any, frame: int) -> float | None:
    """How long cine shows `frame`: its Frame Time Vector entry, Frame Time (0018,1063), Cine Rate.

    The vector (C.7.6.5.1.2) holds the increment from the previous frame (its first value is 0),
    so frame i stays on screen for vector[i] (0-based: the increment into frame i + 1). The
    geometry panel's per-frame value is the increment into the frame; it is the fallback here,
    for the last frame.
    """
    vector = dataset.get("FrameTimeVector")
    if vector and frame < len(vector) and float(vector[frame]) > 0:
        return float(vector[frame])
    found = geometry_of(dataset, frame=frame)
    value = found.get("frame_time")
    if isinstance(value, float) and value > 0:
        return value
    rate = found.get("cine_rate")
    if isinstance(rate, float) and rate > 0:
        return 1000.0 / rate
    return None
