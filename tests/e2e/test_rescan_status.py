"""The page of `clinlabel label` on an existing project opens at once and shows the background
rescan in its status line until it is done; new images before the one on screen move it, and
the page follows it to its new place."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def _project(tmp_path: Path, batch_maker: Callable[..., list[str]]) -> tuple[Path, Path]:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=2, visits=1, images=3)
    out = tmp_path / "project"
    subprocess.run(
        [sys.executable, "-m", "clinlabel", "init", str(batch), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return batch, out


def test_an_unchanged_batch_says_no_changes(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch, out = _project(tmp_path, batch_maker)
    server = start_server(batch, "--out", str(out), "--annotator", "ann")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 6")
    expect(page.locator("#rescan-status")).to_have_text("Batch checked: no changes.")


def test_new_images_are_found_and_the_page_follows_its_image(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch, out = _project(tmp_path, batch_maker)
    # Two images in a case that sorts first, one gone: the last scan does not know them yet.
    folder = batch / "Case_000" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (64, 64), (9, 9, 9)).save(folder / name)
    (batch / "Case_002" / "Visit_1" / "XC_CLINICAL" / "img3.jpg").unlink()
    server = start_server(batch, "--out", str(out), "--annotator", "ann")
    page.goto(server.url)
    status = page.locator("#rescan-status")
    expect(status).to_have_text("Batch checked: 2 new, 1 missing.", timeout=20_000)
    # The image the page opened on (Case_001's first) is now third of seven.
    expect(page.locator("#position-text")).to_have_text("Image 3 of 7")
    expect(page.locator("#image-meta")).to_contain_text("Case_001")
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 4 of 7")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
