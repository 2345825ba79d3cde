"""Colour multi-frame DICOM (an ultrasound-like RGB cine) in Chromium: the frame slider, Page
Up/Down, the wheel, cine at the file's frame time and frame labels, an 8-bit rendition a frame."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
FRAME_MS = 80.0
# Six frames, each a different flat colour with a white square that moves along: synthetic,
# never real data.
COLOURS = [
    (230, 20, 20),
    (20, 200, 40),
    (30, 60, 240),
    (240, 220, 20),
    (200, 30, 220),
    (20, 220, 220),
]


def write_colour_cine(path: Path) -> np.ndarray:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

    frames = np.zeros((len(COLOURS), 96, 128, 3), dtype=np.uint8)
    for i, colour in enumerate(COLOURS):
        frames[i] = colour
        frames[i, 8:24, 8 + 16 * i : 24 + 16 * i] = 255
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "US", 96, 128
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames, ds.FrameTime = len(COLOURS), FRAME_MS
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.PixelData = frames.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return frames


def canvas_rgb(page: Page) -> np.ndarray:
    found = page.evaluate(
        """() => {
            const c = document.querySelector('#stage > canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return {w: c.width, h: c.height, rgba: Array.from(d)};
        }"""
    )
    rgba = np.asarray(found["rgba"], dtype=np.uint8).reshape(found["h"], found["w"], 4)
    return rgba[:, :, :3]


def frame_on_canvas(page: Page, frames: np.ndarray) -> int:
    """Which frame (from 1) the canvas shows, by its pixels."""
    shown = canvas_rgb(page)
    matches = [i + 1 for i, f in enumerate(frames) if np.array_equal(shown, f)]
    assert len(matches) == 1, (matches, shown[48, 64])
    return matches[0]


def expect_frame(page: Page, frames: np.ndarray, n: int) -> None:
    expect(page.locator("#frame-readout")).to_have_text(f"Frame {n} / {len(frames)}")
    # The readout moves at once; the canvas when the frame's rendition is drawn.
    page.wait_for_function(
        "n => window.clinlabel.medical.frame === n && !window.clinlabel.medical.cine.playing", arg=n
    )
    page.wait_for_function(
        """rgb => {
            const c = document.querySelector('#stage > canvas');
            const d = c.getContext('2d').getImageData(c.width - 1, c.height - 1, 1, 1).data;
            return d[0] === rgb[0] && d[1] === rgb[1] && d[2] === rgb[2];
        }""",
        arg=list(COLOURS[n - 1]),
    )
    assert frame_on_canvas(page, frames) == n


def test_colour_cine_steps_plays_and_labels_frames(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    frames = write_colour_cine(batch / FOLDER / "us_cine.dcm")
    project = tmp_path / "project"
    server = start_server(batch, "--out", str(project), "--annotator", "Dr Colour")
    renditions: list[str] = []
    page.on("request", lambda r: "/rendition" in r.url and renditions.append(r.url))
    page.goto(server.url)

    expect(page.locator("#stage > canvas")).to_be_visible()
    expect_frame(page, frames, 1)
    expect(page.locator("#frame-tools")).to_be_visible()
    expect(page.locator("#wl-tools")).to_be_hidden()  # 8-bit colour has no window to set
    canvas = page.locator("#stage > canvas")
    expect(canvas).to_have_attribute("aria-label", re.compile(r"us_cine\.dcm, frame 1 of 6$"))

    # Page Down / Up, the wheel and the slider step; the canvas follows the frame number.
    page.keyboard.press("PageDown")
    expect_frame(page, frames, 2)
    box = page.locator("#stage").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 120)
    expect_frame(page, frames, 3)
    page.locator("#frame-slider").fill("5")
    expect_frame(page, frames, 5)
    page.evaluate("document.activeElement.blur()")  # keys go to the page, not the slider
    page.keyboard.press("PageUp")
    expect_frame(page, frames, 4)
    page.keyboard.press("Shift+Digit6")  # a CT preset: nothing to do on colour, no error
    page.keyboard.press("i")
    expect_frame(page, frames, 4)
    # One rendition per frame, each asked for with its frame number (prefetched around).
    asked = {int(u.split("frame=")[1].split("&")[0]) for u in renditions}
    assert {1, 2, 3, 4, 5, 6} <= asked, renditions

    # Cine at the file's frame time (80 ms), looping; every frame drawn is the frame numbered.
    page.evaluate(
        """() => {
            const m = window.clinlabel.medical;
            window.cineSeen = [];
            const draw = m.displayColour.bind(m);
            m.displayColour = (data, options) => {
                draw(data, options);
                const c = m.canvas.getContext('2d').getImageData(m.canvas.width - 1, 0, 1, 1).data;
                window.cineSeen.push([m.frame, Array.from(c.slice(0, 3))]);
            };
        }"""
    )
    page.keyboard.press("p")
    expect(page.locator("#btn-cine")).to_have_text("Pause")
    started = page.evaluate("() => performance.now()")
    page.wait_for_function("() => window.clinlabel.medical.cine.shown >= 8", timeout=5000)
    elapsed = page.evaluate("() => performance.now()") - started
    page.keyboard.press("p")
    expect(page.locator("#btn-cine")).to_have_text("Play")
    assert elapsed >= 7 * FRAME_MS * 0.9, elapsed
    seen = page.evaluate("() => window.cineSeen")
    assert len(seen) >= 8
    for number, rgb in seen:
        assert tuple(rgb) == COLOURS[number - 1], seen
    numbers = [number for number, _ in seen]
    assert numbers[:8] == [5, 6, 1, 2, 3, 4, 5, 6], numbers  # from frame 4, looping after 6
    print(f"colour cine: {len(seen)} frames in {elapsed:.0f} ms")
    frame = int(page.locator("#frame-readout").inner_text().split()[1])
    expect_frame(page, frames, frame)

    # "Label this frame only": the frame on screen gets the label, the file stays on screen.
    page.keyboard.press("l")
    expect(page.locator("#frame-toggle")).to_be_checked()
    expect(page.locator("#frame-toggle-n")).to_have_text(f"{frame} of 6")
    page.keyboard.press("1")
    item = page.locator(f'#frame-label-list li[data-frame="{frame}"]')
    expect(item).to_contain_text(f"Frame {frame}: ")
    expect(item).to_contain_text("saved")
    expect(page.locator("#current-label")).to_have_text("Not labelled yet")
    assert server.stop() in (0, 130)
