"""Review windows walked block by block, by offset and by keyset cursor, in natural order.

The page asks for the table one block at a time; after the first it passes `after` (the position
of the last row it holds) and `total`. Every way of walking must give the same rows, none missing
or repeated, in the order people read names: Case_2 before Case_10, img2 before img10, names
equal but for letter case tied and in queue order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.discovery.naming import natural_key

CASES = ("Case_1", "Case_2", "Case_10")
VISITS = ("V_1", "V_2", "V_10")
FILES = ("img1.png", "img2.png", "Img2.png", "img10.png")
COMMENTS = ("blurred", "retake 2", "Retake 10", "retake 2", "Blurred", "a")
BLOCK = 5  # small windows, so that walks cross many window boundaries


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    root = tmp_path / "batch"
    for case in CASES:
        for visit in VISITS:
            folder = root / case / visit / "XC"
            folder.mkdir(parents=True)
            for name in FILES:
                Image.new("L", (8, 8), len(name)).save(folder / name)
    return root


@pytest.fixture
def queue(client: TestClient) -> list[dict[str, Any]]:
    """The queue after labelling every third image Suspicious and every fifth NA."""
    views: list[dict[str, Any]] = client.get("/api/queue?start=1&count=500").json()
    assert len(views) == len(CASES) * len(VISITS) * len(FILES)
    for view in views:
        label = "NA" if view["position"] % 5 == 0 else None
        label = "Suspicious" if view["position"] % 3 == 0 else label
        view["comment"] = ""
        if label is not None:
            # Comments in natural order: "retake 2" before "Retake 10"; letter case ties.
            comment = COMMENTS[view["position"] % len(COMMENTS)] if label == "NA" else ""
            comment = "see img10" if view["position"] % 12 == 0 else comment
            body = {"label": label, "comment": comment}
            saved = client.put(f"/api/images/{view['id']}/label", json=body)
            assert saved.status_code == 200, saved.text
            view["label"], view["comment"] = label, comment
    return views


def expected(
    views: list[dict[str, Any]], sort: str, *, descending: bool, **filters: Any
) -> list[int]:
    rows = [
        v
        for v in views
        if (filters.get("case") is None or v["case"] == filters["case"])
        and (not filters.get("unlabelled") or v["label"] is None)
        and (filters.get("label") is None or v["label"] == filters["label"])
    ]
    if sort == "position":
        ordered = sorted(rows, key=lambda v: v["position"], reverse=descending)
    elif sort == "annotator":
        named = [v for v in rows if v["label"] is not None]
        empty = [v for v in rows if v["label"] is None]
        ordered = [*empty, *named] if descending else [*named, *empty]
    elif sort == "label":
        # Unlabelled last ascending, first descending; ties in queue order.
        named = [v for v in rows if v["label"] is not None]
        empty = [v for v in rows if v["label"] is None]
        named = sorted(named, key=lambda v: natural_key(v["label"])[0], reverse=descending)
        ordered = [*empty, *named] if descending else [*named, *empty]
    else:
        # Descending reverses the names; ties stay in queue order (a stable sort of the queue).
        ordered = sorted(
            sorted(rows, key=lambda v: v["position"]),
            key=lambda v: natural_key(v[sort])[0],
            reverse=descending,
        )
    return [v["position"] for v in ordered]


def walk(client: TestClient, *, keyset: bool, **params: Any) -> list[int]:
    """Every row of an order, a block at a time, as the page asks for them."""
    found: list[int] = []
    page: dict[str, Any] = {}
    while True:
        ask = {**params, "offset": len(found), "limit": BLOCK}
        if keyset and found:
            last = page["rows"][-1]
            ask |= {"after": found[-1], "after_key": last["cursor"]}
            ask |= {"total": page["total"], "total_key": page["total_key"]}
        page = client.get("/api/review", params=ask).json()
        total = page["total"]
        found += [row["position"] for row in page["rows"]]
        if not page["rows"] or len(found) >= total:
            return found


FILTERS: list[dict[str, Any]] = [
    {},
    {"label": "NA"},
    {"unlabelled": True},
    {"case": "Case_10"},
    {"case": "Case_2", "label": "Suspicious"},
]


@pytest.mark.parametrize(
    "sort", ["position", "case", "visit", "file", "label", "annotator", "comment"]
)
@pytest.mark.parametrize("descending", [False, True])
def test_every_window_walk_gives_each_row_once_in_natural_order(
    client: TestClient, queue: list[dict[str, Any]], sort: str, descending: bool
) -> None:
    for filters in FILTERS:
        params = {"sort": sort, "dir": "desc" if descending else "asc", **filters}
        want = expected(queue, sort, descending=descending, **filters)
        assert want, filters
        assert walk(client, keyset=False, **params) == want, filters
        assert walk(client, keyset=True, **params) == want, filters


def test_names_sort_as_people_read_them(client: TestClient, queue: list[dict[str, Any]]) -> None:
    cases = client.get("/api/review", params={"sort": "case", "limit": 500}).json()["rows"]
    assert list(dict.fromkeys(r["case"] for r in cases)) == ["Case_1", "Case_2", "Case_10"]
    files = client.get("/api/review", params={"sort": "file", "limit": 500}).json()["rows"]
    names = list(dict.fromkeys(r["file"] for r in files))
    # img2 and Img2 tie (letter case), so they come together, in queue order; img10 is last.
    assert names[0] == "XC/img1.png" and names[-1] == "XC/img10.png"
    assert set(names[1:3]) == {"XC/img2.png", "XC/Img2.png"}


def test_a_cursor_from_another_order_still_gives_the_right_rows(
    client: TestClient, queue: list[dict[str, Any]]
) -> None:
    """A cursor is only a position: whatever row it names, the window starts after that row in
    the order asked (a stale or odd cursor never skips or repeats rows of the order itself)."""
    want = expected(queue, "file", descending=False)
    after = want[9]
    page = client.get(
        "/api/review", params={"sort": "file", "offset": 10, "limit": BLOCK, "after": after}
    ).json()
    assert [r["position"] for r in page["rows"]] == want[10:15]
    gone = client.get(
        "/api/review", params={"sort": "file", "offset": 10, "limit": BLOCK, "after": 100_000}
    ).json()
    assert [r["position"] for r in gone["rows"]] == want[10:15]  # no such row: by offset


def test_a_bad_cursor_is_refused(client: TestClient) -> None:
    response = client.get("/api/review", params={"after": 0})
    assert response.status_code == 422


def _window(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/review", params={"limit": BLOCK, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


@pytest.mark.parametrize(
    ("sort", "change"),
    [
        ("label", {"label": "NA", "comment": "moved"}),  # Suspicious -> NA: earlier groups
        ("label", None),  # cleared: to the unlabelled, last
        ("annotator", None),
        ("comment", {"label": "Suspicious", "comment": "zz last"}),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_the_next_window_after_a_row_relabelled_since_is_the_fresh_walks(
    client: TestClient,
    queue: list[dict[str, Any]],
    sort: str,
    change: dict[str, str] | None,
    descending: bool,
) -> None:
    """The page holds a window; the last row of it is relabelled elsewhere (another tab, a
    teammate); the page asks for the next window with that row as its cursor. The rows must be
    those a fresh walk at that offset gives (none skipped or repeated there), and the answer
    says that rows held from before may be out of place (`moved`)."""
    order = {"sort": sort, "dir": "desc" if descending else "asc"}

    def moves(row: dict[str, Any]) -> bool:
        if change is None:
            return row["label"] is not None
        return (row["label"], row["comment"]) != (change["label"], change["comment"])

    # The first window (after the first) whose last row the change moves in the order.
    start = next(
        offset
        for offset in range(BLOCK, len(queue) - 2 * BLOCK)
        if moves(_window(client, offset=offset, **order)["rows"][-1])
    )
    held = _window(client, offset=start, **order)
    last = held["rows"][-1]
    if change is None:
        assert client.delete(f"/api/images/{last['id']}/label").status_code in (200, 204)
    else:
        saved = client.put(f"/api/images/{last['id']}/label", json=change)
        assert saved.status_code == 200, saved.text
    fresh = _window(client, offset=start + BLOCK, **order)
    after = {"after": last["position"], "after_key": last["cursor"]}
    following = _window(client, offset=start + BLOCK, **order, **after)
    assert following["rows"] == fresh["rows"]
    assert following["moved"] and not fresh["moved"]
    # Untouched, the next row's cursor still stands: the window starts right after it.
    again = _window(
        client,
        offset=start + 2 * BLOCK,
        **order,
        after=fresh["rows"][-1]["position"],
        after_key=fresh["rows"][-1]["cursor"],
    )
    assert not again["moved"]
    assert again["rows"] == _window(client, offset=start + 2 * BLOCK, **order)["rows"]


def test_a_counted_total_is_not_trusted_back_once_labels_changed(
    client: TestClient, queue: list[dict[str, Any]]
) -> None:
    """A case's unlabelled images are counted for the first window; the page passes that total
    back for the next ones. Once some of them are labelled (here or in another tab) the total
    the page holds is stale: the server answers the true one, so the table's row count and
    height follow and no row is left waiting at its end."""
    unlabelled = {"case": "Case_10", "unlabelled": True}
    first = _window(client, offset=0, **unlabelled)
    want = expected(queue, "position", descending=False, **unlabelled)
    assert first["total"] == len(want) > BLOCK
    again = _window(
        client, offset=BLOCK, total=first["total"], total_key=first["total_key"], **unlabelled
    )
    assert again["total"] == len(want) and again["total_key"] == first["total_key"]
    for position in want[:3]:
        view = next(v for v in queue if v["position"] == position)
        saved = client.put(f"/api/images/{view['id']}/label", json={"label": "Suspicious"})
        assert saved.status_code == 200, saved.text
    stale = {"total": first["total"], "total_key": first["total_key"]}
    page = _window(client, offset=BLOCK, **unlabelled, **stale)
    assert page["total"] == len(want) - 3
    assert [r["position"] for r in page["rows"]] == want[3:][BLOCK : 2 * BLOCK]
    # An old page (no total_key): counted.
    assert (
        _window(client, offset=BLOCK, total=first["total"], **unlabelled)["total"] == len(want) - 3
    )
