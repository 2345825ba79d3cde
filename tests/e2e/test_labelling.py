"""The seed's workflow in a real browser, by keyboard only, checked against the files written."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession

pytestmark = pytest.mark.e2e


def labels_in_project(
    project_dir: Path, annotator: str, count: int
) -> dict[str, tuple[str | None, str]]:
    """One annotator's labels as the core reads them back (no SQL): relpath -> (label, comment)."""
    with open_project(project_dir) as project:
        session = LabellingSession(project, annotator=annotator, interface="test")
        session.start()
        try:
            return {v.relpath: (v.label, v.comment) for v in session.queue(1, count)}
        finally:
            session.close()


def expect_saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=60_000)


def expect_position(page: Page, position: int, total: int) -> None:
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {total}")


def test_whole_batch_by_keyboard_then_review_and_export(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    relpaths = batch_maker(batch, cases=2, visits=2, images=3)  # 12 images, case change at 7
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "Dr Keys")
    origin = server.url.split("/?", 1)[0]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url)
    expect_position(page, 1, 12)
    expect(page.get_by_role("button", name="Suspicious", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Non-Suspicious", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="NA", exact=True)).to_be_visible()

    expected: dict[str, tuple[str, str]] = {}
    dialog = page.get_by_role("dialog")
    plan = ["1", "2", "1", "NA", "2", "2", "1", "NA-empty", "1", "2", "1", "2"]
    for index, step in enumerate(plan):
        position = index + 1
        expect_position(page, position, 12)
        if position == 7:
            banner = page.locator("#case-banner")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text("Case_002")
        if step.startswith("NA"):
            page.keyboard.press("3")
            expect(dialog).to_be_visible()
            comment_box = page.get_by_role("textbox", name="Comment")
            expect(comment_box).to_be_focused()
            page.keyboard.press("Control+Enter")  # empty: refused, visibly
            expect(page.locator("#comment-error")).to_be_visible()
            expect(dialog).to_be_visible()
            if step == "NA-empty":
                page.keyboard.press("Escape")  # cancels and labels nothing
                expect(dialog).to_be_hidden()
                expect_position(page, position, 12)
                expect(page.locator("#current-label")).to_have_text("Not labelled yet")
                page.keyboard.press("3")
                expect(dialog).to_be_visible()
            page.keyboard.type('blurry, "motion"')
            page.keyboard.press("Enter")  # a new line, not a save
            expect(dialog).to_be_visible()
            page.keyboard.type("retake =1+1")
            page.keyboard.press("Control+Enter")
            expect(dialog).to_be_hidden()
            expected[relpaths[index]] = ("NA", 'blurry, "motion"\nretake =1+1')
        else:
            page.keyboard.press(step)
            expected[relpaths[index]] = (
                "Suspicious" if step == "1" else "Non-Suspicious",
                "",
            )
    expect_saved(page)
    expect(page.locator("#progress-text")).to_contain_text("12 of 12 labelled")

    # Back twice, see the earlier label, relabel it; then clear and relabel another.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect_position(page, 10, 12)
    expect(page.locator("#current-label")).to_contain_text("Non-Suspicious")
    expect(page.locator("#current-label")).to_contain_text("saved")
    pressed = page.get_by_role("button", name="Non-Suspicious", exact=True)
    expect(pressed).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("1")
    expected[relpaths[9]] = ("Suspicious", "")
    expect_position(page, 11, 12)
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("Suspicious")
    page.keyboard.press("Delete")
    expect(page.locator("#current-label")).to_have_text("Not labelled yet")
    expect_saved(page)
    expect(page.locator("#progress-text")).to_contain_text("11 of 12 labelled")
    page.keyboard.press("n")  # the only unlabelled image is the one on screen
    expect_position(page, 10, 12)
    page.keyboard.press("2")
    expected[relpaths[9]] = ("Non-Suspicious", "")
    expect_saved(page)

    # Review table: filter by label and case, sort, open a row.
    page.keyboard.press("r")
    review = page.get_by_role("dialog", name="Review")
    expect(review).to_be_visible()
    rows = review.locator("tbody tr[data-position]")  # built rows with their data (review.js)
    expect(rows).to_have_count(12)
    review.get_by_label("Label").select_option("NA")
    expect(rows).to_have_count(2)
    review.get_by_label("Case").select_option("Case_002")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("retake =1+1")
    review.get_by_label("Case").select_option("")
    review.get_by_label("Label").select_option("")
    review.get_by_role("button", name="File").click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("File")
    review.get_by_role("button", name="#").click()
    review.get_by_role("button", name="#").click()  # descending: position 12 first
    expect(rows.first.locator("td").first).to_have_text("12")
    target = review.locator("tbody tr[data-position='4']")
    target.focus()
    page.keyboard.press("Enter")
    expect(review).to_be_hidden()
    expect_position(page, 4, 12)
    expect(page.locator("#current-label")).to_contain_text("NA")
    expect(page.locator("#current-label")).to_contain_text("retake =1+1")

    # Save progress, then finish and export, all from the keyboard.
    page.keyboard.press("Control+s")
    expect(page.locator("#notice")).to_contain_text("Progress saved")
    page.get_by_role("button", name="Finish and export").focus()
    page.keyboard.press("Enter")
    # The review table first, as a last check; every image is labelled, so Export has the focus.
    finishing = page.get_by_role("group", name="Finish and export")
    expect(finishing).to_contain_text("All 12 images are labelled")
    expect(finishing.get_by_role("button", name="Export", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    expect(exported.locator("#outputs-summary")).to_contain_text("SUMMARY")
    csv_path = Path(exported.locator("#outputs-csv").inner_text())
    assert csv_path.parent == out.resolve()
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows_read = list(csv.DictReader(handle))
    assert [r["file"] for r in rows_read] == [p.split("/", 2)[2] for p in relpaths]
    for relpath, row in zip(relpaths, rows_read, strict=True):
        case, visit, _ = relpath.split("/", 2)
        label, comment = expected[relpath]
        assert (row["case"], row["visit"], row["label"]) == (case, visit, label)
        # A comment that looks like a formula is defused in the CSV; the text is kept.
        assert row["comment"].lstrip("'") == comment
    assert server.stop() in (0, 130)
    # Ctrl+C closed the session cleanly (its end is in the audit trail) and the chain holds.
    events = read_events(out, limit=0)
    assert events[-1]["kind"] == "session_closed"
    assert any(e["kind"] == "label_changed" for e in events)
    assert verify_project(out).ok
    assert labels_in_project(out, "Dr Keys", 12) == expected
    # Works with no network: every request the page made went to this server.
    assert requested and all(url.startswith(origin + "/") for url in requested)


def test_resume_after_the_server_is_killed(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    relpaths = batch_maker(batch, cases=2, visits=1, images=4)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 8)
    keys = ["2", "1", "2", "1", "1"]
    for key in keys:
        page.keyboard.press(key)
    expect_saved(page)  # everything is shown as saved...
    server.kill()  # ...so killing the server loses none of it
    again = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(again.url)
    expect_position(page, 6, 8)
    expect(page.locator("#progress-text")).to_contain_text("5 of 8 labelled")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("Suspicious")
    names = {"1": "Suspicious", "2": "Non-Suspicious"}
    again.stop()
    stored = labels_in_project(out, "kim", 8)
    for relpath, key in zip(relpaths, keys, strict=False):
        assert stored[relpath] == (names[key], "")
    assert all(stored[p] == (None, "") for p in relpaths[5:])


def test_start_page_asks_for_output_and_name(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2)
    server = start_server(batch)
    page.goto(server.url)
    folder = page.get_by_label("Output folder (project)")
    expect(folder).to_have_value(str(tmp_path / "batch-clinlabel"))
    folder.fill(str(batch / "inside"))
    page.get_by_label("Annotator name").fill("Ana")
    page.keyboard.press("Enter")
    expect(page.locator("#start-error")).to_contain_text("inside the batch")
    folder.fill(str(tmp_path / "chosen"))
    page.get_by_role("button", name="Start").click()
    expect_position(page, 1, 2)
    # The viewer and the help overlay, by keyboard.
    image = page.locator("#stage img")
    expect(image).to_be_visible()
    fitted = image.get_attribute("style")
    page.keyboard.press("+")
    expect(image).not_to_have_attribute("style", fitted or "")
    page.keyboard.press("0")
    expect(image).to_have_attribute("style", fitted or "")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keys")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next unlabelled image")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("1")
    expect_saved(page)
    assert (tmp_path / "chosen" / "clinlabel.db").is_file()
    assert not (batch / "inside").exists()


def test_an_export_on_a_broken_trail_says_so_in_the_page(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    """The CLI's export exits 1 on a broken trail; the page's Finish and export said nothing
    (found by the adversarial review): it must say BROKEN before anyone uses the files."""
    import sqlite3

    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 3)
    page.keyboard.press("1")
    expect_saved(page)
    with sqlite3.connect(out / "clinlabel.db") as conn:  # someone edits the label's time
        conn.execute("UPDATE labels SET labelled_at = '2020-01-01T00:00:00Z'")
    page.get_by_role("button", name="Finish and export").click()
    page.get_by_role("group", name="Finish and export").get_by_role(
        "button", name="Export anyway"
    ).click()
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    expect(exported.locator("#outputs-broken")).to_be_visible()
    expect(exported.locator("#outputs-broken")).to_contain_text("audit trail is BROKEN")
    server.stop()


def test_an_export_on_an_intact_trail_shows_no_warning(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "kim")
    page.goto(server.url)
    expect_position(page, 1, 2)
    page.keyboard.press("2")
    expect_saved(page)
    page.get_by_role("button", name="Finish and export").click()
    page.get_by_role("group", name="Finish and export").get_by_role(
        "button", name="Export anyway"
    ).click()
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    expect(exported.locator("#outputs-summary")).to_contain_text("SUMMARY")
    expect(exported.locator("#outputs-broken")).to_be_hidden()
    server.stop()
