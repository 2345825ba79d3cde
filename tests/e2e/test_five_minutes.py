"""README's "Labelling in five minutes", walked in a real browser on the demo batch: start page,
label keys, an NA comment, back and relabel, the review table, finish and export. Each step's
screenshot is written to docs/screenshots/five-minutes-*.png for the README."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.demo.batch import make_demo_batch

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover effect in the picture
    path = SCREENSHOTS / f"five-minutes-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def test_labelling_in_five_minutes(page: Page, tmp_path: Path, start_server: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    batch = make_demo_batch(
        tmp_path / "Demo_Batch", cases=2, visits=2, images_per_visit=3, large_jpegs=0, medical=False
    )
    server = start_server(batch)  # no --out, no --annotator: the start page asks
    page.goto(server.url)

    # 1. Start: the output folder is filled in beside the batch; type your name.
    folder = page.get_by_label("Output folder (project)")
    expect(folder).to_have_value(re.compile(r"\S"))
    project = Path(folder.input_value())
    assert batch.resolve() not in project.resolve().parents  # never inside the batch
    page.get_by_label("Annotator name").fill("Dr Ana Lima")
    shoot(page, "1-start")
    page.get_by_role("button", name="Start").click()
    position = page.locator("#position-text")
    expect(position).to_have_text(re.compile(r"Image 1 of \d+"))
    total = int(position.inner_text().rsplit(" ", 1)[1])
    expect(page.locator("#who")).to_contain_text("Labelling as Dr Ana Lima into")

    # 2. One key per image: 1 Suspicious, 2 Non-Suspicious; the next image comes by itself.
    page.keyboard.press("1")
    expect(position).to_have_text(f"Image 2 of {total}")
    page.keyboard.press("2")
    expect(position).to_have_text(f"Image 3 of {total}")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    page.evaluate("document.activeElement.blur()")
    shoot(page, "2-label")

    # 3. NA asks for a comment; Ctrl+Enter saves it.
    page.keyboard.press("3")
    page.get_by_role("textbox", name="Comment").fill("Out of focus; retake at the next visit")
    shoot(page, "3-comment")
    page.keyboard.press("Control+Enter")
    expect(position).to_have_text(f"Image 4 of {total}")

    # 4. Back with the left arrow; a key relabels (image 2 becomes Suspicious).
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text(f"Image 2 of {total}")
    expect(page.locator("#current-label")).to_contain_text("Non-Suspicious")
    page.keyboard.press("1")
    expect(position).to_have_text(f"Image 3 of {total}")
    page.keyboard.press("End")
    expect(position).to_have_text(f"Image {total} of {total}")
    page.keyboard.press("Home")
    # The rest, one key each (N goes to the next unlabelled image).
    for _ in range(total - 3):
        page.keyboard.press("n")
        expect(page.locator("#current-label")).to_have_text("Not labelled yet")
        page.keyboard.press("2")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    expect(page.locator("#progress-text")).to_contain_text(f"{total} of {total} labelled")

    # 5. Review: every image with its thumbnail and label; a label key relabels the row.
    page.keyboard.press("Home")
    page.keyboard.press("r")
    review = page.get_by_role("dialog", name="Review")
    expect(review.locator("#review-count")).to_have_text(f"{total} of {total} images")
    first = review.locator("#review-body tr[data-position='1']")
    expect(first).to_be_focused()  # the row of the image on screen
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=first.locator("img.thumb").element_handle(),
    )
    expect(review.locator("#review-body tr[data-position='3'] select")).to_have_value("NA")
    shoot(page, "4-review")
    page.keyboard.press("Escape")

    # 6. Finish and export: the CSV and the summary report go into the project folder.
    # Every image is labelled: the review table's finish bar offers Export, focused.
    page.get_by_role("button", name="Finish and export").click()
    bar = page.get_by_role("dialog", name="Review").get_by_role("group", name="Finish and export")
    export = bar.get_by_role("button", name="Export", exact=True)
    expect(export).to_be_focused()
    page.keyboard.press("Enter")
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    shoot(page, "5-export")
    csv_path = Path(exported.locator("#outputs-csv").inner_text())
    assert csv_path.parent == project.resolve()
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == total
    assert [r["label"] for r in rows[:3]] == ["Suspicious", "Suspicious", "NA"]
    assert rows[2]["comment"] == "Out of focus; retake at the next visit"
    assert Path(exported.locator("#outputs-report").inner_text()).parent == project.resolve()
