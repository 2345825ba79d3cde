"""Verify mode: headers checked without decoding; bad files become problems with a reason."""

from __future__ import annotations

import gzip
import io
import random
import struct
from pathlib import Path

import pytest
from PIL import Image

from clinlabel.discovery.headers import check_image, check_nifti_header


def _check(tmp_path: Path, name: str, content: bytes) -> str | None:
    path = tmp_path / name
    path.write_bytes(content)
    return check_image(str(path), lower_name=name.lower(), size=len(content))


def _image(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 90).save(buffer, fmt, **save)
    return buffer.getvalue()


def _photo() -> bytes:
    """A noisy 400 x 300 JPEG (about 100 KB), so its tail is scan data, not headers."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (400, 300), _noise(400 * 300 * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


def _noise(count: int) -> bytes:
    """Bytes like compressed video: 0xFF followed by anything."""
    return random.Random(0).randbytes(count)


def _nifti1(*, dims: tuple[int, ...] = (4, 4, 2), bitpix: int = 16) -> bytes:
    """A minimal single-file NIfTI-1 (nifti1.h): 348-byte header, 4 extension bytes, voxels."""
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, len(dims), *dims, *([1] * (7 - len(dims))))
    struct.pack_into("<hh", header, 70, 4, bitpix)
    struct.pack_into("<f", header, 108, 352.0)
    header[344:348] = b"n+1\x00"
    voxels = 1
    for d in dims:
        voxels *= d
    return bytes(header) + bytes(4) + bytes(voxels * bitpix // 8)


def _dual_personality() -> bytes:
    """A DICOM file whose preamble holds a TIFF header with a one-entry image directory (PS3.10
    7.1 lets the application fill the preamble; such files open as TIFF and as DICOM)."""
    tiff = b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 256, 4, 1, 16) + bytes(4)
    return tiff.ljust(128, b"\x00") + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\xc8\x00\x00\x00"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.jpg", _image("JPEG")),
        ("dual.dcm", _dual_personality()),
        ("dual.tif", _dual_personality()),
        ("photo.jpg", _photo()),
        ("a.jpeg", _image("JPEG", mode="CMYK")),
        ("progressive.JPG", _image("JPEG", progressive=True)),
        ("a.png", _image("PNG")),
        ("grey16.png", _image("PNG", mode="I;16")),
        ("a.tif", _image("TIFF")),
        ("big-endian.tiff", _image("TIFF", mode="I;16B")),
        ("a.bmp", _image("BMP")),
        ("a.dcm", bytes(128) + b"DICM" + b"\x02\x00" * 20),
        ("old.dcm", b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + bytes(100)),
        ("brain.nii", _nifti1()),
        ("brain.nii.gz", gzip.compress(_nifti1(), mtime=0)),
        ("motion.jpg", _image("JPEG") + b"\x00\x00\x00\x18ftypmp42" + _noise(8000)),
    ],
)
def test_sound_files_pass(tmp_path: Path, name: str, content: bytes) -> None:
    assert _check(tmp_path, name, content) is None


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.png", b"just some text\n", "not an image: extension says PNG but the content is text"),
        ("a.jpg", _image("PNG"), "extension says JPEG but content is PNG"),
        ("a.png", _image("JPEG"), "extension says PNG but content is JPEG"),
        ("a.tif", _image("BMP"), "extension says TIFF but content is BMP"),
        ("a.jpg", b"%PDF-1.4 " + bytes(50), "content is a PDF document"),
        ("a.jpg", bytes(range(256)) * 4, "content is not recognised"),
        ("a.dcm", b"hello, not dicom at all\n" * 10, "extension says DICOM"),
        ("a.nii.gz", b"plain text, not gzip\n", "extension says NIfTI (gzip)"),
    ],
)
def test_content_that_contradicts_the_extension(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    found = _check(tmp_path, name, content)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.jpg", b"\xff\xd8"),
        ("a.jpg", _photo()[:300]),
        ("a.jpg", _photo()[:-200]),
        ("zero-filled.jpg", _photo()[:-3000] + bytes(6000)),
        ("a.png", _image("PNG")[:20]),
        ("a.png", _image("PNG", (200, 200))[:-30]),
        ("a.tif", _image("TIFF", (200, 200))[:100]),
        ("a.bmp", _image("BMP", (200, 200))[:2000]),
        ("brain.nii", _nifti1()[:300]),
        ("brain.nii", _nifti1(dims=(64, 64, 8))[:-10]),
        ("brain.nii.gz", gzip.compress(_nifti1(), mtime=0)[:15]),
    ],
)
def test_truncated_files_are_named_truncated(tmp_path: Path, name: str, content: bytes) -> None:
    found = _check(tmp_path, name, content)
    assert found is not None and found.startswith("truncated"), found


def test_damaged_headers(tmp_path: Path) -> None:
    png = bytearray(_image("PNG"))
    png[12:16] = b"XXXX"
    assert _check(tmp_path, "a.png", bytes(png)) == (
        "damaged: the PNG header chunk (IHDR) is missing"
    )
    gz = bytearray(gzip.compress(_nifti1() * 3, mtime=0))
    gz[20:60] = bytes(40)
    found = _check(tmp_path, "a.nii.gz", bytes(gz))
    assert found is not None and found.startswith(("damaged", "not an image"))
    broken = bytearray(_nifti1())
    struct.pack_into("<h", broken, 40, 0)
    assert check_nifti_header(bytes(broken), file_size=len(broken)) == (
        "damaged: the NIfTI header has impossible dimensions"
    )


def test_large_app_segments_are_skipped_by_seeking(tmp_path: Path) -> None:
    """A JPEG whose frame header lies beyond the first 4 KB (big EXIF/ICC) is still found."""
    jpeg = _image("JPEG")
    app = b"\xff\xe2" + (2 + 60000).to_bytes(2, "big") + bytes(60000)
    assert _check(tmp_path, "icc.jpg", jpeg[:2] + app + jpeg[2:]) is None


def test_dicom_prefix_wins_over_a_tiff_preamble() -> None:
    """`detect_format` decides for scan and `init` alike: DICM at 128 first."""
    from clinlabel.discovery.sniff import DICOM, detect_format

    assert detect_format(_dual_personality()) == DICOM
    assert detect_format(_image("TIFF")) == "TIFF"
