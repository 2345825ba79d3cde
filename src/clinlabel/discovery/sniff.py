"""Recognise files by their first bytes (magic numbers), without decoding any pixels.

Two uses: an extension-less file is a DICOM image if it has the 128-byte preamble and `DICM`
(DICOM PS3.10 section 7.1), and verify mode checks that a file's content matches its extension
and that its header is complete (see `headers.py`). Both ask `detect_format`, so a scan and
`init` never disagree about what a file is. Reads go through `os.open`/`os.read`: a few
hundred bytes, no buffered file object.
"""

from __future__ import annotations

import codecs
import os
from typing import Final

_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_BINARY", 0)
HEAD_BYTES: Final = 4096
"""How much verify mode reads from the start of a file: the headers of all formats we check."""

DICOM_PREAMBLE: Final = 128
DICOM_PREFIX_END: Final = 132

JPEG: Final = "JPEG"
PNG: Final = "PNG"
TIFF: Final = "TIFF"
BMP: Final = "BMP"
DICOM: Final = "DICOM"
NIFTI: Final = "NIfTI"
GZIP: Final = "gzip"

# Formats Pillow, pydicom or nibabel would open, so a mismatch is "extension says X, content is Y".
IMAGE_FORMATS: Final = frozenset({JPEG, PNG, TIFF, BMP, DICOM, NIFTI, "GIF", "WebP", "HEIF"})

SIGNATURES: Final = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"\x1f\x8b", GZIP),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"BM", BMP),  # last: two bytes are a weak signature
)

EXPECTED_BY_EXTENSION: Final = {
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".bmp": BMP,
    ".dcm": DICOM,
    ".dicom": DICOM,
    ".nii": NIFTI,
    ".gz": GZIP,
}


def read_at(fd: int, offset: int, count: int) -> bytes:
    """Up to `count` bytes at `offset` (fewer only at the end of the file)."""
    os.lseek(fd, offset, os.SEEK_SET)
    chunks: list[bytes] = []
    while count > 0:
        chunk = os.read(fd, count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_head(path: str, count: int) -> bytes:
    """The first `count` bytes of a file; raises OSError."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        return read_at(fd, 0, count)
    finally:
        os.close(fd)


def open_for_reading(path: str) -> int:
    """A raw file descriptor; raises OSError."""
    return os.open(path, _OPEN_FLAGS)


def has_dicom_prefix(head: bytes) -> bool:
    """DICOM PS3.10 7.1: a 128-byte preamble, then the four bytes `DICM`."""
    return head[DICOM_PREAMBLE:DICOM_PREFIX_END] == b"DICM"


def sniff_dicom(path: str) -> bool:
    """True if the file starts like a DICOM file (reads 132 bytes; raises OSError)."""
    return detect_format(read_head(path, DICOM_PREFIX_END)) == DICOM


def looks_like_headerless_dicom(head: bytes) -> bool:
    """An old ACR-NEMA style file without preamble: it starts with a group 0008 or 0002 tag.

    pydicom reads these with `force=True`; we accept them when the extension says DICOM.
    """
    return len(head) >= 8 and head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0


def detect_format(head: bytes) -> str | None:
    """Name of the format the bytes start with, "text" for text, or None if unknown.

    `DICM` at offset 128 is tested first: PS3.10 7.1 leaves the preamble to the application, and
    dual-personality files put a TIFF header there (a DICOM file that TIFF readers also open),
    so a signature at offset 0 does not make such a file anything but DICOM.
    """
    if has_dicom_prefix(head):
        return DICOM
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return name
    if _is_nifti_header(head):
        return NIFTI
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return "HEIF" if head[8:12] in (b"heic", b"heix", b"mif1", b"heif") else "a video"
    if _is_text(head):
        return "text"
    return None


def truncated_signature(head: bytes, expected: str) -> bool:
    """True if the whole file is shorter than, and a prefix of, the expected format's signature."""
    return any(
        name == expected and len(head) < len(signature) and signature.startswith(head)
        for signature, name in SIGNATURES
    )


def _is_nifti_header(head: bytes) -> bool:
    for order in ("little", "big"):
        sizeof_hdr = int.from_bytes(head[:4], order)
        if sizeof_hdr == 348 and head[344:347] in (b"n+1", b"ni1"):
            return True
        if sizeof_hdr == 540 and head[4:7] in (b"n+2", b"ni2"):
            return True
    return False


def _is_text(head: bytes) -> bool:
    sample = head[:1024]
    if not sample or b"\x00" in sample:
        return False
    try:
        # A multi-byte character may be cut at the end of the sample: not final.
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    printable = sum(1 for char in text if char.isprintable() or char in "\t\r\n\f")
    return printable >= 0.95 * len(text)
