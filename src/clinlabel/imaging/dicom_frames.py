"""Decode one frame of a DICOM file at a time, reading only that frame's bytes, with a small cache.

A 1,000-frame XA run must not be decoded whole to show frame 1: for native data we seek to the
frame, for encapsulated data pydicom's `get_frame` finds its fragments through the offset tables
(`dicom_header` adds one when the file has none). Decoded frames stay in an LRU bounded in bytes.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from clinlabel.errors import DecodeError
from clinlabel.imaging.dicom_header import DicomHeader, read_header
from clinlabel.imaging.plugins import decoder_for

FRAME_CACHE_BYTES = 96 * 1024 * 1024

_frames: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
_frames_bytes = 0
_lock = threading.Lock()


def decode_frame(header: DicomHeader, frame: int) -> np.ndarray:
    """Stored values of `frame` (numbered from 1): rows x columns, or rows x columns x samples.

    Colour data comes back as RGB (pydicom converts YBR_FULL, YBR_FULL_422 and the JPEG YBR
    variants); palette colour comes back as indices (see `rendering.palette_to_rgb`).
    """
    if not 1 <= frame <= header.frames:
        raise DecodeError(
            f"{header.path.name} has {header.frames} frame(s); frame {frame} does not exist."
        )
    key = (id(header), frame)
    with _lock:
        cached = _frames.get(key)
        if cached is not None:
            _frames.move_to_end(key)
            return cached
    pixels = _decode(header, frame - 1)
    pixels.setflags(write=False)  # shared through the cache: nobody may change it in place
    _remember(key, pixels)
    return pixels


def _decode(header: DicomHeader, index: int) -> np.ndarray:
    decoder = decoder_for(header.transfer_syntax)
    options = dict(header.options)
    try:
        with warnings.catch_warnings():
            # pydicom warns about fixable oddities (a JFIF marker, a wrong bits value); the
            # decode itself goes on and the result is what we show.
            warnings.simplefilter("ignore")
            if header.inflated is not None:
                array, _ = decoder.as_array(
                    header.inflated, index=index, decoding_plugin=header.plugin, **options
                )
            else:
                with Path(header.path).open("rb") as handle:
                    handle.seek(header.pixel_offset)
                    array, _ = decoder.as_array(
                        handle, index=index, decoding_plugin=header.plugin, **options
                    )
    except DecodeError:
        raise
    except Exception as exc:  # plugins raise anything from RuntimeError to their own types
        missing = decoder.missing_dependencies
        raise DecodeError(
            f"{header.path.name}: frame {index + 1} cannot be decoded "
            f"({header.transfer_syntax.name}, plugin {header.plugin or 'native'}): "
            f"{str(exc).strip().splitlines()[-1]}",
            hint=f"Another plugin may decode it: {'; '.join(missing)}." if missing else None,
        ) from exc
    return np.asarray(array)


def _remember(key: tuple[int, int], pixels: np.ndarray) -> None:
    global _frames_bytes
    with _lock:
        if key in _frames:
            return
        _frames[key] = pixels
        _frames_bytes += pixels.nbytes
        while _frames_bytes > FRAME_CACHE_BYTES and len(_frames) > 1:
            _, old = _frames.popitem(last=False)
            _frames_bytes -= old.nbytes


def clear_cache() -> None:
    global _frames_bytes
    with _lock:
        _frames.clear()
        _frames_bytes = 0


def frame_pixels(path: Path, frame: int = 1) -> tuple[DicomHeader, np.ndarray]:
    """The cached header of `path` and the stored values of one frame."""
    header = read_header(path)
    return header, decode_frame(header, frame)
