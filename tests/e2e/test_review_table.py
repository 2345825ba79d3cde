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
ROW = 48  # px: one row, tall enough for its thumbnail (--review-row-height)
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


# Columns of the table (review.js COLUMNS).
NUMBER, THUMB, CASE, VISIT, FILE, LABEL, COMMENT = range(7)


def cells(review: Locator, first: int, count: int, column: int) -> list[str]:
    """Text of one column (0 = #) of the rows at indexes first..first+count-1 of the order; the
    label column's text is its menu's chosen label ("—" when there is none)."""
    found = []
    for index in range(first, first + count):
        tr = review.locator(f"#review-body tr[aria-rowindex='{index + 2}']")
        expect(tr).to_have_attribute("data-position", re.compile(r"\d"))  # filled, not loading
        cell = tr.locator("td").nth(column)
        found.append(
            cell.evaluate(
                "td => td.querySelector('select')?.selectedOptions[0].text ?? td.innerText"
            )
        )
    return found


def label_of(review: Locator, position: int) -> Locator:
    """The label menu of the row of queue `position` (its value: the label, "" if none)."""
    return row(review, position).locator("select.label-select")


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
    assert set(heights) == {ROW}, set(heights)
    scroller = review.locator("#review-scroll")
    assert scroller.evaluate("el => el.scrollHeight") >= TOTAL * ROW

    # Natural order: img2 second and img10 tenth in a visit; Case_2 after Case_1, not Case_10.
    files = [f.removeprefix("XC_CLINICAL/") for f in cells(review, 0, 11, FILE)]
    assert files == [f"img{i}.jpg" for i in range(1, 12)]
    options = review.get_by_label("Case").locator("option").all_inner_texts()
    assert options[:4] == ["All cases", "Case_1", "Case_2", "Case_3"]
    assert options.index("Case_10") == options.index("Case_9") + 1

    # The bottom: the last position is there, and still only a window of rows.
    scroll_to(review, "el.scrollHeight")
    expect(row(review, TOTAL)).to_be_in_viewport()
    expect(label_of(review, TOTAL)).to_have_value("Non-Suspicious")
    assert_few_rows(review)
    assert row(review, 1).count() == 0
    # The middle, by the scrollbar: row 1501 (index 1500) at the top of the viewport.
    scroll_to(review, str(1500 * ROW))
    expect(label_of(review, 1501)).to_have_value("Suspicious")
    top = row(review, 1501).evaluate("r => r.getBoundingClientRect().top")
    header = review.locator("thead th").first.evaluate("h => h.getBoundingClientRect().bottom")
    assert abs(top - header) <= 1, (top, header)
    assert_few_rows(review)
    assert requests and all(int(re.findall(r"limit=(\d+)", u)[0]) <= 500 for u in requests)


def test_sort_and_filter_are_done_by_the_server(review: Locator, page: Page) -> None:
    count = review.locator("#review-count")
    review.get_by_role("button", name="#", exact=True).click()  # descending
    expect(review.locator("th[aria-sort=descending]")).to_have_text("#")
    assert cells(review, 0, 3, NUMBER) == [str(TOTAL), str(TOTAL - 1), str(TOTAL - 2)]
    assert_few_rows(review)

    # By file name, naturally: 60 images named img1.jpg, then img2.jpg (img10.jpg comes later).
    review.get_by_role("button", name="File", exact=True).click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("File")
    assert cells(review, 0, 1, FILE) == ["XC_CLINICAL/img1.jpg"]
    scroll_to(review, str(55 * ROW))
    assert cells(review, 58, 4, FILE) == ["XC_CLINICAL/img1.jpg"] * 2 + ["XC_CLINICAL/img2.jpg"] * 2
    assert cells(review, 58, 4, NUMBER) == ["2901", "2951", "2", "52"]

    # By label: NA, Non-Suspicious, Suspicious (ties by position), then the unlabelled.
    review.get_by_role("button", name="Label", exact=True).click()
    assert cells(review, 0, 5, NUMBER) == ["10", str(TOTAL), "2", "1501", "1"]
    assert cells(review, 0, 5, LABEL) == ["NA", "Non-Suspicious", "Suspicious", "Suspicious", "—"]

    review.get_by_label("Label").select_option("Suspicious")
    expect(count).to_have_text(f"2 of {TOTAL} images")
    expect(built(review)).to_have_count(2)
    review.get_by_label("Label").select_option("Unlabelled")
    expect(count).to_have_text(f"{TOTAL - len(LABELLED)} of {TOTAL} images")
    assert cells(review, 0, 2, NUMBER) == ["1", "3"]  # sorted by label still: by position
    review.get_by_label("Case").select_option("Case_10")
    expect(count).to_have_text(f"{IMAGES * VISITS} of {TOTAL} images")
    assert cells(review, 0, 1, CASE) == ["Case_10"]
    assert cells(review, 0, 1, NUMBER) == [str(9 * IMAGES * VISITS + 1)]


