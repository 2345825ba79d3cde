"""The demo batch in a real browser: every image shows, and the README screenshot is made here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.demo.batch import EMPTY_FILE, FAKE_PNG, make_demo_batch

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "labelling.png"


def test_every_demo_image_shows_and_screenshot(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = make_demo_batch(tmp_path / "demo", cases=3, visits=2, images_per_visit=3, large_jpegs=1)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Demo")
    page.goto(server.url)
    position = page.locator("#position-text")
    expect(position).to_have_text(re.compile(r"Image 1 of \d+"))
    total = int(position.inner_text().rsplit(" ", 1)[1])
    image = page.locator("#stage img")
    canvas = page.locator("#stage > canvas")
    message = page.locator("#stage-message")
    # Photos in every colour mode, EXIF-rotated, 12 MP, DICOM and NIfTI: each one is painted.
    meta = page.locator("#image-meta")
    for index in range(1, total + 1):
        expect(position).to_have_text(f"Image {index} of {total}")
        # Not images at all (a text file named .png, an empty file): never in the queue (issue 10).
        assert not meta.inner_text().endswith((FAKE_PNG, EMPTY_FILE)), meta.inner_text()
        kind = page.evaluate("() => window.clinlabel.view.kind")
        if kind in ("dicom", "nifti"):
            # Grey DICOM and NIfTI are windowed in the page, on a canvas at full depth.
            expect(canvas).to_be_visible()
            expect(message).to_be_hidden()
            assert min(canvas.evaluate("c => [c.width, c.height]")) > 0, index
            page.keyboard.press("ArrowRight")
            continue
        expect(image).to_be_visible()
        expect(message).to_be_hidden()
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert min(natural) > 0, (index, natural)
        page.keyboard.press("ArrowRight")

    # The screenshot: back at the start of the second case, one label given, the banner up.
    page.keyboard.press("Home")
    second_case = page.get_by_role("button", name=re.compile(r"^Case_002: "))
    second_case.click()
    expect(page.locator("#case-banner")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("1")
    expect(page.locator("#case-banner")).to_contain_text("New case")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    expect(image).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Case_001: 1 of"))).to_be_visible()
    page.evaluate("document.activeElement.blur()")
    page.mouse.move(0, 0)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
