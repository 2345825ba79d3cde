"""The annotator's day (issue 10): reopen without thinking, resume where you were, N never skips
the image that needs a label, Ctrl+Z and Delete, and a finish that checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from clinlabel.labelling.audit_trail import read_events, verify_project

pytestmark = pytest.mark.e2e


def expect_position(page: Page, position: int, total: int) -> None:
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {total}")


def expect_saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=30_000)


def test_reopening_resumes_where_the_annotator_was(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=2, visits=1, images=4)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 8)
    page.keyboard.press("1")
    expect_position(page, 2, 8)
    # "Next unlabelled" on an unlabelled image keeps it (it used to skip to image 3).
    page.keyboard.press("n")
    expect_position(page, 2, 8)
    page.get_by_role("button", name="Next unlabelled").click()
    expect_position(page, 2, 8)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    expect_position(page, 7, 8)  # looked ahead; image 2 is still the first unlabelled
    expect_saved(page)
    # The server records the place when the page's "show" arrives: wait until it has been
    # answered (the save line counts labels only), or a quick stop races it.
    page.evaluate("() => window.clinlabel.queue.idle()")
    assert server.stop() in (0, 130)

    # Restarted without --out: the same project, and the image last on screen.
    again = start_server(batch, "--annotator", "kim")
    log = again.log.read_text()
    assert f"Reopening the project {out.resolve()} chosen for this batch on" in log
    assert "resuming at image 7." in log  # the terminal and the page agree
    page.goto(again.url)
    expect_position(page, 7, 8)
    expect(page.locator("#progress-text")).to_contain_text("1 of 8 labelled")
    page.keyboard.press("n")  # unlabelled: stays
    expect_position(page, 7, 8)
    page.keyboard.press("2")
    expect_position(page, 8, 8)
    page.keyboard.press("Home")
    expect_position(page, 1, 8)
    page.keyboard.press("n")  # N still finds the first unlabelled one
    expect_position(page, 2, 8)
    again.stop()


def test_the_start_page_offers_the_remembered_project_and_asks_before_another(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    chosen = tmp_path / "chosen"
    first = start_server(batch)
    page.goto(first.url)
    page.get_by_label("Output folder (project)").fill(str(chosen))
    page.get_by_label("Annotator name").fill("Ana")
    page.get_by_role("button", name="Start").click()
    expect_position(page, 1, 3)
    page.keyboard.press("1")
    expect_saved(page)
    first.stop()

    # Next morning: `clinlabel label BATCH`, no --out. The start page shows yesterday's project,
    # not the default sibling folder (accepting that started a second, empty project).
    second = start_server(batch)
    page.goto(second.url)
    folder = page.get_by_label("Output folder (project)")
    expect(folder).to_have_value(str(chosen.resolve()))
    expect(page.locator("#start-note")).to_contain_text("carries on where you stopped")
    page.get_by_label("Annotator name").fill("Ana")

    # Another folder: the page names the existing project first; "Cancel" starts nothing.
    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Dialog], None]:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        return handle

    folder.fill(str(tmp_path / "fresh"))
    page.once("dialog", answer(False))
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#start-error")).to_contain_text("Not started")
    assert len(asked) == 1 and str(chosen.resolve()) in asked[0]
    assert not (tmp_path / "fresh").exists()
    expect(folder).to_have_value(str(chosen.resolve()))
    page.get_by_role("button", name="Start").click()
    expect_position(page, 2, 3)  # where Ana was: the first image was labelled, then shown 2
    expect(page.locator("#progress-text")).to_contain_text("1 of 3 labelled")
    second.stop()

    # The remembered project removed: the start page says so and offers the default again.
    import shutil

    shutil.rmtree(chosen)
    third = start_server(batch)
    assert "is no longer there" in third.log.read_text()
    page.goto(third.url)
    expect(page.get_by_label("Output folder (project)")).to_have_value(
        str(tmp_path / "batch-clinlabel")
    )
    expect(page.locator("#start-note")).to_contain_text("is no longer there")
    third.stop()


def test_delete_says_how_to_undo_and_ctrl_z_walks_back(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=4)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 4)
    label = page.locator("#current-label")
    notice = page.locator("#notice")
    page.keyboard.press("1")  # image 1: Suspicious, on to 2
    expect_position(page, 2, 4)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Delete")
    expect(notice).to_have_text("Label cleared — Ctrl+Z to undo")
    expect(label).to_have_text("Not labelled yet")
    expect_saved(page)

    page.keyboard.press("Control+z")  # the clear undone: Suspicious again
    expect(label).to_contain_text("Suspicious — saved")
    expect(notice).to_contain_text("Undone: XC_CLINICAL/img1.jpg is labelled Suspicious again")
    page.keyboard.press("2")  # relabel; on to image 2
    expect_position(page, 2, 4)
    page.keyboard.press("Control+z")  # back on image 1, Suspicious again
    expect_position(page, 1, 4)
    expect(label).to_contain_text("Suspicious — saved")
    page.keyboard.press("Control+z")  # the first label undone: no label
    expect(label).to_have_text("Not labelled yet")
    expect(page.locator("#progress-text")).to_contain_text("0 of 4 labelled")
    page.keyboard.press("Control+z")
    expect(notice).to_contain_text("Nothing to undo")

    # Backspace clears too; Ctrl+Z typed in a comment box undoes typing, not a label.
    page.keyboard.press("2")
    expect_position(page, 2, 4)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Backspace")
    expect(notice).to_have_text("Label cleared — Ctrl+Z to undo")
    page.keyboard.press("3")  # NA: asks for a comment
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_be_focused()
    box.type("blurred")
    page.keyboard.press("Control+z")
    page.keyboard.press("Escape")
    expect(label).to_have_text("Not labelled yet")  # still cleared: nothing was undone
    expect_saved(page)
    server.stop()

    kinds = [
        (e["kind"], json.loads(e["data"]).get("undo_of") is not None)
        for e in read_events(out, limit=0)
        if e["kind"].startswith("label_")
    ]
    assert kinds == [
        ("label_saved", False),
        ("label_cleared", False),
        ("label_saved", True),  # Ctrl+Z: the clear undone
        ("label_changed", False),
        ("label_changed", True),  # Ctrl+Z: the relabel undone
        ("label_cleared", True),  # Ctrl+Z: the first label undone
        ("label_saved", False),
        ("label_cleared", False),
    ], kinds
    assert verify_project(out).ok


def test_finish_with_unlabelled_images_checks_first_then_ends_the_session(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=4)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 4)
    page.keyboard.press("1")
    page.keyboard.press("2")  # images 1 and 2 labelled; 3 and 4 not
    expect_position(page, 3, 4)

    # Finish: the review table first, saying how many are left and offering both ways on.
    page.get_by_role("button", name="Finish and export").click()
    review = page.get_by_role("dialog", name="Review")
    expect(review).to_be_visible()
    bar = review.get_by_role("group", name="Finish and export")
    expect(bar).to_contain_text("2 of 4 image(s) are not labelled yet")
    expect(review.locator("tbody tr[data-position]")).to_have_count(4)
    next_unlabelled = bar.get_by_role("button", name="Next unlabelled")
    expect(next_unlabelled).to_be_focused()  # Enter must not export an unfinished batch
    page.keyboard.press("Enter")
    expect(review).to_be_hidden()
    expect_position(page, 3, 4)  # the first unlabelled image, on screen already: kept
    page.keyboard.press("1")
    expect_position(page, 4, 4)

    page.get_by_role("button", name="Finish and export").click()
    expect(bar).to_contain_text("1 of 4 image(s) are not labelled yet")
    assert not list(out.glob("*.csv"))  # nothing exported until the annotator says so
    bar.get_by_role("button", name="Export anyway").click()
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    expect(exported.locator("#outputs-next")).to_contain_text(
        "Close this tab, then press Ctrl+C in the terminal"
    )
    assert list(out.glob("*.csv"))
    page.keyboard.press("Escape")
    expect(exported).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("Close this tab")
    # The session has ended: its close is in the trail, and keys do nothing any more.
    kinds = [e["kind"] for e in read_events(out, limit=0)]
    assert kinds[-1] == "session_closed" and "export_written" in kinds[-3:], kinds[-4:]
    page.keyboard.press("2")
    expect(page.locator("#progress-text")).to_contain_text("3 of 4 labelled")
    assert server.stop() in (0, 130)
    assert [e["kind"] for e in read_events(out, limit=0)].count("session_closed") == 1
    assert verify_project(out).ok


def test_finish_with_every_image_labelled_offers_export(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 2)
    page.keyboard.press("1")
    page.keyboard.press("2")  # the last image: labelled, stays on screen
    expect_saved(page)
    page.get_by_role("button", name="Finish and export").click()
    bar = page.get_by_role("group", name="Finish and export")
    expect(bar).to_contain_text("All 2 images are labelled")
    expect(bar.get_by_role("button", name="Next unlabelled")).to_be_hidden()
    export = bar.get_by_role("button", name="Export", exact=True)
    expect(export).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Exported")).to_be_visible()
    server.stop()
