"""A save the server keeps refusing with a 4xx is not retried for ever: the page gives up and
says the label was not saved, and why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.e2e

# As save-queue.js MAX_CLIENT_ERROR_RETRIES: the first try and this many retries.
MAX_CLIENT_ERROR_RETRIES = 4


def test_a_label_refused_with_429_is_reported_not_retried_for_ever(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "ann")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")
    tries = {"count": 0}

    def too_many(route: Route) -> None:
        tries["count"] += 1
        route.fulfill(
            status=429, json={"error": "rate", "message": "The proxy says: too many requests."}
        )

    page.route("**/api/images/*/label", too_many)
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 3")
    # While it is retried the page says so; then it stops and says the label is not saved.
    banner = page.locator("#error-banner")
    expect(banner).to_contain_text("Not saved: XC_CLINICAL/img1.jpg", timeout=30_000)
    expect(banner).to_contain_text("too many requests")
    expect(banner).to_contain_text("not retried again")
    assert tries["count"] == 1 + MAX_CLIENT_ERROR_RETRIES
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("NOT saved")
    # The queue is free again: the next save goes through once the server accepts it.
    page.unroute("**/api/images/*/label")
    page.keyboard.press("2")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("Non-Suspicious — saved")
    assert tries["count"] == 1 + MAX_CLIENT_ERROR_RETRIES
    server.stop()
