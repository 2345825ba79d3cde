"""The reading-study pages in Chromium: a reviewer adjudicates with the keyboard; the dashboard
draws its charts as SVG from this server alone and follows readers as they label."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession

from .conftest import make_batch

pytestmark = pytest.mark.e2e

REVIEWER = "Dr Lead"


def _read(project: Project, reader: str, labels: list[str | None]) -> list[int]:
    session = LabellingSession(project, annotator=reader, interface="test")
    session.start()
    views = session.queue(1, len(labels))
    for view, label in zip(views, labels, strict=True):
        if label is not None:
            session.save_label(view.id, label, "blurred" if label == "NA" else None)
    session.close()
    return [view.id for view in views]


def _study(tmp_path: Path, start_server: Any) -> tuple[str, Path]:
    """Two readers who disagree on images 2 and 3 of four; the server's annotator reviews."""
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    with open_project(out) as project:
        _read(project, "Dr A", ["Suspicious", "Suspicious", "NA", "Non-Suspicious"])
        _read(project, "Dr B", ["Suspicious", "Non-Suspicious", "Suspicious", "Non-Suspicious"])
    server = start_server(batch, "--out", str(out), "--annotator", REVIEWER)
    return server.url, out


def test_a_reviewer_adjudicates_disagreements_with_the_keyboard(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    url, _ = _study(tmp_path, start_server)
    page.goto(url)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    page.goto(f"{origin}/adjudicate")
    expect(page.locator("#adj-progress")).to_have_text("0 of 2 adjudicated")
    expect(page.locator("#adj-where")).to_contain_text("1 of 2 · Case_001 / Visit_1")
    reads = page.locator("#adj-reads tr")
    expect(reads).to_have_count(2)
    expect(reads.nth(0)).to_contain_text("Dr A")
    expect(reads.nth(0)).to_contain_text("Suspicious")
    expect(reads.nth(1)).to_contain_text("Non-Suspicious")
    expect(page.locator("#adj-img")).to_have_attribute("src", "/api/images/2/rendition")

    # Readers disagree: a final label without a reason is refused, and says why.
    page.keyboard.press("1")
    expect(page.locator("#adj-error")).to_contain_text("reason")
    expect(page.locator("#adj-progress")).to_have_text("0 of 2 adjudicated")
    # R types the reason, Escape goes back to the keys, 1 gives the final label and moves on.
    page.keyboard.press("r")
    expect(page.locator("#adj-reason")).to_be_focused()
    page.keyboard.type("border irregular on second look")
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    expect(page.locator("#adj-progress")).to_have_text("1 of 2 adjudicated")
    expect(page.locator("#adj-where")).to_contain_text("2 of 2 · Case_002 / Visit_1")
    expect(page.locator("#adj-error")).to_be_hidden()
    # Back to the first: its final label and reason are shown.
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#adj-final")).to_have_text(
        f"Suspicious — by {REVIEWER}: border irregular on second look"
    )
    expect(page.locator("#adj-buttons button[aria-pressed='true']")).to_contain_text("Suspicious")
    # N goes to the next image still to adjudicate.
    page.keyboard.press("n")
    expect(page.locator("#adj-where")).to_contain_text("2 of 2")
    # Every image read: four, the agreeing ones too.
    page.select_option("#adj-scope", "all")
    expect(page.locator("#adj-progress")).to_have_text("1 of 4 adjudicated")


