"""VOI LUT Function in the page (PS3.3 C.11.2.1.3): files whose window is LINEAR_EXACT or SIGMOID
are shown with that function, checked pixel by pixel against the standard's formulas written out
here by hand (not through clinlabel's own windowing code), before and after a window/level drag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from ..unit.imaging import dicom_factory
from .conftest import open_medical_image, paint_count, viewer_pixels, wait_for_repaint

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
# Modality values 0.00 .. 40.95 in steps of 0.01 (12-bit stored values, slope 0.01): fine enough
# that a window 10 wide spans a thousand stored values, so LINEAR_EXACT and LINEAR differ by up to
# 7 grey levels on screen and a page that ignored the function would fail.
SLOPE, INTERCEPT = 0.01, 0.0
CENTER, WIDTH = 20.0, 10.0


def write_voi_file(path: Path, function: str) -> np.ndarray:
    """A 12-bit ramp with the window (CENTER, WIDTH) and VOI LUT Function `function`."""
    stored = dicom_factory.pattern(rows=96, columns=128, bits=12)
    ds = dicom_factory.grey_dataset(stored, signed=False, bits=12)
    ds.RescaleSlope, ds.RescaleIntercept = SLOPE, INTERCEPT
    ds.WindowCenter, ds.WindowWidth = CENTER, WIDTH
    ds.VOILUTFunction = function
    path.parent.mkdir(parents=True, exist_ok=True)
    dicom_factory.write(path, ds, dicom_factory.ExplicitVRLittleEndian)
    return np.asarray(stored[0])


# ---- PS3.3 C.11.2.1.2.1 and C.11.2.1.3, output range 0..255 ------------------------------------


def linear(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """C.11.2.1.2.1: x <= c - 0.5 - (w-1)/2 -> 0; x > c - 0.5 + (w-1)/2 -> 255;
    else ((x - (c - 0.5)) / (w - 1) + 0.5) * 255."""
    y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, y)
    return np.where(x > c - 0.5 + (w - 1) / 2, 255.0, y)


def linear_exact(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """C.11.2.1.3.2: x <= c - w/2 -> 0; x > c + w/2 -> 255; else ((x - c) / w + 0.5) * 255."""
    y = ((x - c) / w + 0.5) * 255
    y = np.where(x <= c - w / 2, 0.0, y)
    return np.where(x > c + w / 2, 255.0, y)


def sigmoid(x: np.ndarray, c: float, w: float) -> np.ndarray:
    """C.11.2.1.3.1: 255 / (1 + exp(-4 (x - c) / w))."""
    return 255 / (1 + np.exp(-4 * (x - c) / w))


FORMULAS = {"LINEAR": linear, "LINEAR_EXACT": linear_exact, "SIGMOID": sigmoid}


def by_hand(stored: np.ndarray, function: str, center: float, width: float) -> np.ndarray:
    modality = stored.astype(np.float64) * SLOPE + INTERCEPT  # C.11.1
    return np.asarray(FORMULAS[function](modality, center, width))


def assert_shown(page: Page, stored: np.ndarray, function: str, c: float, w: float) -> None:
    """The canvas equals the formula to within one grey level (rounding), and the test can tell
    the function apart from plain LINEAR on this image."""
    shown = viewer_pixels(page).astype(np.float64)
    wanted = by_hand(stored, function, c, w)
    assert shown.shape == wanted.shape
    worst = float(np.abs(shown - wanted).max())
    assert worst <= 1.0, (function, c, w, worst)
    assert float(np.abs(shown - linear(stored * SLOPE + INTERCEPT, c, w)).max()) > 3.0


def test_linear_exact_and_sigmoid_windows_follow_the_standard(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    images = {
        "LINEAR_EXACT": write_voi_file(batch / FOLDER / "a_linear_exact.dcm", "LINEAR_EXACT"),
        "SIGMOID": write_voi_file(batch / FOLDER / "b_sigmoid.dcm", "SIGMOID"),
    }
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr VOI")
    page.goto(server.url)
    box = None
    for position, (function, stored) in enumerate(images.items(), start=1):
        open_medical_image(page, position, total=2)
        window = page.evaluate("() => window.clinlabel.medical.window")
        assert (window["center"], window["width"], window["function"]) == (
            CENTER,
            WIDTH,
            function,
        )
        expect(page.locator("#wl-readout")).to_have_text(f"W 10 L 20 {function}")
        assert_shown(page, stored, function, CENTER, WIDTH)

        # A right-button drag changes width and level; the file's function stays.
        box = box or page.locator("#stage").bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        paints = paint_count(page)
        page.mouse.move(x, y)
        page.mouse.down(button="right")
        for step in range(1, 11):
            page.mouse.move(x + 6 * step, y - 3 * step)
        page.mouse.up(button="right")
        page.wait_for_function(
            "w => window.clinlabel.medical.window.width > w", arg=WIDTH, polling="raf"
        )
        wait_for_repaint(page, paints)  # the repaint waits for the next animation frame
        dragged = page.evaluate("() => window.clinlabel.medical.window")
        assert dragged["function"] == function
        assert dragged["width"] > WIDTH and dragged["center"] < CENTER, dragged
        assert_shown(page, stored, function, dragged["center"], dragged["width"])
        expect(page.locator("#wl-readout")).to_contain_text(function)
    assert server.stop() in (0, 130)
