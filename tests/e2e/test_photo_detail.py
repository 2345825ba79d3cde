"""Photos at full detail in Chromium: zooming past the screen rendition shows the original's own
pixels (read back from the page and the screen), a zoom percentage and a 1:1 key; brightness,
contrast and gamma that change the display only and reset unless pinned; compare two visits
with zoom and pan in step; a strip of the visit's images."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

FOLDER = "XC_CLINICAL"
# Larger than the 2048 px screen rendition, so 100 % needs the original.
BIG = (4000, 3000)


def fine_pattern(size: tuple[int, int], seed: int = 3) -> np.ndarray:
    """One-pixel detail everywhere: random black and white pixels (grey, rows x columns)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2, (size[1], size[0]), dtype=np.uint8) * 255).astype(np.uint8)


def photo_batch(root: Path, big: tuple[int, int] = (800, 600)) -> dict[str, Path]:
    """Case_001 with two visits (a fine-pattern PNG and two flat JPEGs each), Case_002 with one
    image. `big`: the PNG's size (the full-detail test's is larger than the screen rendition)."""
    files: dict[str, Path] = {}
    for visit in (1, 2):
        folder = root / "Case_001" / f"Visit_{visit}" / FOLDER
        folder.mkdir(parents=True)
        lesion = folder / "a_lesion.png"
        Image.fromarray(fine_pattern(big, seed=visit), mode="L").save(lesion, compress_level=1)
        files[f"big{visit}"] = lesion
        for i, grey in enumerate((100, 160), start=1):
            path = folder / f"b_flat{i}.jpg"
            Image.new("RGB", (640, 480), (grey, grey, grey)).save(path, quality=95)
            files[f"flat{visit}_{i}"] = path
    other = root / "Case_002" / "Visit_1" / FOLDER
    other.mkdir(parents=True)
    Image.new("RGB", (320, 240), (40, 90, 160)).save(other / "c.jpg", quality=90)
    return files


def serve_photos(tmp_path: Path, start_server: Any, annotator: str) -> tuple[Any, dict[str, Path]]:
    """`photo_batch` served for `annotator`: the server and the batch's files."""
    batch = tmp_path / "batch"
    files = photo_batch(batch)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", annotator)
    return server, files


def open_labeller(page: Page, server: Any) -> None:
    page.goto(server.url)
    page.wait_for_function("() => window.clinlabel !== undefined && window.clinlabel.viewer.img")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 7")


def stage_screen(page: Page) -> tuple[np.ndarray, dict[str, float]]:
    """The stage as drawn on screen (grey), and its box."""
    box = page.locator("#stage").bounding_box()
    assert box is not None
    shot = page.screenshot(clip=box, animations="disabled")
    return np.asarray(Image.open(io.BytesIO(shot)).convert("L")), box


