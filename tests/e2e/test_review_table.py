"""The review table on a batch too big to put in the page: a window of rows, fetched as scrolled.

3,000 images (one tiny JPEG's bytes written 3,000 times: the scan does not decode, and the
viewer can still show any of them), a few labelled through the core before the server starts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, Route, expect

from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession

from .conftest import wait_until

pytestmark = pytest.mark.e2e

CASES, VISITS, IMAGES = 30, 2, 50  # Case_1..Case_30 (unpadded: natural order matters)
TOTAL = CASES * VISITS * IMAGES
ANNOTATOR = "Dr Review"
# Queue position -> (label, comment): labelled before the server starts.
LABELLED = {2: ("Suspicious", None), 10: ("NA", "blurred"), 1501: ("Suspicious", None)}
LABELLED[TOTAL] = ("Non-Suspicious", None)
MAX_BUILT = 80  # rows in the page at once: the viewport's ~20 and buffers, never thousands


def make_big_batch(root: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buffer, format="JPEG", quality=70)
    data = buffer.getvalue()
    for c in range(1, CASES + 1):
        for v in range(1, VISITS + 1):
            folder = root / f"Case_{c}" / f"Visit_{v}" / "XC_CLINICAL"
            folder.mkdir(parents=True)
            for i in range(1, IMAGES + 1):
                (folder / f"img{i}.jpg").write_bytes(data)


@pytest.fixture
def review(page: Page, tmp_path: Path, start_server: Any) -> Iterator[Locator]:
    """The review dialog open on the big batch, its first rows shown."""
    batch, out = tmp_path / "batch", tmp_path / "project"
    make_big_batch(batch)
    init_project(batch, out)
    with open_project(out) as project:
        session = LabellingSession(project, annotator=ANNOTATOR, interface="test")
        session.start()
        views = session.queue(1, TOTAL)
        for position, (label, comment) in LABELLED.items():
            session.save_label(views[position - 1].id, label, comment)
        session.close()
    server = start_server(batch, "--out", str(out), "--annotator", ANNOTATOR)
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {TOTAL}")
    page.keyboard.press("r")
    dialog = page.get_by_role("dialog", name="Review")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#review-count")).to_have_text(f"{TOTAL} of {TOTAL} images")
    yield dialog


def built(review: Locator) -> Locator:
    return review.locator("#review-body tr")


def row(review: Locator, position: int) -> Locator:
    return review.locator(f"#review-body tr[data-position='{position}']")


def cells(review: Locator, first: int, count: int, column: int) -> list[str]:
    """Text of one column (0 = #) of the rows at indexes first..first+count-1 of the order."""
    found = []
    for index in range(first, first + count):
        cell = review.locator(f"#review-body tr[aria-rowindex='{index + 2}'] td").nth(column)
        expect(cell).not_to_have_text("…")  # filled, not a row still loading
        found.append(cell.inner_text())
    return found


def scroll_to(review: Locator, where: str) -> None:
    review.locator("#review-scroll").evaluate(f"el => {{ el.scrollTop = {where}; }}")


def assert_few_rows(review: Locator) -> None:
    count = built(review).count()
    assert 0 < count <= MAX_BUILT, count


def test_a_window_of_rows_scrolls_the_whole_queue(review: Locator, page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: "/api/review?" in r.url and requests.append(r.url))
    table = review.locator("#review-table")
    expect(table).to_have_attribute("aria-rowcount", str(TOTAL + 1))
    expect(row(review, 1)).to_have_attribute("aria-rowindex", "2")
    assert_few_rows(review)
    # One fixed height for every row: the scroll arithmetic depends on it.
    heights = built(review).evaluate_all("rs => rs.map((r) => r.getBoundingClientRect().height)")
    assert set(heights) == {32}, set(heights)
    scroller = review.locator("#review-scroll")
    assert scroller.evaluate("el => el.scrollHeight") >= TOTAL * 32

    # Natural order: img2 second and img10 tenth in a visit; Case_2 after Case_1, not Case_10.
    files = [f.removeprefix("XC_CLINICAL/") for f in cells(review, 0, 11, 3)]
    assert files == [f"img{i}.jpg" for i in range(1, 12)]
    options = review.get_by_label("Case").locator("option").all_inner_texts()
    assert options[:4] == ["All cases", "Case_1", "Case_2", "Case_3"]
    assert options.index("Case_10") == options.index("Case_9") + 1

    # The bottom: the last position is there, and still only a window of rows.
    scroll_to(review, "el.scrollHeight")
    expect(row(review, TOTAL)).to_be_in_viewport()
    expect(row(review, TOTAL)).to_contain_text("Non-Suspicious")
    assert_few_rows(review)
    assert row(review, 1).count() == 0
    # The middle, by the scrollbar: row 1501 (index 1500) at the top of the viewport.
    scroll_to(review, str(1500 * 32))
    expect(row(review, 1501)).to_contain_text("Suspicious")
    top = row(review, 1501).evaluate("r => r.getBoundingClientRect().top")
    header = review.locator("thead th").first.evaluate("h => h.getBoundingClientRect().bottom")
    assert abs(top - header) <= 1, (top, header)
    assert_few_rows(review)
    assert requests and all(int(re.findall(r"limit=(\d+)", u)[0]) <= 500 for u in requests)


def test_sort_and_filter_are_done_by_the_server(review: Locator, page: Page) -> None:
    count = review.locator("#review-count")
    review.get_by_role("button", name="#", exact=True).click()  # descending
    expect(review.locator("th[aria-sort=descending]")).to_have_text("#")
    assert cells(review, 0, 3, 0) == [str(TOTAL), str(TOTAL - 1), str(TOTAL - 2)]
    assert_few_rows(review)

    # By file name, naturally: 60 images named img1.jpg, then img2.jpg (img10.jpg comes later).
    review.get_by_role("button", name="File", exact=True).click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("File")
    assert cells(review, 0, 1, 3) == ["XC_CLINICAL/img1.jpg"]
    scroll_to(review, str(55 * 32))
    assert cells(review, 58, 4, 3) == ["XC_CLINICAL/img1.jpg"] * 2 + ["XC_CLINICAL/img2.jpg"] * 2
    assert cells(review, 58, 4, 0) == ["2901", "2951", "2", "52"]

    # By label: NA, Non-Suspicious, Suspicious (ties by position), then the unlabelled.
    review.get_by_role("button", name="Label", exact=True).click()
    assert cells(review, 0, 5, 0) == ["10", str(TOTAL), "2", "1501", "1"]
    assert cells(review, 0, 5, 4) == ["NA", "Non-Suspicious", "Suspicious", "Suspicious", "—"]

    review.get_by_label("Label").select_option("Suspicious")
    expect(count).to_have_text(f"2 of {TOTAL} images")
    expect(built(review)).to_have_count(2)
    review.get_by_label("Label").select_option("Unlabelled")
    expect(count).to_have_text(f"{TOTAL - len(LABELLED)} of {TOTAL} images")
    assert cells(review, 0, 2, 0) == ["1", "3"]  # sorted by label still: all empty, by position
    review.get_by_label("Case").select_option("Case_10")
    expect(count).to_have_text(f"{IMAGES * VISITS} of {TOTAL} images")
    assert cells(review, 0, 1, 1) == ["Case_10"]
    assert cells(review, 0, 1, 0) == [str(9 * IMAGES * VISITS + 1)]


def test_an_answer_for_an_older_order_is_ignored(review: Locator, page: Page) -> None:
    held: list[Route] = []
    by_file = re.compile(r".*/api/review\?.*sort=file.*")
    page.route(by_file, lambda route: held.append(route))
    review.get_by_role("button", name="File", exact=True).click()
    wait_until(page, lambda: held, "the request for the file order")  # made, and held
    review.get_by_role("button", name="Visit", exact=True).click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("Visit")
    assert cells(review, 0, 2, 2) == ["Visit_1", "Visit_1"]
    with page.expect_response(by_file):
        for route in held:
            route.continue_()
    page.unroute(by_file)
    # Still the order asked for last, its rows and its count.
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("Visit")
    assert cells(review, 0, 2, 3) == ["XC_CLINICAL/img1.jpg", "XC_CLINICAL/img2.jpg"]
    expect(review.locator("#review-count")).to_have_text(f"{TOTAL} of {TOTAL} images")


def test_rows_by_keyboard_and_by_click(review: Locator, page: Page) -> None:
    row(review, 1).focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    focused = review.locator("#review-body tr:focus")
    expect(focused).to_have_attribute("data-position", "4")
    page.keyboard.press("End")  # the last row, fetched and scrolled to
    expect(focused).to_have_attribute("aria-rowindex", str(TOTAL + 1))
    expect(focused).to_have_attribute("data-position", str(TOTAL))
    expect(focused).to_be_in_viewport()
    page.keyboard.press("ArrowUp")
    expect(focused).to_have_attribute("data-position", str(TOTAL - 1))
    assert_few_rows(review)
    page.keyboard.press("Home")
    expect(focused).to_have_attribute("data-position", "1")
    page.keyboard.press("PageDown")
    page.keyboard.press("ArrowDown")
    position = int(focused.get_attribute("data-position") or 0)
    assert position > 10, position
    expect(focused).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(review).to_be_hidden()
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {TOTAL}")

    page.keyboard.press("r")
    expect(review).to_be_visible()
    row(review, 10).click()
    expect(review).to_be_hidden()
    expect(page.locator("#position-text")).to_have_text(f"Image 10 of {TOTAL}")
    expect(page.locator("#current-label")).to_contain_text("blurred")


def test_a_million_rows_compress_the_scroll_range_and_still_reach_every_row(
    review: Locator, page: Page
) -> None:
    # Past MAX_HEIGHT of rows (about 250,000 of 32 px) the scroll range maps onto the rows in
    # proportion; the module's arithmetic, run in Chromium: the first and last rows are
    # reachable, every slice is built within its spacers, and `reveal` brings any row into view.
    found = page.evaluate(
        """async () => {
          const { RowWindow, MAX_HEIGHT } = await import("/static/js/row-window.js");
          const total = 1_000_000, rowHeight = 32, viewport = 640;
          const w = new RowWindow({ total, rowHeight, viewport });
          // The browser's scrollTop runs from 0 to the height less the viewport.
          const last = w.height - viewport;
          const slices = [0, 1, 12345, w.height / 2, last - 1, last].map((top) => {
            const s = w.slice(top, 8);
            return { top, ...s, sum: s.above + (s.end - s.start) * rowHeight + s.below };
          });
          const reveals = [0, 1, 499_999, 999_999].map((index) => {
            const top = w.reveal(index, 0);
            const s = w.slice(top, 0);
            return { index, shown: index >= s.start && index < s.end };
          });
          return { height: w.height, max: MAX_HEIGHT, slices, reveals };
        }"""
    )
    assert found["height"] == found["max"]
    first, *_, at_end = found["slices"]
    assert first["start"] == 0
    assert at_end["end"] == 1_000_000
    for s in found["slices"]:
        assert s["end"] - s["start"] <= 40
        # Compressed, a pixel of scroll moves the rows ~4 px: when the last row is built the
        # rows may reach past the range by up to the buffer (8 rows), never fall short of it.
        assert found["height"] - 1 <= s["sum"] <= found["height"] + 8 * 32, s
    assert all(r["shown"] for r in found["reveals"]), found["reveals"]


def test_the_table_waits_for_labels_still_on_their_way(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # A label key and then R at once: the label's request is still in flight (held here), and
    # the table must show it once saved, not the image as unlabelled.
    batch = tmp_path / "batch"
    make_big_batch(batch)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", ANNOTATOR)
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {TOTAL}")
    held: list[Route] = []
    saving = re.compile(r".*/api/images/\d+/label$")
    page.route(saving, lambda route: held.append(route))
    page.keyboard.press("1")  # Suspicious
    wait_until(page, lambda: held, "the label's request")
    page.keyboard.press("r")
    review = page.get_by_role("dialog", name="Review")
    expect(review.locator("#review-count")).to_have_text("Waiting for the last labels to be saved…")
    assert review.locator("#review-body tr[data-position]").count() == 0
    for route in held:
        route.continue_()
    page.unroute(saving)
    expect(review.locator("#review-count")).to_have_text(f"{TOTAL} of {TOTAL} images")
    expect(row(review, 1).locator("td").nth(4)).to_have_text("Suspicious")
