"""The page's own promises about its code: instrumentation only when a test switches it on, and
errors the annotator should know about are shown, not swallowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from clinlabel.demo.medical import write_demo_medical

from .conftest import wait_until

pytestmark = pytest.mark.e2e

XA_POSITION = 4  # queue order of the demo files: NIfTI, CT, DX, XA (natural order of names)


def test_instrumentation_is_off_for_a_user_and_on_for_a_test(
    browser: Any,
    page: Page,
    tmp_path: Path,
    batch_maker: Callable[..., list[str]],
    start_server: Any,
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Probe")

    # A page opened as a user opens it: no timings or paint counts are kept.
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    try:
        plain = context.new_page()
        plain.goto(server.url)
        expect(plain.locator("#position-text")).to_have_text("Image 1 of 3")
        plain.wait_for_function("() => window.clinlabel !== undefined")
        plain.keyboard.press("ArrowRight")
        expect(plain.locator("#position-text")).to_have_text("Image 2 of 3")
        kept = plain.evaluate(
            "() => [window.clinlabel.metrics, window.clinlabel.medical.paintTimes,"
            " window.clinlabel.medical.paints]"
        )
        assert kept == [None, None, None]
    finally:
        context.close()

    # The fixture's page is switched on by its init script: the key press is measured.
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 2 of 3")
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#position-text")).to_have_text("Image 3 of 3")
    page.wait_for_function("() => window.clinlabel.metrics.length === 1")
    assert page.evaluate("() => window.clinlabel.metrics[0].position") == 3
    assert page.evaluate("() => window.clinlabel.medical.paints") == 0  # photos only so far


def test_a_case_list_that_cannot_be_refreshed_is_said_so(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    # After a label the sidebar counts again; when that fails its counts are stale, and the
    # annotator is told instead of trusting them.
    batch = tmp_path / "batch"
    batch_maker(batch, cases=2, visits=1, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr List")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")
    expect(page.locator("#case-list > li")).to_have_count(2)

    def refuse(route: Route) -> None:
        route.fulfill(status=503, json={"error": "store", "message": "database busy"})

    page.route("**/api/cases", refuse)
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 4")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    banner = page.locator("#error-banner")
    expect(banner).to_contain_text("Cannot refresh the case list: database busy")
    page.unroute("**/api/cases")


def test_a_refused_full_screen_is_said_so(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    # A browser may refuse full screen (a policy, an embedding frame): F must then say so rather
    # than do nothing.
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Screen")
    page.add_init_script(
        "Element.prototype.requestFullscreen = function () {"
        " return Promise.reject(new TypeError('Permissions check failed')); };"
    )
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 2")
    page.keyboard.press("f")
    expect(page.locator("#notice")).to_have_text(
        "Full screen is not available: Permissions check failed"
    )
    page.get_by_role("button", name="Full screen").click()
    expect(page.locator("#notice")).to_be_visible()


def test_geometry_that_cannot_be_fetched_is_said_so_once(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # The XA overlay (angles, SID) used to vanish silently when its request failed, and the
    # failure was remembered for the frame; now the status bar says so, once per file.
    batch = tmp_path / "batch"
    write_demo_medical(batch / "Case_001" / "Visit_1" / "XC_CLINICAL", seed=7)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Angle")
    asked: list[str] = []

    def refuse(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=503, json={"error": "store", "message": "database busy"})

    page.route("**/metadata/geometry*", refuse)
    page.goto(server.url)
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("p => window.clinlabel.go(p)", XA_POSITION)
    expect(page.locator("#frame-readout")).to_have_text("Frame 1 / 30")
    banner = page.locator("#error-text")
    expect(banner).to_have_text(
        "Cannot show the acquisition geometry of XC_CLINICAL/xa_run.dcm: database busy"
    )
    expect(page.locator("#geometry-panel")).to_be_hidden()
    page.locator("#error-dismiss").click()
    page.keyboard.press("PageDown")
    expect(page.locator("#frame-readout")).to_have_text("Frame 2 / 30")
    wait_until(page, lambda: len(asked) >= 2, "the geometry request of frame 2")
    expect(page.locator("#error-banner")).to_be_hidden()  # said once for the file

    page.unroute("**/metadata/geometry*")
    page.keyboard.press("PageUp")  # frame 1 again: its failure was not remembered
    expect(page.locator("#geometry-panel")).to_contain_text("30° RAO")