def test_an_answer_for_an_older_order_is_ignored(review: Locator, page: Page) -> None:
    held: list[Route] = []
    by_file = re.compile(r".*/api/review\?.*sort=file.*")
    page.route(by_file, lambda route: held.append(route))
    review.get_by_role("button", name="File", exact=True).click()
    wait_until(page, lambda: held, "the request for the file order")  # made, and held
    review.get_by_role("button", name="Visit", exact=True).click()
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("Visit")
    assert cells(review, 0, 2, VISIT) == ["Visit_1", "Visit_1"]
    with page.expect_response(by_file):
        for route in held:
            route.continue_()
    page.unroute(by_file)
    # Still the order asked for last, its rows and its count.
    expect(review.locator("th[aria-sort=ascending]")).to_have_text("Visit")
    assert cells(review, 0, 2, FILE) == ["XC_CLINICAL/img1.jpg", "XC_CLINICAL/img2.jpg"]
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
    row(review, 10).locator("td").nth(FILE).click()  # the label menu is not a way to open it
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
    held: list[Route] = []
    saving = re.compile(r".*/api/images/\d+/label$")
    # Routed before the page loads: a route added to a live page was seen, on a busy machine,
    # to let the very next request through (the label saved, never held).
    page.route(saving, lambda route: held.append(route))
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text(f"Image 1 of {TOTAL}")
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
    expect(label_of(review, 1)).to_have_value("Suspicious")


# ---- issue 10: focus on the rows, 1280 px, colours, relabelling, thumbnails -------------------

# The fixed palette's first and third colours (review.js PALETTE): Suspicious, NA.
ORANGE, PURPLE = "rgb(230, 159, 0)", "rgb(204, 121, 167)"


def test_focus_is_on_the_rows_at_the_image_on_screen(review: Locator, page: Page) -> None:
    focused = review.locator("#review-body tr:focus")
    expect(focused).to_have_attribute("data-position", "1")  # image 1 is on screen
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(focused).to_have_attribute("data-position", "3")
    page.keyboard.press("Escape")
    expect(review).to_be_hidden()
    page.evaluate("p => window.clinlabel.go(p)", 1501)
    expect(page.locator("#position-text")).to_have_text(f"Image 1501 of {TOTAL}")
    page.keyboard.press("r")
    expect(focused).to_have_attribute("data-position", "1501")
    expect(focused).to_be_in_viewport()
    page.keyboard.press("ArrowDown")
    expect(focused).to_have_attribute("data-position", "1502")
    page.keyboard.press("Enter")
    expect(review).to_be_hidden()
    expect(page.locator("#position-text")).to_have_text(f"Image 1502 of {TOTAL}")


