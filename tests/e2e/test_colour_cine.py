"""Colour multi-frame DICOM (an ultrasound-like RGB cine) in Chromium: the frame slider, Page
Up/Down, the wheel, cine at the file's frame time and frame labels, an 8-bit rendition a frame at
the image's own size (a 3000 px endoscopy-like frame is not reduced to the screen's 2048)."""

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
    frames = np.zeros((len(COLOURS), 96, 128, 3), dtype=np.uint8)
    for i, colour in enumerate(COLOURS):
        frames[i] = colour
        frames[i, 8:24, 8 + 16 * i : 24 + 16 * i] = 255
    return write_rgb_frames(path, frames)


def write_rgb_frames(path: Path, frames: np.ndarray) -> np.ndarray:
    """An RGB multi-frame Ultrasound DICOM of `frames` (frames x rows x columns x 3)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "US", frames.shape[1], frames.shape[2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames, ds.FrameTime = len(frames), FRAME_MS
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


def canvas_patch(page: Page, x: int, y: int, w: int, h: int) -> np.ndarray:
    found = page.evaluate(
        """([x, y, w, h]) => {
            const c = document.querySelector('#stage > canvas');
            return Array.from(c.getContext('2d').getImageData(x, y, w, h).data);
        }""",
        [x, y, w, h],
    )
    return np.asarray(found, dtype=np.uint8).reshape(h, w, 4)[:, :, :3]


def test_colour_frames_reach_the_page_at_their_own_size(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    """A 3000 x 1000 colour frame (larger than the session's 2048 px renditions, which would
    halve it) is on the canvas pixel for pixel: a one-pixel checkerboard survives, as it would
    not in any reduction, and each frame keeps its own pixels when stepping."""
    rows, columns = 1000, 3000
    frames = np.zeros((2, rows, columns, 3), dtype=np.uint8)
    r, c = np.mgrid[:rows, :columns]
    checker = ((r + c) % 2 * 255).astype(np.uint8)
    frames[0, :, :, 0] = checker
    frames[0, :, :, 1] = (c * 255 // columns).astype(np.uint8)
    frames[1, :, :, 2] = checker
    frames[1, :, :, 1] = (r * 255 // rows).astype(np.uint8)
    batch = tmp_path / "batch"
    write_rgb_frames(batch / FOLDER / "endoscopy.dcm", frames)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Zoom")
    renditions: list[str] = []
    page.on("request", lambda r: "/rendition" in r.url and renditions.append(r.url))
    page.goto(server.url)

    canvas = page.locator("#stage > canvas")
    expect(canvas).to_be_visible()
    for frame in (1, 2):
        expect(page.locator("#frame-readout")).to_have_text(f"Frame {frame} / 2")
        page.wait_for_function(
            "n => window.clinlabel.medical.frame === n && window.clinlabel.medical.canvas.width"
            " && document.querySelector('#stage > canvas').getAttribute('aria-label')"
            ".endsWith(`frame ${n} of 2`)",
            arg=frame,
        )
        size = canvas.evaluate("c => [c.width, c.height]")
        assert size == [columns, rows]  # the image's own size, not 1500 x 500
        for x, y in ((0, 0), (1500, 480), (columns - 64, rows - 64)):
            np.testing.assert_array_equal(
                canvas_patch(page, x, y, 64, 64), frames[frame - 1, y : y + 64, x : x + 64]
            )
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("PageDown")
    assert renditions and all("own_size=1" in u for u in renditions), renditions
    # Zooming in goes past one screen pixel per image pixel on the canvas's own pixels.
    page.keyboard.press("0")
    fitted = page.evaluate("() => window.clinlabel.viewer.scale")
    assert fitted < 1
    for _ in range(12):
        page.keyboard.press("+")
    assert page.evaluate("() => window.clinlabel.viewer.scale") > 2
    assert canvas.evaluate("c => [c.width, c.height]") == [columns, rows]
    assert server.stop() in (0, 130)
