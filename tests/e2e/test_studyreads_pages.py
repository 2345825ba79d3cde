"""A reader's page in a reading study, in Chromium: their first read of an image stays hidden
when they go back to it (and in the review table) until they have read its repeat; a study
assigned while the page is open is told to them, not followed silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.worklist import reader_worklist

from .conftest import make_batch

pytestmark = pytest.mark.e2e

READER = "Dr A"


def _go(page: Page, position: int, total: int) -> None:
    page.evaluate("p => window.clinlabel.go(p)", position)
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {total}")


def test_studyreads_going_back_to_a_first_read_shows_it_hidden_until_the_repeat(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    with open_project(out) as project:
        assign_study(project, [READER], StudyDesign("by-case", order="batch", repeats=1.0), seed=1)
        items = reader_worklist(project, READER).items
    total = len(items)
    first = items[0]
    repeat = next(i for i in items if i.repeat and i.image_id == first.image_id)
    server = start_server(batch, "--out", str(out), "--annotator", READER)
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {total}")
    page.keyboard.press("1")  # Suspicious, and on to image 2
    expect(page.locator("#position-text")).to_have_text(f"Image 2 of {total}")
    expect(page.locator("#save-status")).to_have_text("All labels saved")

    _go(page, 1, total)
    label = page.locator("#current-label")
    expect(label).to_contain_text("hidden until you have read this image's repeat")
    expect(label).not_to_contain_text("Suspicious")
    expect(page.locator("#labels button[aria-pressed='true']")).to_have_count(0)
    # The review table lists this reader's worklist only, the first read hidden.
    page.keyboard.press("r")
    review = page.locator("#review-dialog")
    expect(review.locator("#review-count")).to_have_text("4 of 4 images")
    row = review.locator("#review-body tr[data-position='1']")
    expect(row).to_contain_text("Read · hidden")
    expect(row).not_to_contain_text("Suspicious")
    page.keyboard.press("Escape")
    expect(review).to_be_hidden()
    # A change of it is refused, and says why.
    page.keyboard.press("2")
    expect(page.locator("#error-banner")).to_contain_text("final")

    _go(page, repeat.position, total)
    expect(label).to_have_text("Not labelled yet")
    page.keyboard.press("2")  # the repeat read: Non-Suspicious
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    # Both reads shown now, each as its own record.
    _go(page, 1, total)
    expect(label).to_contain_text("Suspicious")
    expect(label).not_to_contain_text("hidden")
    _go(page, repeat.position, total)
    expect(label).to_contain_text("Non-Suspicious")


def test_studyreads_a_study_assigned_while_the_page_is_open_is_told_then_followed(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    server = start_server(batch, "--out", str(out), "--annotator", READER)
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")
    page.keyboard.press("1")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    # Another process (this test) assigns a study on the same project while the server runs.
    with open_project(out) as project:
        assign_study(project, [READER, "Dr B"], StudyDesign("by-case", order="batch"), seed=1)
        mine = [i.relpath for i in reader_worklist(project, READER).items]
    assert len(mine) == 2
    page.keyboard.press("2")
    expect(page.locator("#error-banner")).to_contain_text(
        "A reading study was assigned while you were working"
    )
    page.reload()
    # The worklist is the queue now, at the image on screen if it is one of the reader's.
    on_screen = "Case_001/Visit_1/XC_CLINICAL/img2.jpg"
    at = mine.index(on_screen) + 1 if on_screen in mine else 1
    expect(page.locator("#position-text")).to_have_text(f"Image {at} of 2")
    case, visit, _, file = mine[at - 1].split("/")
    expect(page.locator("#image-meta")).to_have_text(f"{case} / {visit} / XC_CLINICAL/{file}")


def test_studyreads_the_dashboard_shows_each_readers_repeats_apart(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    from urllib.parse import urlsplit

    from clinlabel.labelling.service import LabellingSession

    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    with open_project(out) as project:
        assign_study(project, [READER], StudyDesign("by-case", order="batch", repeats=0.5), seed=1)
        items = reader_worklist(project, READER).items
        session = LabellingSession(project, annotator=READER, interface="test")
        session.start()
        for item in items:
            if not item.repeat:
                session.save_label(item.image_id, "Suspicious", position=item.position)
        repeat = next(i for i in items if i.repeat)
        session.save_label(repeat.image_id, "NA", "blurred", position=repeat.position)
        session.close()
    assert sum(i.repeat for i in items) == 2
    server = start_server(batch, "--out", str(out), "--annotator", "Dr Lead")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(server.url))
    page.goto(server.url)
    page.goto(f"{origin}/dashboard")
    row = page.locator("#dash-readers tbody tr").filter(has_text=READER)
    expect(row.locator("td").nth(1)).to_have_text("4 of 4")
    # The NA given at a repeat is not a first read's: 0 % NA; one repeat of two read.
    expect(row.locator("td").nth(4)).to_have_text("0.0 %")
    expect(row.locator("td").nth(7)).to_have_text("1 of 2")


def test_studyreads_the_review_table_is_the_readers_worklist_and_the_reviewers_readers(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    from clinlabel.labelling.service import LabellingSession

    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    with open_project(out) as project:
        assign_study(project, [READER, "Dr B"], StudyDesign("by-case", order="batch"), seed=1)
        mine = reader_worklist(project, READER).items
        session = LabellingSession(project, annotator=READER, interface="test")
        session.start()
        session.save_label(mine[0].image_id, "Suspicious", position=mine[0].position)
        session.close()
    reader = start_server(batch, "--out", str(out), "--annotator", READER)
    page.goto(reader.url)
    expect(page.locator("#position-text")).to_contain_text("of 2")
    # The sidebar: the reader's one case, counted as the table counts it.
    expect(page.locator("#case-list > li")).to_have_count(1)
    expect(page.locator("#case-list > li > button .count")).to_have_text("1/2")
    page.keyboard.press("r")
    review = page.locator("#review-dialog")
    expect(review.locator("#review-count")).to_have_text("2 of 2 images")
    expect(review.locator("#review-body tr")).to_have_count(2)
    expect(review.locator("#review-body")).to_contain_text(mine[0].case)
    page.keyboard.press("Escape")
    reader.stop()

    lead = start_server(batch, "--out", str(out), "--annotator", "Dr Lead")
    page.goto(lead.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")
    page.keyboard.press("r")
    review = page.locator("#review-dialog")
    expect(review.locator("#review-count")).to_have_text("4 of 4 images")
    expect(review.locator("th[data-key='annotator'] button")).to_have_text("Readers")
    first = review.locator(f"#review-body tr[data-position='{mine[0].position}']")
    expect(first).to_contain_text(f"{READER}: Suspicious")
    expect(review.locator("#review-body")).to_contain_text("Dr B: —")


def test_attack13b_a_label_refused_because_a_study_was_assigned_is_sent_after_the_reload(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    """The refusal of a study assigned mid-case judged nothing: the label waiting in the page is
    kept in the browser and sent after the reload, saved where the image is the reader's."""
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    server = start_server(batch, "--out", str(out), "--annotator", READER)
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")
    with open_project(out) as project:
        assign_study(project, [READER, "Dr B"], StudyDesign("by-case", order="batch"), seed=1)
        mine = reader_worklist(project, READER).items
    on_screen = "Case_001/Visit_1/XC_CLINICAL/img1.jpg"
    assert on_screen in [item.relpath for item in mine]
    page.keyboard.press("1")
    expect(page.locator("#error-banner")).to_contain_text("study was assigned")
    page.evaluate("() => window.clinlabel.queue.idle()")  # the label's refusal is in
    page.reload()
    expect(page.locator("#position-text")).to_contain_text(f"of {len(mine)}")
    at = next(item.position for item in mine if item.relpath == on_screen)
    _go(page, at, len(mine))
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    expect(page.locator("#current-label")).to_contain_text("Suspicious")
    with open_project(out) as project:
        assert reader_worklist(project, READER).done == 1
