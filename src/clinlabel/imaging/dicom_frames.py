"""Decode one frame of a DICOM file at a time, reading only that frame's bytes.

A 1,000-frame XA run must not be decoded whole to show frame 1: for native data we seek to the
frame, for encapsulated data pydicom's `get_frame` finds its fragments through the offset tables
(`dicom_header` adds one when the file has none). Nothing is kept here: the open project's viewing
service keeps decoded frames, keyed by the identity of the file they were read from, and a frame
read from a file that changed since its header was parsed is refused (`check_unchanged`).

Plain little-endian grey data (8 or 16 bits allocated, one sample) is read straight into the
array with `readinto`: the same bytes and dtype pydicom's native decoder would give, without its
intermediate `bytes` object and the copy it makes to return a writeable array (two passes over
18 MB for a 3,000 x 3,000 CR).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from clinlabel.errors import DecodeError
from clinlabel.imaging import budget
from clinlabel.imaging.dicom_header import DicomHeader
from clinlabel.imaging.file_identity import check_unchanged
from clinlabel.imaging.plugins import decoder_for
from clinlabel.imaging.reader import DIRECT, ImageReader

_PLAIN_NATIVE = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})


def decode_frame(
    header: DicomHeader, frame: int, *, memory_budget: int = budget.DEFAULT_BYTES
) -> np.ndarray:
    """Stored values of `frame` (numbered from 1): rows x columns, or rows x columns x samples.

    Colour data comes back as RGB (pydicom converts YBR_FULL, YBR_FULL_422 and the JPEG YBR
    variants); palette colour comes back as indices (see `rendering.palette_to_rgb`).
    """
    if not 1 <= frame <= header.frames:
        raise DecodeError(
            f"{header.path.name} has {header.frames} frame(s); frame {frame} does not exist."
        )
    read_file = not header.handover and header.inflated is None
    pixels = _decode(header, frame - 1, memory_budget)
    if read_file and header.identity is not None:
        # The bytes came from the file now, not from those the header was parsed from.
        check_unchanged(header.identity)
    pixels.setflags(write=False)  # may be shared through a cache: nobody may change it in place
    return pixels


def _decode(header: DicomHeader, index: int, memory_budget: int) -> np.ndarray:
    # Before any byte is read: a small compressed file may declare an enormous frame.
    budget.check(
        budget.dicom_frame_bytes(header.options),
        name=header.path.name,
        what=f"one frame ({header.options['rows']} x {header.options['columns']} pixels)",
        limit=memory_budget,
    )
    if _is_plain_native(header):
        return _read_native(header, index)
    decoder = decoder_for(header.transfer_syntax)
    options = dict(header.options)
    try:
        with warnings.catch_warnings():
            # pydicom warns about fixable oddities (a JFIF marker, a wrong bits value); the
            # decode itself goes on and the result is what we show.
            warnings.simplefilter("ignore")
            whole = header.take_handover()
            if header.inflated is not None:
                array, _ = decoder.as_array(
                    header.inflated, index=index, decoding_plugin=header.plugin, **options
                )
            else:
                with contextlib.ExitStack() as stack:
                    # The file's bytes when the header was parsed from them, else the file.
                    handle = (
                        io.BytesIO(whole)
                        if whole is not None
                        else stack.enter_context(Path(header.path).open("rb"))
                    )
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


def _is_plain_native(header: DicomHeader) -> bool:
    """Data that pydicom would return as the file's bytes viewed as an integer array.

    Excluded, and left to pydicom: Deflated and Big Endian files, 1-bit and 32-bit data, colour
    (planar configuration, YBR_FULL_422 subsampling) and Float Pixel Data.
    """
    options = header.options
    return (
        header.inflated is None
        and header.transfer_syntax in _PLAIN_NATIVE
        and options.get("pixel_keyword") == "PixelData"
        and options.get("samples_per_pixel") == 1
        and options.get("bits_allocated") in (8, 16)
    )


def _read_native(header: DicomHeader, index: int) -> np.ndarray:
    """Frame `index` (from 0) of plain native data: one seek, one read into the array.

    PS3.5 8.1.1: native frames are stored one after another, rows x columns pixels each, every
    sample in Bits Allocated bits, little endian, two's complement when Pixel Representation is 1;
    only the low Bits Stored bits are the value and the unused high bits cannot be trusted.
    """
    options = header.options
    rows, columns = int(options["rows"]), int(options["columns"])
    itemsize = int(options["bits_allocated"]) // 8
    signed = int(options.get("pixel_representation", 0)) == 1
    dtype = np.dtype(f"<{'i' if signed else 'u'}{itemsize}")
    pixels = np.empty((rows, columns), dtype=dtype)
    start = header.pixel_offset + index * pixels.nbytes
    whole = header.take_handover()
    if whole is not None and len(whole) >= start + pixels.nbytes:
        # The header was parsed from the whole file in memory: the frame comes from there, its
        # unused bits cleared on the way (one pass where a copy and a clear would take two).
        source = np.frombuffer(whole, dtype=dtype, count=rows * columns, offset=start)
        return _clear_unused_bits(pixels, options, itemsize, signed, source=source)
    target = pixels.data.cast("B")
    try:
        with Path(header.path).open("rb", buffering=0) as handle:
            handle.seek(start)
            filled = 0
            while filled < pixels.nbytes:
                got = handle.readinto(target[filled:])
                if not got:
                    break
                filled += got
    except OSError as exc:
        raise DecodeError(f"Cannot read {header.path.name}: {exc.strerror or exc}.") from exc
    if filled < pixels.nbytes:
        # The header check saw a long enough file; it shrank since.
        raise DecodeError(f"{header.path.name} is truncated: frame {index + 1} is incomplete.")
    return _clear_unused_bits(pixels, options, itemsize, signed)


def _clear_unused_bits(
    pixels: np.ndarray,
    options: dict[str, Any],
    itemsize: int,
    signed: bool,
    *,
    source: np.ndarray | None = None,
) -> np.ndarray:
    """PS3.5 8.1.1: only the low Bits Stored bits are the value (see `_read_native`).

    Clears them in `pixels`, or with `source` (the stored values, same size) writes `source`
    with them cleared into `pixels`.
    """
    values = pixels if source is None else source.reshape(pixels.shape)
    unused = 8 * itemsize - int(options.get("bits_stored", 8 * itemsize))
    if 0 < unused < 8 * itemsize:
        # As pydicom's `correct_unused_bits` (on by default for native data): shifting left then
        # right drops the unused bits, and the arithmetic right shift of a signed dtype extends
        # the sign of Bits Stored (a 12-bit 0x0FFF is -1, not 4095).
        if signed:
            np.left_shift(values, unused, out=pixels)
            np.right_shift(pixels, unused, out=pixels)
        else:  # the same result for unsigned data in one pass instead of two
            np.bitwise_and(values, (1 << (8 * itemsize - unused)) - 1, out=pixels)
    elif source is not None:
        np.copyto(pixels, values)
    return pixels


def frame_pixels(
    path: Path, frame: int = 1, *, reader: ImageReader = DIRECT
) -> tuple[DicomHeader, np.ndarray]:
    """The whole header of `path` and the stored values of one frame."""
    header = reader.header(path)
    return header, reader.frame(header, frame)


def render_frame(
    path: Path, frame: int = 1, *, reader: ImageReader = DIRECT
) -> tuple[DicomHeader, np.ndarray]:
    """`frame_pixels` with the header rendering needs (`ImageReader.render_header`): what a cold
    rendition parses, leaving the full header to metadata and geometry callers."""
    header = reader.render_header(path)
    return header, reader.frame(header, frame)
