"""The labelling screen around the image (issue 10): the case and visit banner, who labels into
which project, progress in the tab's title, and the help's sections."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# Everything a mis-click could hit, beside the image.
CONTROLS = ".label-button, #btn-clear, #btn-prev, #btn-next, #btn-next-unlabelled"


def boxes(page: Page) -> list[tuple[float, float, float, float]]:
    return [
        (b["x"], b["y"], b["width"], b["height"])
        for b in page.locator(CONTROLS).evaluate_all(
            "els => els.map((e) => e.getBoundingClientRect().toJSON())"
        )
    ]


def expect_position(page: Page, position: int, total: int) -> None:
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {total}")


def test_the_banner_overlays_marks_visits_and_stays_down_going_back(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    # 1-2: Case_001 Visit_1, 3-4: Case_001 Visit_2, 5-6: Case_002 Visit_1, 7-8: Case_002 Visit_2
    batch_maker(batch, cases=2, visits=2, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Banner")
    page.goto(server.url)
    expect_position(page, 1, 8)
    banner = page.locator("#case-banner")
    expect(banner).to_be_hidden()
    before = boxes(page)
    assert len(before) == 7, before  # three labels, Clear, Previous, Next, Next unlabelled

    page.keyboard.press("ArrowRight")
    expect_position(page, 2, 8)
    expect(banner).to_be_hidden()  # same visit
    page.keyboard.press("ArrowRight")
    expect_position(page, 3, 8)
    expect(banner).to_have_text("New visit: Visit_2 of Case_001")
    assert boxes(page) == before  # nothing moved under the pointer
    page.keyboard.press("1")  # labels image 3 and moves on within the visit: banner down
    expect_position(page, 4, 8)
    expect(banner).to_be_hidden()
    page.keyboard.press("2")
    expect_position(page, 5, 8)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("New case: Case_002")
    assert boxes(page) == before
    # It lies over the viewer, and the pointer goes through it: a click under it still lands.
    area = page.locator("#viewer-area").bounding_box()
    shown = banner.bounding_box()
    assert (
        area
        and shown
        and area["y"] <= shown["y"]
        and shown["y"] + shown["height"] <= area["y"] + area["height"]
    )
    assert banner.evaluate("b => getComputedStyle(b).pointerEvents") == "none"
    page.get_by_role("button", name="Suspicious", exact=True).click()
    expect_position(page, 6, 8)
    expect(page.locator("#progress-text")).to_contain_text("3 of 8 labelled")

    # Going back never raises it, into another visit or case alike.
    for position in (5, 4, 3, 2):
        page.keyboard.press("ArrowLeft")
        expect_position(page, position, 8)
        expect(banner).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Case_002: ")).click()  # a jump forward
    expect_position(page, 5, 8)
    expect(banner).to_contain_text("New case: Case_002")
    page.get_by_role("button", name=re.compile(r"^Case_001: ")).click()  # a jump back
    expect_position(page, 1, 8)
    expect(banner).to_be_hidden()
    page.keyboard.press("End")
    expect_position(page, 8, 8)
    expect(banner).to_contain_text("New case: Case_002")
    page.keyboard.press("Home")
    expect(banner).to_be_hidden()


def test_header_names_annotator_and_project_and_the_title_counts(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "Batch_2024"
    batch_maker(batch, cases=1, visits=1, images=3)
    out = tmp_path / "derm study"
    server = start_server(batch, "--out", str(out), "--annotator", "Dr Ana Lima")
    page.goto(server.url)
    expect_position(page, 1, 3)
    who = page.locator("#who")
    expect(who).to_have_text("Labelling as Dr Ana Lima into derm study")
    project = who.locator(".who-project")
    assert Path(project.get_attribute("title") or "") == out.resolve()  # the full path on hover
    expect(page).to_have_title("0/3 · clinlabel — Batch_2024")

    page.keyboard.press("1")
    expect(page).to_have_title("1/3 · clinlabel — Batch_2024")  # after the save
    page.keyboard.press("2")
    expect(page).to_have_title("2/3 · clinlabel — Batch_2024")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Delete")
    expect(page).to_have_title("1/3 · clinlabel — Batch_2024")
    expect(page.locator("#save-status")).to_have_text("All labels saved")

    # A reload keeps it: the title comes from the session, not from this page's counting.
    page.reload()
    expect(page).to_have_title("1/3 · clinlabel — Batch_2024")
    expect(who).to_contain_text("Dr Ana Lima")


def test_help_lists_labelling_keys_first_in_sections_and_opens_at_the_top(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Help")
    page.set_viewport_size({"width": 1280, "height": 600})  # the help is taller than the window
    page.goto(server.url)
    expect_position(page, 1, 2)
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keys")
    expect(help_dialog).to_be_visible()
    headings = help_dialog.locator("h3").all_inner_texts()
    assert headings == [
        "Labelling",
        "Moving between images",
        "Viewer",
        "Radiology: DICOM and NIfTI",
        "Saving and dialogs",
    ]
    labelling = help_dialog.get_by_role("region", name="Labelling")
    keys = labelling.locator("kbd").all_inner_texts()
    assert keys[:3] == ["1", "2", "3"]  # the three label keys first
    assert "Delete / Backspace" in keys and "Ctrl+Z" in keys
    expect(labelling.locator("tr").first).to_contain_text('Label "Suspicious"')
    radiology = help_dialog.get_by_role("region", name="Radiology: DICOM and NIfTI")
    assert {"Shift+1", "Page Down / Page Up", "V", "T"} <= set(
        radiology.locator("kbd").all_inner_texts()
    )

    def at_top() -> None:
        height, client, top = help_dialog.evaluate(
            "d => [d.scrollHeight, d.clientHeight, d.scrollTop]"
        )
        assert height > client, (height, client)  # it does scroll, so the check means something
        assert top == 0, top
        expect(labelling.locator("tr").first).to_be_in_viewport()

    at_top()
    expect(help_dialog.get_by_role("button", name="Close")).to_be_focused()
    help_dialog.evaluate("d => { d.scrollTop = d.scrollHeight; }")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    at_top()
    page.keyboard.press("Enter")  # Close has the focus
    expect(help_dialog).to_be_hidden()
