"""The agreement page in Chromium: a reviewer reads the figures `clinlabel agreement` prints,
drawn from this server alone (no network resource)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.agreement import project_agreement
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.reports.agreement import agreement_document

from .conftest import make_batch

pytestmark = pytest.mark.e2e

S, N = "Suspicious", "Non-Suspicious"
READS = {"Dr A": [S, S, N, N, S, "NA"], "Dr B": [S, N, N, N, S, "NA"]}


def test_the_agreement_page_shows_the_commands_figures(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_batch(batch, cases=2, visits=1, images=3, size=(64, 48))
    init_project(batch, out)
    with open_project(out) as project:
        for reader, labels in READS.items():
            session = LabellingSession(project, annotator=reader)
            session.start()
            for view, label in zip(session.queue(1, 6), labels, strict=True):
                session.save_label(view.id, label, "blurred" if label == "NA" else None)
            session.close()
        expected = agreement_document(project_agreement(project))
    server = start_server(batch, "--out", str(out), "--annotator", "Dr A")
    elsewhere: list[str] = []
    origin = server.url.split("/?")[0]
    page.on("request", lambda r: r.url.startswith(origin) or elsewhere.append(r.url))
    page.goto(server.url)  # the link sets the access cookie
    page.goto(f"{origin}/agreement")
    expect(page.locator("#agr-summary")).to_have_text(
        "2 readers (Dr A, Dr B) · 6 images read by two or more"
    )
    (pair,) = expected["pairs"]
    row = page.locator("#agr-pairs tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("Dr A – Dr B")
    expect(cells.nth(1)).to_have_text("6")
    expect(cells.nth(2)).to_have_text(f"{pair['kappa']:.3f}")
    expect(cells.nth(3)).to_have_text(f"{pair['ci'][0]:.3f} to {pair['ci'][1]:.3f}")
    expect(cells.nth(4)).to_have_text(f"{pair['percent']:.1f} %")
    alpha = page.locator("#agr-overall tbody tr").nth(1).locator("td")
    expect(alpha.nth(1)).to_have_text(f"{expected['krippendorff']['alpha']:.3f}")
    # The confusion matrix: Dr A's Suspicious read as Non-Suspicious by Dr B once.
    matrix = page.locator(".agr-matrix")
    expect(matrix.locator("caption")).to_have_text("Dr A (rows) against Dr B (columns)")
    expect(matrix.locator("tr").nth(1).locator("td")).to_have_text(["2", "1", "0"])
    assert elsewhere == []
