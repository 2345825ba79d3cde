"""The agreement page of a reader whose first reads are sealed (a blinded test-retest study,
`clinlabel label` on the reader's laptop, which admits its one annotator to every role): one line
saying how many reads are sealed and what to do, no table and no read; once the repeats are read,
the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from .conftest import make_batch

pytestmark = pytest.mark.e2e

READERS = {"Dr A": "Suspicious", "Dr B": "Non-Suspicious"}


def test_sealed_agreement_the_page_shows_the_refusal_and_no_read(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=2, size=(64, 48))
    init_project(batch, out)
    with open_project(out) as project:
        design = StudyDesign("by-case", overlap=1.0, repeats=0.5, order="batch")
        assign_study(project, list(READERS), design, seed=2)
        for reader, label in READERS.items():
            session = LabellingSession(project, annotator=reader, interface="test")
            session.start()
            for item in reader_worklist(project, reader).items:
                if not item.repeat:
                    session.save_label(item.image_id, label, position=item.position)
            session.close()
        repeats = [i for i in reader_worklist(project, "Dr A").items if i.repeat]
    assert repeats
    server = start_server(batch, "--out", str(out), "--annotator", "Dr A")
    origin = server.url.split("/?")[0]
    page.goto(server.url)  # the link sets the access cookie
    page.goto(f"{origin}/agreement")
    error = page.locator("#agr-error")
    expect(error).to_contain_text(f"{len(repeats)} first read(s) of yours")
    expect(error).to_contain_text("Read the repeats in your worklist first")
    expect(page.locator("#agr-summary")).to_have_text("No figures")
    expect(page.locator("#agr-main")).to_be_hidden()
    body = page.locator("body")
    expect(body).not_to_contain_text("Suspicious")
    expect(body).not_to_contain_text("Dr B")
    assert page.locator("#agr-pairs tbody tr").count() == 0

    # Dr A reads the repeats (as the labelling page sends them): the figures are theirs now.
    for item in repeats:
        status = page.evaluate(
            """([id, position]) => fetch(`/api/images/${id}/label`, {
                method: "PUT",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({label: "NA", comment: "blurred", position}),
            }).then((r) => r.status)""",
            [item.image_id, item.position],
        )
        assert status == 200
    page.reload()
    expect(page.locator("#agr-summary")).to_contain_text("2 readers (Dr A, Dr B)")
    expect(page.locator("#agr-error")).to_be_hidden()
    expect(page.locator("#agr-pairs tbody tr")).to_have_count(1)
    expect(page.locator("#agr-intra tbody tr").first.locator("td").first).to_have_text("Dr A")
