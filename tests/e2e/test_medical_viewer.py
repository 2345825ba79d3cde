"""The medical viewer in Chromium: window/level in the page checked pixel by pixel against the
standard's formulas, presets, invert, frames, cine, planes, metadata unmasking, frame labels."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from clinlabel.demo.medical import write_demo_medical
from clinlabel.imaging import dicom_display, nifti, windowing
from clinlabel.imaging.windowing import Window
from clinlabel.labelling.audit_trail import read_events

from .conftest import paint_count, viewer_pixels, wait_for_repaint

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dicom-viewer.png"
FOLDER = "Case_001/Visit_1/XC_CLINICAL"
# Queue order of the demo files (natural order of names).
NIFTI, CT, DX, XA = 1, 2, 3, 4


def page_window(page: Page) -> Window:
    w = page.evaluate("() => window.clinlabel.medical.window")
    return Window(w["center"], w["width"], w.get("function", "LINEAR"))


def expected(
    stored: np.ndarray, window: Window, *, slope: float, intercept: float, flip: bool = False
) -> np.ndarray:
    """PS3.3 C.11: modality (slope, intercept), the window's VOI function, then presentation."""
    modality = stored.astype(np.float64) * slope + intercept
    shown = windowing.to_uint8(windowing.apply_window(modality, window))
    return windowing.invert(shown) if flip else shown


def go(page: Page, position: int) -> None:
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("p => window.clinlabel.go(p)", position)
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of 4")
    expect(page.locator("#stage > canvas")).to_be_visible()
    page.wait_for_function(
        "p => window.clinlabel.medical.current !== null"
        " && window.clinlabel.medical.view.position === p",
        arg=position,
    )


