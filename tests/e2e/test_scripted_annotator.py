"""A scripted annotator pressing keys with no pause: 1,000 images, no label lost or misplaced."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IMAGES = 1000
NAMES = {"1": "Suspicious", "2": "Non-Suspicious"}


def test_thousand_images_at_full_speed(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    # 5 cases x 2 visits x 100 tiny images: the queue, not the decoding, is under test here.
    relpaths = batch_maker(batch, cases=5, visits=2, images=100, size=(48, 32))
    assert len(relpaths) == IMAGES
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "robot")
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {IMAGES}")

    rng = random.Random(20261122)
    expected: dict[str, tuple[str, str]] = {}
    dialog = page.get_by_role("dialog")
    for index, relpath in enumerate(relpaths):
        if index % 97 == 50:  # now and then an NA with its comment, typed at once
            page.keyboard.press("3")
            expect(dialog).to_be_visible()
            page.keyboard.type(f"note {index}")
            page.keyboard.press("Control+Enter")
            expected[relpath] = ("NA", f"note {index}")
            continue
        key = rng.choice("12")
        page.keyboard.press(key)
        expected[relpath] = (NAMES[key], "")

    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=120_000)
    expect(page.locator("#progress-text")).to_contain_text(f"{IMAGES} of {IMAGES} labelled")
    assert server.stop() in (0, 130)  # Ctrl+C: the session is closed cleanly

    with open_project(out) as project:
        session = LabellingSession(project, annotator="robot", interface="test")
        session.start()
        try:
            stored = {v.relpath: (v.label, v.comment) for v in session.queue(1, IMAGES)}
        finally:
            session.close()
    wrong = {p: (stored.get(p), want) for p, want in expected.items() if stored.get(p) != want}
    assert not wrong, f"{len(wrong)} labels lost or misplaced, e.g. {list(wrong.items())[:5]}"