def test_the_dashboard_draws_svg_and_follows_readers_as_they_label(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    url, out = _study(tmp_path, start_server)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.goto(f"{origin}/dashboard")
    table = page.locator("#dash-readers tbody tr")
    expect(table).to_have_count(2)  # the readers; the reviewer has read nothing
    dr_a = table.filter(has_text="Dr A")
    expect(dr_a.locator("td").nth(1)).to_have_text("4")
    expect(dr_a.locator("td").nth(4)).to_have_text("25.0 %")  # one NA of four
    # Images 1 and 4: both agree; 2 and 3: a tie, left out of the consensus.
    expect(dr_a.locator("td").nth(5)).to_have_text("100.0 % of 2")
    expect(page.locator("#dash-readers-chart rect[data-name='Dr A']")).to_have_count(1)
    expect(page.locator("#dash-cases tbody tr")).to_have_count(2)
    expect(page.locator("#dash-days-chart rect")).not_to_have_count(0)

    # A third reader labels while the page is open: the page follows without a reload.
    with open_project(out) as project:
        _read(project, "Dr C", ["NA", None, None, None])
    # The page asks every 5 s: a deadline of three rounds.
    expect(table).to_have_count(3, timeout=15_000)
    expect(table.filter(has_text="Dr C").locator("td").nth(1)).to_have_text("1")
    assert all(r.startswith(origin) for r in requested), requested


def test_a_readers_page_follows_their_worklist_and_blinds_the_repeat(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    """Dr A reads case 2 only (by case, batch order), then sees one image again, blinded."""
    from clinlabel.labelling.assignments import StudyDesign, assign_study
    from clinlabel.labelling.worklist import reader_worklist

    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out)
    with open_project(out) as project:
        assign_study(
            project, ["Dr A", "Dr B"], StudyDesign("by-case", order="batch", repeats=0.5), seed=1
        )
        items = reader_worklist(project, "Dr A").items
    assert [i.repeat for i in items] == [False, False, True]
    server = start_server(batch, "--out", str(out), "--annotator", "Dr A")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")
    expect(page.locator("#progress-text")).to_contain_text("0 of 3 labelled")
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 3")
    page.keyboard.press("2")
    expect(page.locator("#position-text")).to_have_text("Image 3 of 3")
    # The repeat: the same image again, shown as not labelled (the first read is hidden).
    expect(page.locator("#current-label")).to_have_text("Not labelled yet")
    page.keyboard.press("2")
    expect(page.locator("#progress-text")).to_contain_text("3 of 3 labelled")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    with open_project(out) as project:
        after = reader_worklist(project, "Dr A").items
        session = LabellingSession(project, annotator="Dr B", interface="test")
        session.start()
        session.close()
    assert all(i.done for i in after)
    assert after[2].repeat_label == "Non-Suspicious"


def test_the_page_asks_for_the_case_diagnosis_once_the_case_is_labelled(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    """A locked study with a case diagnosis: the next case is refused until the dialog's
    diagnosis is given; then it opens."""
    from clinlabel.labelling.assignments import StudyDesign, assign_study

    schema = tmp_path / "schema.toml"
    schema.write_text(
        '[[labels]]\nname = "Suspicious"\nkey = "1"\n'
        '[[labels]]\nname = "Benign"\nkey = "2"\n'
        '[[case_labels]]\nname = "Melanoma"\nkey = "m"\n'
        '[[case_labels]]\nname = "Naevus"\nkey = "n"\n'
    )
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2)
    init_project(batch, out, schema_path=schema)
    with open_project(out) as project:
        assign_study(project, ["Dr A"], StudyDesign("by-case", order="batch", locked=True), seed=1)
    server = start_server(batch, "--out", str(out), "--annotator", "Dr A")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 4")
    page.keyboard.press("2")
    dialog = page.get_by_role("dialog", name="Diagnosis of Case_001 (all 2 images labelled)")
    expect(dialog).to_be_visible()
    # Put off: the next case is still locked, and the server says why.
    dialog.get_by_role("button", name="Later").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#position-text")).to_have_text("Image 3 of 4")
    page.keyboard.press("1")
    expect(page.locator("#error-banner")).to_contain_text("Case_002 is not open yet")
    # Labelling the case again asks again; the diagnosis by its key opens Case_002.
    page.evaluate("p => window.clinlabel.go(p)", 2)
    expect(page.locator("#position-text")).to_have_text("Image 2 of 4")
    page.keyboard.press("2")
    expect(dialog).to_be_visible()
    page.keyboard.press("n")
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("Case_001: diagnosis Naevus saved")
    expect(page.locator("#position-text")).to_have_text("Image 3 of 4")
    page.keyboard.press("2")
    expect(page.locator("#position-text")).to_have_text("Image 4 of 4")
    expect(page.locator("#progress-text")).to_contain_text("3 of 4 labelled")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    with open_project(out) as project:
        from clinlabel.labelling.case_rules import case_state

        assert case_state(project, reader="Dr A", case="Case_001").diagnosis == "Naevus"
        assert case_state(project, reader="Dr A", case="Case_002").labelled == 1