def test_window_level_presets_frames_metadata_and_frame_labels(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    write_demo_medical(batch / FOLDER, seed=7)
    project = tmp_path / "project"
    server = start_server(batch, "--out", str(project), "--annotator", "Dr Window")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url)

    # ---- CT: the file's own window, then a right-button drag, checked against the formula ----
    go(page, CT)
    ct = dicom_display.grey_frame(batch / FOLDER / "ct_head.dcm", frame=1)
    rescale = {"slope": ct.transform.slope, "intercept": ct.transform.intercept}
    assert page_window(page) == Window(40.0, 80.0)  # the file's first window, "BRAIN"
    np.testing.assert_array_equal(
        viewer_pixels(page), expected(ct.stored, Window(40, 80), **rescale)
    )
    expect(page.locator("#wl-readout")).to_have_text("W 80 L 40")

    box = page.locator("#stage").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = len(requests)
    paints = paint_count(page)
    page.mouse.move(x, y)
    page.mouse.down(button="right")
    for step in range(1, 21):
        page.mouse.move(x + 6 * step, y - 3 * step)
    page.mouse.up(button="right")
    wait_for_repaint(page, paints)  # the last repaint waits for the next animation frame
    dragged = page_window(page)
    assert dragged.width > 80 and dragged.center < 40, dragged
    np.testing.assert_array_equal(viewer_pixels(page), expected(ct.stored, dragged, **rescale))
    pixel_requests = [u for u in requests[before:] if "/pixels" in u or "/rendition" in u]
    assert pixel_requests == []  # window/level never asks the server
    # How fast each repaint is: benchmarks/bench_window_level.py. Here, that the drag repainted
    # in the page, once per animation frame at most (20 pointer moves, fewer repaints or equal).
    repaints = paint_count(page) - paints
    assert 1 <= repaints <= 20

    # Presets by key and by menu, invert.
    paints = paint_count(page)
    page.keyboard.press("Shift+Digit6")  # lung
    assert page_window(page) == Window(-600.0, 1500.0)
    wait_for_repaint(page, paints)
    np.testing.assert_array_equal(
        viewer_pixels(page), expected(ct.stored, Window(-600, 1500), **rescale)
    )
    page.locator("#wl-preset").select_option("bone")
    assert page_window(page) == Window(400.0, 1800.0)
    paints = paint_count(page)
    page.keyboard.press("i")
    wait_for_repaint(page, paints)
    expect(page.locator("#wl-readout")).to_have_text("W 1800 L 400 (inverted)")
    np.testing.assert_array_equal(
        viewer_pixels(page), expected(ct.stored, Window(400, 1800), **rescale, flip=True)
    )
    page.keyboard.press("Shift+Digit1")  # the file's own window again
    assert page_window(page) == Window(40.0, 80.0)
    page.keyboard.press("Shift+Digit1")  # ...and its second one
    assert page_window(page) == Window(400.0, 1500.0)

    # ---- DX: MONOCHROME1 is shown inverted without asking ----------------------------------
    go(page, DX)
    dx = dicom_display.grey_frame(batch / FOLDER / "IM000001", frame=1)
    np.testing.assert_array_equal(
        viewer_pixels(page),
        expected(dx.stored, Window(2000, 3600), slope=1, intercept=0, flip=True),
    )

    # ---- XA: frames, cine, geometry, a frame label ------------------------------------------
    go(page, XA)
    readout = page.locator("#frame-readout")
    expect(readout).to_have_text("Frame 1 / 30")
    expect(page.locator("#geometry-panel")).to_contain_text("30° RAO")
    expect(page.locator("#geometry-panel")).to_contain_text("1100 mm")
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    expect(readout).to_have_text("Frame 3 / 30")
    page.wait_for_function("() => window.clinlabel.medical.current.header.frame === 3")
    xa3 = dicom_display.grey_frame(batch / FOLDER / "xa_run.dcm", frame=3)
    np.testing.assert_array_equal(
        viewer_pixels(page), expected(xa3.stored, Window(128, 256), slope=1, intercept=0)
    )
    page.mouse.move(x, y)
    page.mouse.wheel(0, 120)  # the wheel steps frames on a multi-frame file
    expect(readout).to_have_text("Frame 4 / 30")
    expect(page.locator("#geometry-panel")).to_contain_text("frame 4")

    page.keyboard.press("p")
    started = page.evaluate("() => performance.now()")
    page.wait_for_function("() => window.clinlabel.medical.cine.shown >= 8", timeout=5000)
    elapsed = page.evaluate("() => performance.now()") - started
    page.keyboard.press("p")
    shown = page.evaluate("() => window.clinlabel.medical.cine.shown")
    # 66.7 ms per frame (15 fps): 8 frames take about half a second, not much less.
    assert elapsed >= 7 * 66.7 * 0.9, elapsed
    print(f"cine: {shown} frames in {elapsed:.0f} ms")
    frame = int(readout.inner_text().split()[1])
    assert frame != 4

    page.keyboard.press("l")  # label this frame only
    expect(page.locator("#frame-toggle")).to_be_checked()
    page.keyboard.press("1")
    item = page.locator(f'#frame-label-list li[data-frame="{frame}"]')
    expect(item).to_contain_text(f"Frame {frame}: Suspicious — saved")
    expect(page.locator("#position-text")).to_have_text("Image 4 of 4")  # stays on the file
    expect(page.locator("#current-label")).to_have_text("Not labelled yet")  # whole file

    # ---- metadata: masked, searchable, unmasked with an audit event ------------------------
    page.keyboard.press("m")
    panel = page.locator("#metadata-panel")
    expect(panel).to_be_visible()
    page.locator("#metadata-search").fill("PatientName")
    row = panel.locator("tbody tr", has_text="PatientName")
    expect(row).to_contain_text("(0010,0010)")
    expect(row).to_contain_text("masked")
    expect(panel).not_to_contain_text("DEMO^PATIENT")
    page.screenshot(path=str(tmp_path / "metadata.png"))
    page.get_by_role("button", name="Unmask identifying values").click()
    expect(row).to_contain_text("DEMO^PATIENT")
    page.locator("#metadata-close").click()

    # ---- the review table shows the frame label; a revisit shows it too --------------------
    page.keyboard.press("r")
    expect(page.locator("#review-body")).to_contain_text(f"{frame}: Suspicious")
    page.locator("#review-close").click()
    go(page, NIFTI)
    go(page, XA)
    expect(page.locator("#frame-label-list")).to_contain_text(f"Frame {frame}: Suspicious")

    # The screenshot of the viewer: XA run with its vessel filled, geometry and window on screen.
    page.locator("#frame-slider").fill("24")
    expect(readout).to_have_text("Frame 24 / 30")
    expect(page.locator("#geometry-panel")).to_contain_text("frame 24")
    page.evaluate("document.activeElement.blur()")
    page.mouse.move(0, 0)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # ---- NIfTI: planes, aspect from the voxel spacing, three planes -------------------------
    go(page, NIFTI)
    volume = nifti.read_volume(batch / FOLDER / "brain_volume.nii.gz")
    expect(readout).to_have_text("Axial slice 20 / 40")
    page.keyboard.press("v")
    expect(readout).to_have_text("Coronal slice 32 / 64")
    page.wait_for_function("() => window.clinlabel.medical.current.header.plane === 'coronal'")
    stored, row_spacing, column_spacing = nifti.oriented_slice(volume, plane="coronal", index=32)
    win = page_window(page)
    np.testing.assert_array_equal(
        viewer_pixels(page),
        expected(stored, win, slope=volume.transform.slope, intercept=volume.transform.intercept),
    )
    transform = page.locator("#stage > canvas").evaluate("c => c.style.transform")
    sx, sy = (float(v) for v in transform.split("scale(")[1].rstrip(")").split(","))
    assert sy / sx == pytest.approx(row_spacing / column_spacing, rel=1e-4)  # 4 mm / 3.5 mm
    page.keyboard.press("t")
    expect(page.locator("#tri-view canvas")).to_have_count(3)
    expect(page.locator("#tri-view")).to_be_visible()
    expect(page.locator("#tri-view figcaption").nth(2)).to_have_text("Sagittal 32 / 64")
    # A click in the axial pane sets the linked point; the sagittal pane jumps to the slice
    # through it (test_crosshair.py checks the mapping voxel by voxel). The screenshot shows the
    # crosshair on the demo brain.
    pane = page.locator('.tri-cell[data-plane="axial"] canvas').bounding_box()
    assert pane is not None
    paints = paint_count(page)
    page.mouse.click(pane["x"] + pane["width"] * 0.7, pane["y"] + pane["height"] * 0.4)
    expect(page.locator("#tri-view figcaption").nth(2)).not_to_have_text("Sagittal 32 / 64")
    page.mouse.move(0, 0)
    wait_for_repaint(page, paints)  # the panes repaint in the next animation frame
    page.screenshot(path=str(SCREENSHOT.parent / "three-planes.png"))

    # ---- export: the frame label with its frame index; the unmasking is in the trail -------
    page.get_by_role("button", name="Finish and export").click()
    # The review table comes first (issue 10); export from its finish bar.
    finishing = page.get_by_role("group", name="Finish and export")
    finishing.get_by_role("button", name=re.compile(r"^Export")).click()
    expect(page.locator("#outputs-dialog")).to_be_visible()
    assert server.stop() in (0, 130)  # Ctrl+C: the session is closed cleanly
    # Frame labels go to the frame labels CSV (clinical_labels.csv keeps one row per image).
    csv_path = next(project.glob("**/clinical_frame_labels.csv"))
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    xa_rows = [r for r in rows if r.get("File", r.get("file", "")).endswith("xa_run.dcm")]
    assert xa_rows, rows
    assert any(r.get("Frame", r.get("frame")) == str(frame) for r in xa_rows), xa_rows
    events = read_events(project, limit=0)
    unmasked = [e for e in events if e["kind"] == "metadata_unmasked"]
    assert len(unmasked) == 1 and unmasked[0]["image"].endswith("xa_run.dcm")
