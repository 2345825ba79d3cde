"""Presentation LUT Shape INVERSE (PS3.3 C.11.6) in the page: a MONOCHROME2 file that asks for
INVERSE is windowed by the page into its negative, checked pixel by pixel against the LINEAR
formula written out here by hand, next to the same values without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page

from ..unit.imaging import dicom_factory
from .conftest import open_medical_image, viewer_pixels

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
CENTER, WIDTH = 2048.0, 4096.0


def write_file(path: Path, shape: str | None) -> np.ndarray:
    stored = dicom_factory.pattern(rows=96, columns=128, bits=12)
    ds = dicom_factory.grey_dataset(stored, signed=False, bits=12)
    ds.WindowCenter, ds.WindowWidth = CENTER, WIDTH
    if shape is not None:
        ds.PresentationLUTShape = shape
    path.parent.mkdir(parents=True, exist_ok=True)
    dicom_factory.write(path, ds, dicom_factory.ExplicitVRLittleEndian)
    return np.asarray(stored[0])


def linear(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """C.11.2.1.2.1 onto 0..255."""
    y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, y)
    return np.where(x > c - 0.5 + (w - 1) / 2, 255.0, y)


def test_inverse_presentation_lut_is_shown_negative(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    plain = write_file(batch / FOLDER / "a_identity.dcm", "IDENTITY")
    inverse = write_file(batch / FOLDER / "b_inverse.dcm", "INVERSE")
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr LUT")
    page.goto(server.url)
    for position, (stored, negative) in enumerate(((plain, False), (inverse, True)), start=1):
        open_medical_image(page, position, total=2)
        shown = viewer_pixels(page).astype(np.float64)
        wanted = linear(stored.astype(np.float64), CENTER, WIDTH)
        if negative:
            wanted = 255.0 - wanted
        assert shown.shape == wanted.shape
        assert float(np.abs(shown - wanted).max()) <= 1.0, position
        # The image is a ramp over the whole window: the two polarities differ everywhere but
        # the middle, so a page that ignored the shape would fail here.
        assert float(np.abs(shown - (255.0 - wanted)).max()) > 200.0
    assert server.stop() in (0, 130)
