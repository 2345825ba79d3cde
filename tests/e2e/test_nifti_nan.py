"""A float NIfTI volume with NaN voxels in the page: the slice is windowed over its finite values
(not all black), NaN voxels show as the lowest grey, and Invert turns them white with the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from clinlabel.imaging import nifti
from clinlabel.imaging.windowing import Window

from .conftest import viewer_pixels

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"


def write_volume(path: Path) -> None:
    """16 x 16 x 4 float32, 1 mm voxels: a ramp with the voxels of x = 0..3 NaN."""
    data = np.tile(np.linspace(0.0, 1000.0, 256, dtype=np.float32).reshape(16, 16, 1), (1, 1, 4))
    data[:4, :, :] = np.nan
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)  # type: ignore[no-untyped-call]


def paints(page: Page) -> int:
    return int(page.evaluate("() => window.clinlabel.medical.paintTimes.length"))


def test_nan_voxels_in_the_page(page: Page, tmp_path: Path, start_server: Any) -> None:
    path = tmp_path / "batch" / FOLDER / "masked.nii.gz"
    write_volume(path)
    server = start_server(tmp_path / "batch", "--out", str(tmp_path / "p"), "--annotator", "Dr N")
    page.goto(server.url)
    page.wait_for_function("() => window.clinlabel !== undefined")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 1")
    page.wait_for_function(
        "() => window.clinlabel.medical.current !== null"
        " && window.clinlabel.medical.paintTimes.length > 0"
    )
    header = page.evaluate("() => window.clinlabel.medical.current.header")
    volume = nifti.read_volume(path)
    stored, _, _ = nifti.oriented_slice(volume, plane=header["plane"], index=header["frame"])
    w = page.evaluate("() => window.clinlabel.medical.window")
    window = Window(w["center"], w["width"], w.get("function", "LINEAR"))
    assert np.isfinite(window.center) and np.isfinite(window.width)
    nan = np.isnan(stored)
    assert nan.any() and (~nan).any()

    shown = viewer_pixels(page)
    assert shown.shape == stored.shape
    wanted = nifti.display_slice(path, index=header["frame"], plane=header["plane"], window=window)
    assert (shown[nan] == 0).all()  # NaN: the lowest grey
    assert int(shown[~nan].max()) == 255  # the image is there, not all black
    assert int(np.abs(shown.astype(int) - wanted.astype(int)).max()) <= 1

    before = paints(page)
    page.keyboard.press("i")
    page.wait_for_function("n => window.clinlabel.medical.paintTimes.length > n", arg=before)
    inverted = viewer_pixels(page)
    assert (inverted[nan] == 255).all()
    assert int(np.abs(inverted[~nan].astype(int) - (255 - wanted[~nan].astype(int))).max()) <= 1
    assert server.stop() in (0, 130)
