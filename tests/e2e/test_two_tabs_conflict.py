"""Two tabs of one reader in Chromium: the tab that did not see the other's label is told,
with the label now stored, instead of silently overwriting it (409, issue 13)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession

pytestmark = pytest.mark.e2e


def _label_of_first(out: Path) -> tuple[str | None, str]:
    with open_project(out) as project:
        session = LabellingSession(project, annotator="kim", interface="test")
        session.start()
        try:
            view = session.queue(1, 1)[0]
            return view.label, view.comment
        finally:
            session.close()


def test_a_stale_tab_is_told_and_does_not_overwrite(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "kim")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")
    second = page.context.new_page()
    second.goto(server.url)
    expect(second.locator("#position-text")).to_have_text("Image 1 of 3")

    # The first tab labels image 1 NA with a comment, and moves on.
    page.keyboard.press("3")
    page.get_by_role("textbox", name="Comment").fill("motion blur")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 3")
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=30_000)

    # The second tab still shows image 1 unlabelled; its label is refused, naming the stored one.
    second.keyboard.press("1")
    banner = second.locator("#error-banner")
    expect(banner).to_contain_text("changed in another tab", timeout=15_000)
    expect(banner).to_contain_text("'NA' (motion blur)")
    assert _label_of_first(out) == ("NA", "motion blur")

    # Choosing again there, knowing it, replaces it.
    second.locator("#error-dismiss").click()
    second.keyboard.press("Home")
    expect(second.locator("#position-text")).to_have_text("Image 1 of 3")
    # What stands is shown there: the other tab's label, not this tab's refused one.
    expect(second.locator("#current-label")).to_contain_text("NA")
    expect(second.locator("#current-label")).not_to_contain_text("NOT saved")
    second.keyboard.press("1")
    expect(second.locator("#save-status")).to_have_text("All labels saved", timeout=30_000)
    second.close()
    assert server.stop() in (0, 130)
    assert _label_of_first(out) == ("Suspicious", "")
    assert verify_project(out).ok
