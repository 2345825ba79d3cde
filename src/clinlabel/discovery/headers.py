"""Verify mode: does a file's header say it is the image its extension promises, and is it whole?

Pure Python over at most a few KB per file (the start, the JPEG segment headers, the last 4 KB);
no pixels are decoded. Each check returns a reason a user can act on, or None if the file is fine.
Sources: JPEG ITU-T T.81 annex B; PNG ISO/IEC 15948 sections 5 and 11.2; TIFF 6.0 section 2
(BigTIFF: the 2008 extension); BMP: Microsoft BITMAPFILEHEADER/BITMAPINFOHEADER; DICOM PS3.10 7.1;
NIfTI-1 `nifti1.h` and NIfTI-2 `nifti2.h` (sizeof_hdr, magic, dim, bitpix, vox_offset).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Final

from clinlabel.discovery import sniff

_TAIL_BYTES: Final = 4096
# Inside JPEG scan data a 0xFF byte is followed only by 0x00 (stuffing), a restart marker or
# another 0xFF (T.81 B.1.1.5, F.1.2.3).
_SCAN_DATA_AFTER_FF: Final = frozenset({0x00, 0xFF, *range(0xD0, 0xD8)})
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_BMP_DIB_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_NIFTI_HEADER_MAX: Final = 540
_GZIP_READ_LIMIT: Final = 1 << 20


class _File:
    """A file descriptor with its first bytes cached."""

    def __init__(self, fd: int, head: bytes, size: int) -> None:
        self.fd = fd
        self.head = head
        self.size = size

    def at(self, offset: int, count: int) -> bytes:
        if offset + count <= len(self.head):
            return self.head[offset : offset + count]
        if offset >= self.size:
            return b""
        return sniff.read_at(self.fd, offset, count)

    def tail(self) -> bytes:
        start = max(0, self.size - _TAIL_BYTES)
        return self.at(start, self.size - start)


def check_image(path: str, *, lower_name: str, size: int) -> str | None:
    """Why the file at `path` is not a usable image, or None. Never raises."""
    try:
        fd = sniff.open_for_reading(path)
    except OSError as exc:
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    try:
        file = _File(fd, sniff.read_at(fd, 0, sniff.HEAD_BYTES), size)
        return _check(file, lower_name)
    except OSError as exc:
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    finally:
        os.close(fd)


def check_head(fd: int, head: bytes, size: int, *, lower_name: str) -> str | None:
    """`check_image` on a file already open as `fd`, whose first bytes `head` were read (at
    least `sniff.HEAD_BYTES` of them, or the whole file); raises OSError."""
    return _check(_File(fd, head, size), lower_name)


def _check(file: _File, lower_name: str) -> str | None:
    head = file.head
    ext = lower_name[lower_name.rfind(".") :] if "." in lower_name else ""
    expected = sniff.EXPECTED_BY_EXTENSION.get(ext, sniff.DICOM)
    content = sniff.detect_format(head)
    if content == sniff.DICOM and expected == sniff.TIFF and _signature_at_0(head) == sniff.TIFF:
        content = sniff.TIFF  # dual personality: also a whole TIFF, which is what `.tif` promises
    if content != expected:
        if expected == sniff.DICOM and sniff.looks_like_headerless_dicom(head):
            return None
        if content is None and sniff.truncated_signature(head, expected):
            return f"truncated: the file ends inside the {expected} signature"
        if expected == sniff.NIFTI and content is None and nifti_size_field(head):
            return check_nifti_header(head, file_size=file.size)
        return _mismatch(ext, expected, content)
    if expected == sniff.JPEG:
        return _check_jpeg(file)
    if expected == sniff.PNG:
        return _check_png(file)
    if expected == sniff.TIFF:
        return _check_tiff(file)
    if expected == sniff.BMP:
        return _check_bmp(file)
    if expected == sniff.NIFTI:
        return check_nifti_header(head, file_size=file.size)
    if expected == sniff.GZIP:
        return _check_nifti_gz(file)
    return None


def _signature_at_0(head: bytes) -> str | None:
    """The format whose signature starts the file, ignoring a DICOM prefix at offset 128."""
    return next((name for signature, name in sniff.SIGNATURES if head.startswith(signature)), None)


def _mismatch(ext: str, expected: str, content: str | None) -> str:
    said = "NIfTI (gzip)" if ext == ".gz" else expected
    if content in sniff.IMAGE_FORMATS:
        return f"extension says {said} but content is {content}"
    if content is None:
        return f"not an image: extension says {said} but the content is not recognised"
    return f"not an image: extension says {said} but the content is {content}"


def _check_jpeg(file: _File) -> str | None:
    """Walk the marker segments (T.81 B.1.1) to the frame header, then to the first scan."""
    pos = 2
    frame_seen = False
    for _ in range(512):  # APPn segments are few; this only bounds a damaged chain
        segment = file.at(pos, 4)
        if len(segment) < 2:
            return "truncated: the file ends before the JPEG image data"
        if segment[0] != 0xFF:
            return f"damaged: JPEG marker expected at byte {pos}"
        marker = segment[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker == 0xD9 or (marker == 0xDA and not frame_seen):
            return "damaged: JPEG image data before the frame header"
        if len(segment) < 4:
            return "truncated: the file ends before the JPEG image data"
        length = int.from_bytes(segment[2:4], "big")
        if length < 2:
            return f"damaged: JPEG segment length {length} at byte {pos}"
        if marker == 0xDA:
            return _check_jpeg_end(file, scan_start=pos + 2 + length)
        if marker in _JPEG_SOF:
            frame = file.at(pos + 4, 6)
            if len(frame) < 6:
                return "truncated: the file ends inside the JPEG frame header"
            if int.from_bytes(frame[3:5], "big") == 0 or frame[5] == 0:
                return "damaged: the JPEG frame header gives width 0 or no colour components"
            frame_seen = True
        pos += 2 + length
    return "damaged: no JPEG image data found"


def _check_jpeg_end(file: _File, *, scan_start: int) -> str | None:
    """A JPEG whose end is still scan data (or zeros) with no end marker was cut short.

    Phones append data after the end marker (motion photos carry an MP4, Samsung a trailer): a
    tail holding other 0xFF-marker pairs is such data, not a cut, and passes.
    """
    if scan_start >= file.size:
        return "truncated: the file ends before the JPEG image data"
    start = max(scan_start, file.size - _TAIL_BYTES)
    tail = file.at(start, file.size - start)
    if b"\xff\xd9" in tail:
        return None
    found = tail.find(b"\xff")
    while 0 <= found < len(tail) - 1:
        if tail[found + 1] not in _SCAN_DATA_AFTER_FF:
            return None  # appended data of another kind
        found = tail.find(b"\xff", found + 2)
    return "truncated: the JPEG end marker is missing (an incomplete copy?)"


def _check_png(file: _File) -> str | None:
    ihdr = file.at(8, 25)
    if len(ihdr) < 25:
        return "truncated: the file ends inside the PNG header (IHDR)"
    length, kind, width, height = struct.unpack(">I4sII", ihdr[:16])
    if kind != b"IHDR" or length != 13:
        return "damaged: the PNG header chunk (IHDR) is missing"
    if width == 0 or height == 0:
        return "damaged: the PNG header gives width or height 0"
    if b"IEND" not in file.tail():
        return "truncated: the PNG end chunk (IEND) is missing (an incomplete copy?)"
    return None


def _check_tiff(file: _File) -> str | None:
    order = "<" if file.head[:2] == b"II" else ">"
    big = file.head[2:4] in (b"+\x00", b"\x00+")
    header = file.at(0, 16 if big else 8)
    if len(header) < (16 if big else 8):
        return "truncated: the file ends inside the TIFF header"
    offset = struct.unpack(order + ("Q" if big else "I"), header[8:16] if big else header[4:8])[0]
    if offset < len(header):
        return f"damaged: the first TIFF image directory is at byte {offset}"
    count_size, entry_size = (8, 20) if big else (2, 12)
    raw_count = file.at(offset, count_size)
    if len(raw_count) < count_size:
        return f"truncated: the first TIFF image directory (byte {offset}) is past the end"
    count = struct.unpack(order + ("Q" if big else "H"), raw_count)[0]
    if count == 0:
        return "damaged: the first TIFF image directory is empty"
    if offset + count_size + count * entry_size > file.size:
        return "truncated: the first TIFF image directory runs past the end of the file"
    return None


def _check_bmp(file: _File) -> str | None:
    header = file.at(0, 30)
    if len(header) < 26:
        return "truncated: the file ends inside the BMP header"
    declared, data_offset, dib_size = struct.unpack("<I4xII", header[2:18])
    if dib_size not in _BMP_DIB_SIZES:
        return f"damaged: unknown BMP header size {dib_size}"
    if declared > file.size:
        return f"truncated: the BMP header says {declared} bytes, the file has {file.size}"
    if data_offset >= file.size:
        return "truncated: the BMP pixel data is missing"
    if dib_size == 12:
        width, height, bpp = struct.unpack("<HH2xH", header[18:26])
        compression = 0
    elif len(header) >= 30:
        width, height, bpp = struct.unpack("<ii2xH", header[18:30])
        compression = int.from_bytes(file.at(30, 4), "little")
    else:
        return "truncated: the file ends inside the BMP header"
    if compression in (0, 3):  # uncompressed rows: their size is known
        row = (bpp * abs(width) + 31) // 32 * 4
        needed = data_offset + row * abs(height)
        if needed > file.size:
            return f"truncated: the BMP pixels need {needed} bytes, the file has {file.size}"
    return None


def check_nifti_header(header: bytes, *, file_size: int | None) -> str | None:
    """NIfTI-1/2 header checks; with `file_size` (plain `.nii`), also that all voxels are there."""
    if len(header) < 348:
        return "truncated: the file ends inside the NIfTI header"
    for order in "<>":
        sizeof_hdr = struct.unpack(order + "i", header[:4])[0]
        if sizeof_hdr == 348:
            if header[344:347] not in (b"n+1", b"ni1"):
                return "damaged: the NIfTI-1 magic string is missing"
            dims = struct.unpack(order + "8h", header[40:56])
            bitpix = struct.unpack(order + "h", header[72:74])[0]
            vox_offset = int(struct.unpack(order + "f", header[108:112])[0])
            single_file = header[345:346] == b"+"
            break
        if sizeof_hdr == _NIFTI_HEADER_MAX:
            if len(header) < _NIFTI_HEADER_MAX:
                return "truncated: the file ends inside the NIfTI-2 header"
            if header[4:7] not in (b"n+2", b"ni2"):
                return "damaged: the NIfTI-2 magic string is missing"
            bitpix = struct.unpack(order + "h", header[14:16])[0]
            dims = struct.unpack(order + "8q", header[16:80])
            vox_offset = struct.unpack(order + "q", header[168:176])[0]
            single_file = header[5:6] == b"+"
            break
    else:
        return "not an image: no NIfTI header (sizeof_hdr is neither 348 nor 540)"
    ndim = dims[0]
    if not 1 <= ndim <= 7 or any(d <= 0 for d in dims[1 : ndim + 1]) or bitpix <= 0:
        return "damaged: the NIfTI header has impossible dimensions"
    if file_size is not None and single_file:
        voxels = 1
        for d in dims[1 : ndim + 1]:
            voxels *= d
        needed = vox_offset + voxels * bitpix // 8
        if needed > file_size:
            return f"truncated: the NIfTI header needs {needed} bytes, the file has {file_size}"
    return None


def _check_nifti_gz(file: _File) -> str | None:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    header = b""
    offset = 0
    try:
        while len(header) < _NIFTI_HEADER_MAX and offset < min(file.size, _GZIP_READ_LIMIT):
            chunk = file.at(offset, sniff.HEAD_BYTES)
            if not chunk:
                break
            offset += len(chunk)
            header += inflater.decompress(chunk, _NIFTI_HEADER_MAX - len(header))
            if inflater.eof:
                break
            while inflater.unconsumed_tail and len(header) < _NIFTI_HEADER_MAX:
                header += inflater.decompress(
                    inflater.unconsumed_tail, _NIFTI_HEADER_MAX - len(header)
                )
    except zlib.error:
        return "damaged: the gzip stream is corrupt"
    if not header and offset >= file.size:
        return "truncated: the gzip stream ends before any data"
    return check_nifti_header(header, file_size=None)


def nifti_size_field(head: bytes) -> bool:
    """Whether the file starts with a NIfTI sizeof_hdr (348 or 540) in either byte order."""
    return len(head) >= 4 and any(
        struct.unpack(order + "i", head[:4])[0] in (348, _NIFTI_HEADER_MAX) for order in "<>"
    )