def centre_pixel(page: Page) -> float:
    shot, _ = stage_screen(page)
    h, w = shot.shape
    return float(np.median(shot[h // 2 - 5 : h // 2 + 5, w // 2 - 5 : w // 2 + 5]))


def test_zoom_past_the_rendition_shows_the_original_pixels(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch = tmp_path / "batch"
    files = photo_batch(batch, BIG)
    original = fine_pattern(BIG, seed=1)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Detail")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    open_labeller(page, server)

    # Fitted: the screen rendition (at most 2048 px), and a percentage of the original's pixels.
    readout = page.locator("#stage .zoom-readout")
    expect(readout).not_to_have_text("– %")
    fitted = float(readout.inner_text().split()[0])
    shown_width = page.evaluate("() => window.clinlabel.viewer.img.naturalWidth")
    assert shown_width <= 2048
    stage = page.locator("#stage").bounding_box()
    assert stage is not None
    fit = 100 * min(stage["width"] / BIG[0], stage["height"] / BIG[1])
    assert fitted == pytest.approx(fit, abs=0.6)

    # Moving through images never asks for a full-resolution picture.
    page.keyboard.press("ArrowRight")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 7")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 7")
    assert not [u for u in asked if u.endswith("/full")]

    # Z: 1:1. The original is loaded and swapped in where the rendition was.
    page.locator("#stage").focus()
    page.keyboard.press("z")
    page.wait_for_function("() => window.clinlabel.viewer.img.dataset.full === '1'")
    expect(readout).to_have_text("100 %")
    assert [u for u in asked if u.endswith("/full")]
    natural = page.evaluate(
        "() => { const i = window.clinlabel.viewer.img; return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert natural == list(BIG)

    # The picture in the page is the original's pixels, read back with getImageData.
    x0, y0 = 1700, 1300
    read = page.evaluate(
        """([x0, y0]) => {
            const img = window.clinlabel.viewer.img;
            const c = document.createElement('canvas');
            c.width = 64; c.height = 64;
            const ctx = c.getContext('2d');
            ctx.drawImage(img, x0, y0, 64, 64, 0, 0, 64, 64);
            const d = ctx.getImageData(0, 0, 64, 64).data;
            return Array.from({length: 64 * 64}, (_, i) => d[4 * i]);
        }""",
        [x0, y0],
    )
    np.testing.assert_array_equal(
        np.asarray(read, dtype=np.uint8).reshape(64, 64), original[y0 : y0 + 64, x0 : x0 + 64]
    )

    # And the screen shows them one for one: no resampling at 100 %.
    shot, _ = stage_screen(page)
    v = page.evaluate("() => ({x: window.clinlabel.viewer.x, y: window.clinlabel.viewer.y})")
    assert v["x"] == int(v["x"]) and v["y"] == int(v["y"])
    sx, sy = 300, 200  # a patch well inside the stage
    ix, iy = sx - int(v["x"]), sy - int(v["y"])
    np.testing.assert_array_equal(
        shot[sy : sy + 48, sx : sx + 48], original[iy : iy + 48, ix : ix + 48]
    )

    # Zooming further keeps the original (200 %); fitting again says a smaller percentage.
    page.keyboard.press("+")
    expect(readout).to_have_text("125 %")
    page.keyboard.press("0")
    expect(readout).to_have_text(f"{round(fitted)} %")
    assert files["big1"].exists()


def test_brightness_contrast_gamma_are_display_only_and_reset_unless_pinned(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    server, files = serve_photos(tmp_path, start_server, "Dr Light")
    before = hashlib.sha256(files["flat1_1"].read_bytes()).hexdigest()
    open_labeller(page, server)
    page.keyboard.press("ArrowRight")  # b_flat1.jpg: flat grey 100
    expect(page.locator("#position-text")).to_have_text("Image 2 of 7")
    expect(page.locator("#photo-tools")).to_be_visible()
    base = centre_pixel(page)
    assert base == pytest.approx(100, abs=3)

    for _ in range(3):
        page.keyboard.press("b")  # brightness 130 %
    expect(page.locator("#adj-brightness-value")).to_have_text("130 %")
    assert centre_pixel(page) == pytest.approx(base * 1.3, abs=3)

    page.keyboard.press("x")
    expect(page.locator("#adj-brightness-value")).to_have_text("100 %")
    for _ in range(5):
        page.keyboard.press("c")  # contrast 150 %: (v - 127.5) * 1.5 + 127.5
    expect(page.locator("#adj-contrast-value")).to_have_text("150 %")
    assert centre_pixel(page) == pytest.approx((base - 127.5) * 1.5 + 127.5, abs=3)

    page.keyboard.press("x")
    for _ in range(10):
        page.keyboard.press("g")  # gamma 2.0: v ** (1 / 2)
    expect(page.locator("#adj-gamma-value")).to_have_text("2.00")
    assert centre_pixel(page) == pytest.approx(255 * (base / 255) ** 0.5, abs=3)

    # The next image starts neutral; the file on disk never changed.
    page.keyboard.press("ArrowRight")
    expect(page.locator("#position-text")).to_have_text("Image 3 of 7")
    expect(page.locator("#adj-gamma-value")).to_have_text("1.00")
    assert page.evaluate("() => getComputedStyle(window.clinlabel.viewer.img).filter") == "none"
    assert hashlib.sha256(files["flat1_1"].read_bytes()).hexdigest() == before

    # Pinned (K), the setting holds for the next image.
    page.keyboard.press("k")
    expect(page.locator("#adj-pin")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Shift+B")
    page.keyboard.press("Shift+B")
    expect(page.locator("#adj-brightness-value")).to_have_text("80 %")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 7")
    expect(page.locator("#adj-brightness-value")).to_have_text("80 %")
    assert centre_pixel(page) == pytest.approx(base * 0.8, abs=3)

    # The sliders do the same as the keys.
    page.locator("#adj-brightness").fill("1.5")
    expect(page.locator("#adj-brightness-value")).to_have_text("150 %")


def test_compare_two_visits_with_zoom_and_pan_in_step(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    server, _ = serve_photos(tmp_path, start_server, "Dr Compare")
    open_labeller(page, server)
    page.keyboard.press("ArrowRight")  # Visit_1 / b_flat1.jpg
    expect(page.locator("#position-text")).to_have_text("Image 2 of 7")
    page.keyboard.press("o")
    dialog = page.locator("#compare-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#compare-title")).to_have_text("Compare visits: Case_001")
    left = page.locator("#compare-left-select")
    right = page.locator("#compare-right-select")
    expect(left.locator("option:checked")).to_have_text("Visit_1 / XC_CLINICAL/b_flat1.jpg")
    # The same file of the next visit.
    expect(right.locator("option:checked")).to_have_text("Visit_2 / XC_CLINICAL/b_flat1.jpg")
    page.wait_for_function("() => window.clinlabel.tools.compare.sides.every(s => s.viewer.img)")

    def views() -> list[dict[str, float]]:
        return page.evaluate("() => window.clinlabel.tools.compare.sides.map(s => s.viewer.view())")

    # Zoom the left side with the wheel: the right one takes the same zoom and point.
    box = page.locator("#compare-left-stage").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.mouse.wheel(0, -400)
    page.wait_for_function("() => !window.clinlabel.tools.compare.sides[0].viewer.fitted")
    a, b = views()
    assert a["percent"] == pytest.approx(b["percent"], rel=1e-6)
    assert (a["cx"], a["cy"]) == pytest.approx((b["cx"], b["cy"]), abs=1e-6)
    assert a["cx"] != pytest.approx(0.5, abs=0.01)  # zoomed about the mouse, not the centre

    # Pan the right side by dragging: the left follows.
    rbox = page.locator("#compare-right-stage").bounding_box()
    assert rbox is not None
    cx, cy = rbox["x"] + rbox["width"] / 2, rbox["y"] + rbox["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 80, cy + 30, steps=4)
    page.mouse.up()
    c, d = views()
    assert (c["cx"], c["cy"]) == pytest.approx((d["cx"], d["cy"]), abs=1e-6)
    assert (c["cx"], c["cy"]) != pytest.approx((a["cx"], a["cy"]), abs=1e-3)

    # Another image on the right keeps the view; Escape closes.
    right.select_option(label="Visit_2 / XC_CLINICAL/b_flat2.jpg")
    page.wait_for_function(
        "() => window.clinlabel.tools.compare.sides[1].shown.file.endsWith('b_flat2.jpg')"
        " && window.clinlabel.tools.compare.sides[1].viewer.img"
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_the_stage_keeps_its_size_whether_the_visit_strip_shows_or_not(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # The strip is built a moment after an image opens and hidden on a visit of one image: the
    # stage (and the image fitted in it) must not move under the annotator's pointer either time.
    server, _ = serve_photos(tmp_path, start_server, "Dr Strip")
    page.add_init_script(
        """addEventListener('DOMContentLoaded', () => {
            window.stageSizes = [];
            new ResizeObserver(([entry]) => {
                const {width, height} = entry.contentRect;
                if (width && height) window.stageSizes.push([width, height]);
            }).observe(document.getElementById('stage'));
        })"""
    )
    open_labeller(page, server)
    # From the first image on screen (the strip is built 400 ms later).
    page.evaluate(
        "() => { const r = document.getElementById('stage').getBoundingClientRect();"
        " window.stageSizes = [[r.width, r.height]]; }"
    )
    strip = page.locator("#visit-strip")
    expect(strip).to_be_visible()
    page.keyboard.press("End")
    expect(page.locator("#position-text")).to_have_text("Image 7 of 7")
    page.wait_for_timeout(800)  # past the strip's build delay: it stays hidden (one image)
    expect(strip).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(strip).to_be_visible()
    sizes = page.evaluate("() => window.stageSizes")
    assert len(sizes) >= 1 and all(size == sizes[0] for size in sizes), sizes


def test_the_visit_strip_marks_the_image_and_jumps(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    server, _ = serve_photos(tmp_path, start_server, "Dr Strip")
    open_labeller(page, server)
    strip = page.locator("#visit-strip")
    expect(strip).to_be_visible()
    items = strip.locator("button")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_attribute("aria-current", "true")
    expect(items.nth(1)).to_have_attribute(
        "aria-label", "Image 2 of 3 in Visit_1: XC_CLINICAL/b_flat1.jpg"
    )
    # Thumbnails are small renditions.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#visit-strip img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.evaluate("() => document.querySelector('#visit-strip img').naturalWidth") <= 512

    items.nth(2).click()
    expect(page.locator("#position-text")).to_have_text("Image 3 of 7")
    expect(items.nth(2)).to_have_attribute("aria-current", "true")
    expect(items.nth(0)).not_to_have_attribute("aria-current", "true")

    # Keyboard: S focuses the current thumbnail, arrows move in the strip only, Enter opens.
    page.locator("#stage").focus()
    page.keyboard.press("s")
    expect(items.nth(2)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(items.nth(1)).to_be_focused()
    expect(page.locator("#position-text")).to_have_text("Image 3 of 7")
    page.keyboard.press("Enter")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 7")

    # The next visit gets its own strip.
    page.locator("#stage").focus()
    page.keyboard.press("End")
    expect(page.locator("#position-text")).to_have_text("Image 7 of 7")
    expect(strip).to_be_hidden()  # Case_002 has one image: nothing to jump between
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#position-text")).to_have_text("Image 6 of 7")
    expect(strip).to_be_visible()
    expect(items).to_have_count(3)
    expect(page.locator("#visit-strip-list")).to_have_attribute(
        "aria-label", "Images of Case_001, Visit_2"
    )
