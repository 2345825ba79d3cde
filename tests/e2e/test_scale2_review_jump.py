"""A drag of the review table's scroll bar deep into a filtered or grouped order shows the rows
that are there (issue 14: such a jump is found by the kept counts per case, not by walking the
queue; the page must not notice the difference).

The review table's own batch (3,000 images, four labelled), the unlabelled filter on.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .test_review_table import (  # noqa: F401 (the fixture)
    LABELLED,
    NUMBER,
    ROW,
    TOTAL,
    assert_few_rows,
    cells,
    review,
    scroll_to,
)

pytestmark = pytest.mark.e2e


def test_a_deep_jump_with_the_unlabelled_filter_shows_the_rows_there(
    review: Locator,  # noqa: F811 (the fixture)
    page: Page,
) -> None:
    requests: list[str] = []
    page.on("request", lambda r: "/api/review?" in r.url and requests.append(r.url))
    unlabelled = [p for p in range(1, TOTAL + 1) if p not in LABELLED]
    review.get_by_label("Label").select_option("Unlabelled")
    expect(review.locator("#review-count")).to_have_text(f"{len(unlabelled)} of {TOTAL} images")

    # The middle by the scroll bar, no row before it fetched: the rows of that place.
    requests.clear()
    scroll_to(review, str(1700 * ROW))
    assert cells(review, 1700, 3, NUMBER) == [str(p) for p in unlabelled[1700:1703]]
    jumps = [u for u in requests if "after=" not in u and "offset=0&" not in u]
    assert jumps, requests
    assert_few_rows(review)

    # Sorted by label, descending: the unlabelled group first; the bottom by the scroll bar.
    review.get_by_label("Label").select_option("")
    expect(review.locator("#review-count")).to_have_text(f"{TOTAL} of {TOTAL} images")
    review.get_by_role("button", name="Label", exact=True).click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("Label")
    review.get_by_role("button", name="Label", exact=True).click()
    expect(review.locator("th[aria-sort=descending]")).to_have_text("Label")
    assert cells(review, 0, 2, NUMBER) == ["1", "3"]
    scroll_to(review, str(1200 * ROW))
    assert cells(review, 1200, 2, NUMBER) == [str(p) for p in unlabelled[1200:1202]]
    scroll_to(review, "el.scrollHeight")
    # Then the labelled, by label descending: Suspicious (2, 1501), Non-Suspicious, NA.
    last = cells(review, TOTAL - 4, 4, NUMBER)
    assert last == ["2", "1501", str(TOTAL), "10"], last
    assert all(re.search(r"limit=(\d+)", u) for u in requests)
