"""Radiology polish in Chromium: corner overlays (what is shown, window, zoom, orientation on
volumes), the stored and modality value under the mouse (HU on CT), a geometry panel that can be
hidden, "slice" for volumes, and accessible names for the three-plane canvases."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.demo.medical import write_demo_medical
from clinlabel.imaging import dicom_display

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
NIFTI, CT, DX, XA = 1, 2, 3, 4


def go(page: Page, position: int) -> None:
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("p => window.clinlabel.go(p)", position)
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of 4")
    page.wait_for_function(
        "p => window.clinlabel.medical.current !== null"
        " && window.clinlabel.medical.view.position === p",
        arg=position,
    )


def corner(page: Page, name: str) -> Any:
    return page.locator(f'#stage .corner-overlays [data-corner="{name}"]')


def test_overlays_values_geometry_and_volume_names(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    write_demo_medical(batch / FOLDER, seed=7)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Read")
    page.goto(server.url)

    # ---- CT: what, window and zoom in the corners; HU under the mouse ----------------------
    go(page, CT)
    overlays = page.locator("#stage .corner-overlays")
    expect(overlays).to_be_visible()
    expect(corner(page, "top-left")).to_have_text("CT")
    expect(corner(page, "window")).to_have_text("W 80 L 40")
    expect(page.locator("#stage .zoom-readout")).to_have_text(re.compile(r"^\d+(\.\d)? %$"))
    page.keyboard.press("z")  # 1:1 on a CT: its own pixels, one per screen pixel
    expect(page.locator("#stage .zoom-readout")).to_have_text("100 %")

    ct = dicom_display.grey_frame(batch / FOLDER / "ct_head.dcm", frame=1)
    v = page.evaluate("() => ({x: window.clinlabel.viewer.x, y: window.clinlabel.viewer.y})")
    box = page.locator("#stage").bounding_box()
    assert box is not None
    column, row = 100, 120
    page.mouse.move(box["x"] + v["x"] + column + 0.5, box["y"] + v["y"] + row + 0.5)
    stored = int(ct.stored[row, column])
    hu = stored * ct.transform.slope + ct.transform.intercept
    hu_text = str(int(hu)) if float(hu).is_integer() else f"{hu:.1f}"
    expect(corner(page, "bottom-left")).to_have_text(
        f"({column + 1}, {row + 1}) stored {stored} → {hu_text} HU"
    )
    # Off the image: nothing is claimed.
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] - 2)
    page.keyboard.press("0")
    expect(corner(page, "bottom-left")).to_have_text("")

    # Shift+E hides the overlays (kept for the next image), again shows them.
    page.keyboard.press("Shift+E")
    expect(overlays).to_be_hidden()
    go(page, DX)
    expect(overlays).to_be_hidden()
    page.keyboard.press("Shift+E")
    expect(overlays).to_be_visible()

    # ---- XA: frames in the corner; the geometry panel hides and comes back --------------------
    go(page, XA)
    expect(corner(page, "top-left")).to_have_text("XA · Frame 1 / 30")
    panel = page.locator("#geometry-panel")
    expect(panel).to_contain_text("30° RAO")
    toggle = panel.get_by_role("button", name="Hide")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("e")
    expect(panel.locator("dd").first).to_be_hidden()
    expect(panel.get_by_role("button", name="Show")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("PageDown")  # stays hidden from frame to frame
    expect(panel).to_contain_text("frame 2")
    expect(panel.locator("dd").first).to_be_hidden()
    panel.get_by_role("button", name="Show").click()
    expect(panel.locator("dd").first).to_be_visible()
    expect(corner(page, "top-left")).to_have_text("XA · Frame 2 / 30")

    # ---- NIfTI: slice, orientation letters, named panes -------------------------------------
    go(page, NIFTI)
    expect(corner(page, "top-left")).to_have_text("NIfTI · Axial slice 20 / 40")
    edges = {
        name: page.locator(f'#stage .corner-overlays [data-edge="{name}"]')
        for name in ("top", "bottom", "left", "right")
    }
    for name, letter in {"top": "A", "bottom": "P", "left": "R", "right": "L"}.items():
        expect(edges[name]).to_have_text(letter)
    page.keyboard.press("v")  # coronal
    expect(corner(page, "top-left")).to_contain_text("Coronal slice")
    expect(edges["top"]).to_have_text("S")
    expect(edges["left"]).to_have_text("R")
    page.keyboard.press("v")  # sagittal
    expect(edges["left"]).to_have_text("A")
    expect(edges["bottom"]).to_have_text("I")
    page.keyboard.press("v")  # axial again
    # The page says "slice" for volumes: the slider's name and the frame-label toggle.
    expect(page.get_by_label("Slice", exact=True)).to_have_attribute("type", "range")
    toggle_text = "Label this slice only (slice 20 of 40)"
    expect(page.locator("#frame-label-box")).to_contain_text(toggle_text)

    page.keyboard.press("t")
    expect(page.locator("#tri-view")).to_be_visible()
    expect(overlays).to_be_hidden()  # the panes carry their own captions
    for plane in ("Axial", "Coronal", "Sagittal"):
        pane = page.get_by_role("img", name=re.compile(rf"^{plane} slice \d+ of \d+"))
        expect(pane).to_have_count(1)
    page.keyboard.press("t")
    expect(overlays).to_be_visible()

    # A DICOM file says "frame" again.
    go(page, XA)
    expect(page.get_by_label("Frame", exact=True)).to_have_attribute("type", "range")
