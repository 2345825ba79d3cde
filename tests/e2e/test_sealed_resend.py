"""A reader's sealed first read whose answer was lost: the page kept the change, sends it again
after the reload, and the server answers it as saved (the page's key of that change), so the
page says the read is saved rather than "not saved: final"; the trail has one event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.worklist import reader_worklist

from .conftest import make_batch
from .test_restart import LABELS, label_events

pytestmark = pytest.mark.e2e

READER = "Dr A"


def test_sealed_resend_a_first_read_saved_but_unanswered_is_saved_after_the_reload(
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
    assert any(i.repeat and i.image_id == first.image_id for i in items)
    server = start_server(batch, "--out", str(out), "--annotator", READER)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with changes waiting?": yes
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {total}")

    answered = {"first": False}

    def lost_answers(route: Route) -> None:
        # The first read reaches the server and is saved, but its answer is lost; the page's
        # own retries never arrive.
        if not answered["first"]:
            answered["first"] = True
            route.fetch()
        route.abort("connectionreset")

    page.route(LABELS, lost_answers)
    page.keyboard.press("1")  # Suspicious, and on to image 2
    expect(page.locator("#position-text")).to_have_text(f"Image 2 of {total}")
    expect(page.locator("#error-banner")).to_contain_text("1 label change(s) waiting")
    assert label_events(out) == {first.relpath: 1}

    page.reload()
    status = page.locator("#save-status")
    expect(status).to_have_text("Not saved yet: 1 label change(s) waiting")
    page.unroute(LABELS)
    expect(page.locator("#notice")).to_contain_text("1 label change(s) made before")
    # Sent again, answered as saved: not "Not saved: ... final".
    expect(status).to_have_text("All labels saved", timeout=20_000)
    expect(page.locator("#error-banner")).to_be_hidden()
    page.evaluate("() => window.clinlabel.go(1)")
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {total}")
    label = page.locator("#current-label")
    expect(label).to_contain_text("hidden until you have read this image's repeat")
    expect(label).not_to_contain_text("Suspicious")
    # Nothing left to send after another reload.
    page.reload()
    expect(page.locator("#position-text")).to_be_visible()
    expect(status).to_have_text("All labels saved")
    expect(page.locator("#notice")).not_to_contain_text("made before")
    server.stop()
    assert label_events(out) == {first.relpath: 1}
