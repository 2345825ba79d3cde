"""Attack on the annotator's day in Chromium: a second tab still labelling after the first tab's
Finish ended the session. Its label cannot be saved then; the page must say why and keep the
change, so that reloading and starting again saves it instead of losing it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.audit_trail import verify_project

pytestmark = pytest.mark.e2e


def test_attack_a_label_pressed_in_a_second_tab_after_finish_is_kept_and_sent_after_reload(
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

    # The first tab finishes: export, then the session's end.
    page.get_by_role("button", name="Finish and export").click()
    page.get_by_role("button", name="Export anyway").click()
    expect(page.get_by_role("dialog", name="Exported")).to_be_visible()

    # The second tab labels: refused, said as what it is, and kept in the browser.
    second.keyboard.press("1")
    expect(second.locator("#error-banner")).to_contain_text("session has ended", timeout=15_000)
    expect(second.locator("#error-banner")).to_contain_text("kept in this browser")

    # Reload, start again with the same folder and name: the label is sent and saved.
    second.reload()
    second.get_by_label("Output folder (project)").fill(str(out))
    second.get_by_label("Annotator name").fill("kim")
    second.get_by_role("button", name="Start").click()
    expect(second.locator("#progress-text")).to_contain_text("1 of 3 labelled", timeout=15_000)
    second.close()
    assert server.stop() in (0, 130)
    assert verify_project(out).ok
