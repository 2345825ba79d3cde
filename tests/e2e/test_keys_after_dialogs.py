"""A key pressed right after a dialog closes acts on the page: the browser moves the focus out of
the closed dialog only at its next rendering step, and a quick annotator is faster than that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import make_batch

pytestmark = pytest.mark.e2e


def test_an_arrow_right_after_ctrl_enter_saves_a_comment_is_not_lost(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    make_batch(tmp_path / "batch", cases=1, visits=1, images=4)
    server = start_server(
        tmp_path / "batch", "--out", str(tmp_path / "project"), "--annotator", "ann"
    )
    page.goto(server.url)
    position = page.locator("#position-text")
    expect(position).to_have_text("Image 1 of 4")
    page.keyboard.press("1")
    expect(position).to_have_text("Image 2 of 4")
    # Focus on no element (a click beside the page does this): closing the dialog then has
    # nowhere to give it back to, and it stays in the closed dialog's text box for a moment.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("3")  # NA: asks for a comment
    box = page.get_by_role("textbox", name="Comment")
    box.fill("blurred")
    # Ctrl+Enter and then ArrowLeft in one go, before the page renders again: the second key's
    # target is still the text box of the dialog the first one closed.
    page.evaluate(
        """() => {
            const key = (k, extra = {}) => document.activeElement.dispatchEvent(new KeyboardEvent(
                "keydown", { key: k, bubbles: true, cancelable: true, ...extra }));
            key("Enter", { ctrlKey: true });
            key("ArrowLeft");
        }"""
    )
    expect(position).to_have_text("Image 2 of 4")
    expect(page.locator("#current-label")).to_contain_text("NA")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
