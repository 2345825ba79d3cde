"""Presentation LUT Shape (2050,0020), PS3.3 C.11.6: INVERSE shows the image negative.

The same stored values are written as MONOCHROME2 with and without INVERSE; the rendition (the
cold, rendering-tags-only header route), `display_pixels` and the transform the page windows
with must all show the INVERSE file as 255 minus the plain one. For MONOCHROME1, INVERSE names
the inversion MONOCHROME1 already implies (DX, MG and IO pair them), so it is applied once.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import grey_dataset, pattern, write
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian

from clinlabel.imaging.dicom_display import display_pixels, grey_frame, rendition_png


def _file(tmp_path: Path, name: str, photometric: str, shape: str | None) -> Path:
    pixels = pattern(32, 24, bits=12).astype(np.uint16)
    ds = grey_dataset(pixels, signed=False, bits=12, photometric=photometric)
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    if shape is not None:
        ds.PresentationLUTShape = shape
    return write(tmp_path / name, ds, ExplicitVRLittleEndian)


def _rendition(path: Path) -> np.ndarray:
    data, _, _ = rendition_png(path)
    return np.asarray(Image.open(io.BytesIO(data)))


def test_inverse_on_monochrome2_is_shown_negative(tmp_path: Path) -> None:
    plain = _file(tmp_path, "plain.dcm", "MONOCHROME2", None)
    inverse = _file(tmp_path, "inverse.dcm", "MONOCHROME2", "INVERSE")
    expected = 255 - _rendition(plain)
    assert expected.min() == 0 and expected.max() == 255  # the ramp spans the window
    np.testing.assert_array_equal(_rendition(inverse), expected)
    np.testing.assert_array_equal(display_pixels(inverse), 255 - display_pixels(plain))
    # The Invert button flips it back to the plain polarity.
    np.testing.assert_array_equal(display_pixels(inverse, invert=True), display_pixels(plain))
    # The page windows from this flag (the pixel header's `monochrome1`).
    assert grey_frame(inverse).transform.monochrome1
    assert not grey_frame(plain).transform.monochrome1


@pytest.mark.parametrize(
    ("photometric", "shape", "negative"),
    [
        ("MONOCHROME2", "IDENTITY", False),
        ("MONOCHROME1", None, True),
        ("MONOCHROME1", "INVERSE", True),  # the DX pairing: one inversion, not two
    ],
)
def test_polarity_of_each_combination(
    tmp_path: Path, photometric: str, shape: str | None, negative: bool
) -> None:
    plain = _file(tmp_path, "plain.dcm", "MONOCHROME2", None)
    other = _file(tmp_path, "other.dcm", photometric, shape)
    expected = 255 - _rendition(plain) if negative else _rendition(plain)
    np.testing.assert_array_equal(_rendition(other), expected)
    assert grey_frame(other).transform.monochrome1 is negative