def test_the_table_fits_a_1280_px_screen(review: Locator, page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    scroller = review.locator("#review-scroll")
    expect(row(review, 1)).to_be_visible()
    width, client = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert width <= client, (width, client)
    right = review.evaluate("d => d.getBoundingClientRect().right")
    assert right <= 1280, right
    # Every column is on screen, the last one whole.
    last = review.locator("thead th").last.evaluate("h => h.getBoundingClientRect().right")
    assert last <= scroller.evaluate("el => el.getBoundingClientRect().right"), last


def test_labels_in_colour_with_their_names(review: Locator) -> None:
    suspicious, na, unlabelled = label_of(review, 2), label_of(review, 10), label_of(review, 1)
    expect(suspicious).to_have_value("Suspicious")
    expect(suspicious).to_have_css("background-color", ORANGE)
    expect(na).to_have_value("NA")
    expect(na).to_have_css("background-color", PURPLE)
    expect(unlabelled).to_have_value("")
    assert unlabelled.evaluate("s => s.selectedOptions[0].text") == "—"
    assert "has-label" not in (unlabelled.get_attribute("class") or "")
    # Not colour alone: the label's name is the text shown, in dark text that reads on it.
    assert suspicious.evaluate("s => s.selectedOptions[0].text") == "Suspicious"
    expect(suspicious).to_have_css("color", "rgb(17, 17, 17)")


def test_relabel_from_the_table_by_key_and_by_menu(review: Locator, page: Page) -> None:
    saves: list[str] = []
    page.on(
        "request",
        lambda r: re.search(r"/api/images/\d+/label(\?|$)", r.url) and saves.append(r.method),
    )
    focused = review.locator("#review-body tr:focus")
    expect(focused).to_have_attribute("data-position", "1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # image 3, unlabelled
    page.keyboard.press("2")
    expect(label_of(review, 3)).to_have_value("Non-Suspicious")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    expect(page.locator("#progress-text")).to_contain_text(f"5 of {TOTAL} labelled")
    expect(focused).to_have_attribute("data-position", "3")  # focus stays on the row
    assert saves == ["PUT"]

    # NA asks for its comment over the table; Escape there changes nothing.
    page.keyboard.press("3")
    comment = page.get_by_role("dialog", name="Label as NA")
    expect(comment).to_be_visible()
    page.keyboard.press("Escape")
    expect(comment).to_be_hidden()
    expect(review).to_be_visible()
    expect(label_of(review, 3)).to_have_value("Non-Suspicious")
    page.keyboard.press("3")
    page.get_by_role("textbox", name="Comment").fill("cut off at the edge")
    page.keyboard.press("Control+Enter")
    expect(label_of(review, 3)).to_have_value("NA")
    expect(row(review, 3).locator("td").nth(COMMENT)).to_have_text("cut off at the edge")

    # Delete clears; the menu relabels another row (mouse users).
    page.keyboard.press("Delete")
    expect(label_of(review, 3)).to_have_value("")
    label_of(review, 4).select_option("Suspicious")
    expect(label_of(review, 4)).to_have_value("Suspicious")
    expect(label_of(review, 4)).to_have_css("background-color", ORANGE)
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    assert saves == ["PUT", "PUT", "DELETE", "PUT"]
    expect(review).to_be_visible()  # the menu does not open the image

    # What the server holds, as the labeller shows it: open the rows.
    row(review, 4).locator("td").nth(NUMBER).click()
    expect(page.locator("#position-text")).to_have_text(f"Image 4 of {TOTAL}")
    expect(page.locator("#current-label")).to_contain_text("Suspicious — saved")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_have_text("Not labelled yet")
    expect(page.locator("#progress-text")).to_contain_text(f"5 of {TOTAL} labelled")


def visible_rows(review: Locator) -> list[int]:
    """Queue positions of the rows inside the scroll area's visible part (below the header)."""
    return [
        int(p)
        for p in review.locator("#review-scroll").evaluate(
            """el => {
                const box = el.getBoundingClientRect();
                const top = el.querySelector("thead th").getBoundingClientRect().bottom; // sticky
                return [...el.querySelectorAll("#review-body tr[data-position]")]
                  .filter((tr) => {
                    const r = tr.getBoundingClientRect();
                    return r.bottom > top && r.top < box.bottom;
                  })
                  .map((tr) => tr.dataset.position);
            }"""
        )
    ]


def test_thumbnails_load_for_the_rows_in_view_only(review: Locator, page: Page) -> None:
    fetched: list[int] = []
    # The visit strip under the image (256 px renditions) loads its own thumbnails meanwhile.
    page.on(
        "request",
        lambda r: (
            "/rendition" in r.url
            and "max_side=256" not in r.url
            and fetched.append(int(re.findall(r"/images/(\d+)/", r.url)[0]))
        ),
    )
    ids: dict[int, int] = {}  # position -> image id, for the rows the test has seen

    def check_window() -> list[int]:
        shown = visible_rows(review)
        assert shown
        for position in shown:
            thumb = row(review, position).locator("img.thumb")
            expect(thumb).to_have_attribute("src", re.compile(r"/rendition"))
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
            )
            ids[position] = int(re.findall(r"/images/(\d+)/", thumb.get_attribute("src") or "")[0])
        # Rows built beyond the edges (the buffer) have no image asked for.
        for tr in built(review).all():
            position = int(tr.get_attribute("data-position") or 0)
            if position and position not in shown:
                assert tr.locator("img.thumb").get_attribute("src") is None, position
        return shown

    first = check_window()
    scroll_to(review, str(1500 * ROW))
    expect(row(review, 1501)).to_be_visible()
    second = check_window()
    assert set(first).isdisjoint(second)
    # Only rows that were in view were fetched: none of the buffer's, none scrolled past.
    assert set(fetched) <= {ids[p] for p in first + second}, sorted(set(fetched))


def test_two_keys_on_a_row_before_the_first_is_saved_keep_the_last(
    review: Locator, page: Page
) -> None:
    # Image 2 is Suspicious; "2" then "1" while the first save is held: the second key must be
    # compared with what the first made of the row (Non-Suspicious), not with the old label, or
    # it is taken for "no change" and the image ends up Non-Suspicious.
    held: list[Route] = []
    release = []

    def hold_first(route: Route) -> None:
        if held and release:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r".*/api/images/\d+/label$"), hold_first)
    page.keyboard.press("ArrowDown")
    expect(review.locator("#review-body tr:focus")).to_have_attribute("data-position", "2")
    page.keyboard.press("2")
    wait_until(page, lambda: held, "the first save")
    expect(label_of(review, 2)).to_have_value("Non-Suspicious")
    page.keyboard.press("1")
    expect(label_of(review, 2)).to_have_value("Suspicious")
    assert len(held) == 1  # one save at a time: the second waits for the first's answer
    release.append(True)
    held[0].continue_()
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    expect(label_of(review, 2)).to_have_value("Suspicious")
    review.locator("#review-close").click()
    page.evaluate("p => window.clinlabel.go(p)", 2)
    expect(page.locator("#current-label")).to_contain_text("Suspicious — saved")
    expect(page.get_by_role("button", name="Suspicious", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )


# Scrolls the table from its top to its end half a viewport at a time, each time waiting for
# the rows built to be filled (not loading, not waiting to be read again), and answers which
# queue position each index of the order showed last. Rows that stay unfilled as long as
# Playwright waits for anything (a block that came back without them) end the scroll there.
_SCROLL_THROUGH = """async ({ rows, rowHeight }) => {
  const wrap = document.querySelector("#review-scroll");
  const shown = {};
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const filled = () => {
    const built = [...document.querySelectorAll("#review-body tr")];
    return built.length && built.every((tr) => tr.dataset.position && !tr.dataset.stale);
  };
  for (let top = 0; top <= rows * rowHeight; top += Math.floor(wrap.clientHeight / 2)) {
    wrap.scrollTop = top;
    // The scroll event (and the table's render) comes with the next frame.
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    let tries = 0;
    while (!filled() && tries < 1000) {
      await sleep(20);
      tries += 1;
    }
    if (!filled()) break;
    for (const tr of document.querySelectorAll("#review-body tr")) {
      shown[tr.dataset.index] = Number(tr.dataset.position);
    }
    if (shown[rows - 1] !== undefined) break;
  }
  return shown;
}"""


def test_a_row_relabelled_in_another_tab_while_scrolling_moves_no_other_row(
    review: Locator, page: Page
) -> None:
    """Sorted by label (the unlabelled first, descending), the table holds its first block; in
    another tab the last row of that block is labelled, which moves it to the end of the order.
    The next block the table asks for starts after that row: where it is now, the table showed
    nothing more (the rows after it were none) and the 200 images after it never appeared. The
    user scrolls on to the end: every image must appear exactly once."""
    review.get_by_role("button", name="Label", exact=True).click()
    review.get_by_role("button", name="Label", exact=True).click()
    expect(review.locator("th[aria-sort=descending]")).to_have_text("Label")
    first = int(cells(review, 0, 1, NUMBER)[0])
    assert first == 1  # the unlabelled first
    origin = page.evaluate("location.origin")
    order = "sort=label&dir=desc"
    last_held = page.request.get(f"{origin}/api/review?{order}&offset=199&limit=1").json()
    moved = last_held["rows"][0]
    assert moved["label"] is None
    # Another tab (the same annotator) labels it: NA, last in this order.
    other = page.context.new_page()
    other.goto(origin)
    saved = other.evaluate(
        """async (id) => (await fetch(`/api/images/${id}/label`, {
             method: "PUT", headers: { "Content-Type": "application/json" },
             body: JSON.stringify({ label: "NA", comment: "blurred" }) })).status""",
        moved["id"],
    )
    assert saved == 200
    other.close()
    page.bring_to_front()  # back to the table's tab

    shown: dict[str, int] = page.evaluate(_SCROLL_THROUGH, {"rows": TOTAL, "rowHeight": ROW})
    assert len(shown) == TOTAL, TOTAL - len(shown)
    positions = sorted(shown.values())
    assert positions == list(range(1, TOTAL + 1))  # each image once
    # In the order as it is now: the labelled row at the end, with the other NA.
    assert [shown[str(i)] for i in range(TOTAL - 2, TOTAL)] == [10, moved["position"]]
