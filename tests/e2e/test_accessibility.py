"""Accessibility checks in the browser: contrast (WCAG AA), names on controls, visible focus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# WCAG 2.1 relative luminance and contrast ratio (SC 1.4.3: 4.5:1 for text; 3:1 for large text).
CONTRAST_OF = """
(elements) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return elements.filter((el) => el.offsetParent !== null && el.textContent.trim()).map((el) => {
    const fg = lum(parse(getComputedStyle(el).color).slice(0, 3));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    return [el.id || el.className || el.tagName, el.textContent.trim().slice(0, 30), ratio];
  });
}
"""

UNNAMED_CONTROLS = """
(controls) => controls.filter((el) => el.offsetParent !== null).filter((el) => {
  const labelled = el.getAttribute("aria-label") || (el.labels && el.labels.length)
    || el.getAttribute("aria-labelledby");
  return !labelled && !el.textContent.trim();
}).map((el) => el.outerHTML.slice(0, 80))
"""


def check_contrast(page: Page) -> None:
    selector = "button, label, p, h1, h2, span, td, th, a, kbd, strong, #current-label, q"
    found = page.locator(selector).evaluate_all(CONTRAST_OF)
    low = [(where, text, round(ratio, 2)) for where, text, ratio in found if ratio < 4.5]
    assert found and not low, low


def test_contrast_names_and_focus(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=2, visits=1, images=2)
    server = start_server(batch)
    page.goto(server.url)
    expect(page.get_by_label("Annotator name")).to_be_visible()
    check_contrast(page)
    page.get_by_label("Annotator name").fill("Ana")
    page.keyboard.press("Enter")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 4")

    page.keyboard.press("1")
    page.keyboard.press("2")  # into the second case: the banner is up
    expect(page.locator("#case-banner")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    page.keyboard.press("ArrowLeft")  # a set label: pressed button, saved line
    expect(page.get_by_role("button", name="Non-Suspicious", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    check_contrast(page)
    unnamed = page.locator("button, input, select, textarea").evaluate_all(UNNAMED_CONTROLS)
    assert not unnamed, unnamed

    page.keyboard.press("3")
    page.keyboard.press("Control+Enter")  # the refusal message is visible and readable
    expect(page.locator("#comment-error")).to_be_visible()
    check_contrast(page)
    page.keyboard.press("Escape")

    # Keyboard reaches the controls, and the focused one shows a visible outline.
    for _ in range(3):
        page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] in ("A", "BUTTON", "INPUT", "SELECT", "DIV"), outline
    assert outline[1] != "none" and outline[2] != "0px", outline
