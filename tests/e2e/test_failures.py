"""Network and server failures are shown and retried, never swallowed; refusals are shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession

pytestmark = pytest.mark.e2e


def test_failed_saves_are_shown_retried_and_kept(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    relpaths = batch_maker(batch, cases=1, visits=1, images=4)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "net")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")

    failures = {"left": 4}

    def flaky(route: Route) -> None:
        # Two dropped connections, then two "503 busy" answers, then the real server.
        if failures["left"] > 0:
            failures["left"] -= 1
            if failures["left"] >= 2:
                route.abort("connectionreset")
            else:
                route.fulfill(status=503, json={"error": "store", "message": "database busy"})
            return
        route.continue_()

    page.route("**/api/images/*/label", flaky)
    page.keyboard.press("1")
    page.keyboard.press("2")
    # The next image is on screen at once; the failure is visible while it is retried.
    expect(page.locator("#position-text")).to_have_text("Image 3 of 4")
    expect(page.locator("#error-banner")).to_be_visible()
    expect(page.locator("#error-banner")).to_contain_text("Retrying")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    # Shown as "saving", never as "saved", until the server has it.
    expect(page.locator("#current-label")).to_contain_text("Suspicious — saving…")
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=20_000)
    expect(page.locator("#current-label")).to_contain_text("Suspicious — saved")
    expect(page.locator("#error-banner")).to_be_hidden()
    assert failures["left"] == 0
    page.unroute("**/api/images/*/label")

    # A change the server refuses is shown and the image says it is NOT saved.
    page.route(
        "**/api/images/*/label",
        lambda route: route.fulfill(status=422, json={"error": "validation", "message": "nope"}),
    )
    page.keyboard.press("2")
    expect(page.locator("#error-banner")).to_contain_text("nope")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("NOT saved")
    # The save line counts it: never "All labels saved" while a label was refused.
    expect(page.locator("#save-status")).to_have_text("1 label(s) NOT saved")
    page.unroute("**/api/images/*/label")
    server.stop()

    with open_project(out) as project:
        session = LabellingSession(project, annotator="net", interface="test")
        session.start()
        try:
            stored = {v.relpath: v.label for v in session.queue(1, 4)}
        finally:
            session.close()
    assert stored[relpaths[0]] == "Suspicious"
    assert stored[relpaths[1]] == "Non-Suspicious"
