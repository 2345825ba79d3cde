"""GET /api/review and /api/review/cases through the app: windows, orders, filters, refusals.

The orders themselves are checked exhaustively against a model in
tests/unit/labelling/test_review.py; here: that the web face passes every parameter through,
states the window it answers, and refuses what the core must never see.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.store.review import MAX_REVIEW_LIMIT, REVIEW_SORTS
from clinlabel.web.config import WebSettings
from clinlabel.web.routes.review import SortKey

from .conftest import PORT, TOKEN, _client, make_batch

# Case_001, Case_002 (one visit each) of img1..img12: img10 sorts after img9, not after img1.
IMAGES = 12
TOTAL = 2 * IMAGES


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "batch", cases=2, visits=1, images=IMAGES)


@pytest.fixture
def labelled(client: TestClient) -> TestClient:
    """Labels on positions 2 (Suspicious), 5 (NA), 13 (Suspicious) and a frame label on 3."""
    views = client.get(f"/api/queue?start=1&count={TOTAL}").json()
    for position, body in {
        2: {"label": "Suspicious"},
        5: {"label": "NA", "comment": "blurred"},
        13: {"label": "Suspicious"},
        3: {"label": "NA", "comment": "edge", "frame": 1},
    }.items():
        saved = client.put(f"/api/images/{views[position - 1]['id']}/label", json=body)
        assert saved.status_code == 200, saved.text
    return client


def review(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/review", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def positions(page: dict[str, Any]) -> list[int]:
    return [r["position"] for r in page["rows"]]


def test_sort_keys_of_the_route_are_the_cores_whitelist() -> None:
    assert typing.get_args(SortKey) == REVIEW_SORTS


def test_a_window_in_queue_order_with_totals(labelled: TestClient) -> None:
    page = review(labelled, offset=0, limit=5)
    assert (page["offset"], page["total"], page["all"]) == (0, TOTAL, TOTAL)
    assert positions(page) == [1, 2, 3, 4, 5]
    first, second, third = page["rows"][:3]
    assert set(first) == {
        "id",
        "position",
        "case",
        "visit",
        "file",
        "label",
        "comment",
        "annotator",
        "seconds",
        "frame_labels",
        "regions",
        "sealed",
        "readers",
        "cursor",
    }
    assert (first["case"], first["visit"], first["file"]) == (
        "Case_001",
        "Visit_1",
        "XC_CLINICAL/img1.jpg",
    )
    assert first["label"] is None and first["annotator"] is None and first["comment"] == ""
    assert (second["label"], second["annotator"]) == ("Suspicious", "alice")
    assert third["label"] is None
    # (Less the label version the page's records carry: team-auth, issue 13.)
    frames = [{k: v for k, v in f.items() if k != "version"} for f in third["frame_labels"]]
    assert frames == [{"frame": 1, "label": "NA", "comment": "edge"}]
    # Later windows, the last one short, and past the end: empty with the totals still given.
    assert positions(review(labelled, offset=10, limit=5)) == [11, 12, 13, 14, 15]
    assert positions(review(labelled, offset=20, limit=10)) == [21, 22, 23, 24]
    beyond = review(labelled, offset=500, limit=10)
    assert (beyond["rows"], beyond["offset"], beyond["total"]) == ([], 500, TOTAL)


def test_descending_and_natural_name_order(labelled: TestClient) -> None:
    assert positions(review(labelled, sort="position", dir="desc", limit=3)) == [24, 23, 22]
    by_file = review(labelled, sort="file", limit=TOTAL)
    names = [r["file"].removeprefix("XC_CLINICAL/") for r in by_file["rows"]]
    # img1 of both cases, then img2, ... img9, img10 (never img1, img10, img11, img12, img2).
    assert names == [f"img{i}.jpg" for i in range(1, IMAGES + 1) for _ in range(2)]
    assert positions(by_file)[:4] == [1, 13, 2, 14]
    down = review(labelled, sort="file", dir="desc", limit=2)
    assert positions(down) == [12, 24]
    assert positions(review(labelled, sort="case", dir="desc", limit=2)) == [13, 14]


def test_labels_and_empty_values_sort_last_ascending(labelled: TestClient) -> None:
    page = review(labelled, sort="label", limit=5)
    assert [r["label"] for r in page["rows"]] == ["NA", "Suspicious", "Suspicious", None, None]
    assert positions(page) == [5, 2, 13, 1, 3]
    assert positions(review(labelled, sort="label", dir="desc", limit=2)) == [1, 3]
    # Time on an image: the values in order, then the images nobody spent time on.
    seconds = [r["seconds"] for r in review(labelled, sort="seconds", limit=TOTAL)["rows"]]
    timed = [s for s in seconds if s is not None]
    assert timed and timed == sorted(timed)
    assert seconds == timed + [None] * (TOTAL - len(timed))
    down = [r["seconds"] for r in review(labelled, sort="seconds", dir="desc", limit=TOTAL)["rows"]]
    assert down == [None] * (TOTAL - len(timed)) + sorted(timed, reverse=True)
    assert positions(review(labelled, sort="annotator", limit=3)) == [2, 5, 13]


def test_filters_by_label_unlabelled_and_case(labelled: TestClient) -> None:
    suspicious = review(labelled, label="Suspicious")
    assert (suspicious["total"], suspicious["all"]) == (2, TOTAL)
    assert positions(suspicious) == [2, 13]
    unlabelled = review(labelled, unlabelled="true", limit=3)
    assert unlabelled["total"] == TOTAL - 3  # a frame label leaves the file unlabelled
    assert positions(unlabelled) == [1, 3, 4]
    second_case = review(labelled, case="Case_002", sort="position", dir="desc", limit=2)
    assert second_case["total"] == IMAGES
    assert positions(second_case) == [24, 23]
    both = review(labelled, case="Case_002", label="Suspicious")
    assert (both["total"], positions(both)) == (1, [13])
    # Empty values from a form are no filter at all.
    assert review(labelled, label="", case="")["total"] == TOTAL
    assert review(labelled, label="Maybe")["total"] == 0


def test_refusals_and_a_big_limit_is_no_error(labelled: TestClient) -> None:
    for params in (
        {"sort": "file; DROP TABLE images"},
        {"sort": "relpath"},
        {"dir": "up"},
        {"offset": -1},
        {"limit": 0},
        {"unlabelled": "perhaps"},
        {"label": "x" * 201},
    ):
        response = labelled.get("/api/review", params=params)
        assert response.status_code == 422, params
    assert labelled.get("/api/review", params={"sort": "position"}).status_code == 200
    big = review(labelled, limit=MAX_REVIEW_LIMIT * 10)
    assert len(big["rows"]) == TOTAL


def test_the_limit_is_clamped_to_the_cores_maximum(
    labelled: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    session = labelled.app.state.workbench.session  # type: ignore[attr-defined]
    original = session.review

    def spy(query: Any, **options: Any) -> Any:
        seen.append(query.limit)
        return original(query, **options)

    monkeypatch.setattr(session, "review", spy)
    review(labelled, limit=MAX_REVIEW_LIMIT + 1)
    assert seen == [MAX_REVIEW_LIMIT]


def test_case_names(labelled: TestClient) -> None:
    assert labelled.get("/api/review/cases").json() == ["Case_001", "Case_002"]


def test_cases_in_natural_order_not_text_order(tmp_path: Path) -> None:
    batch = tmp_path / "natural"
    for case in ("Case_10", "Case_2", "Case_1"):
        folder = batch / case / "Visit_1" / "XC_CLINICAL"
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "img1.jpg")
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "p", annotator="alice"
    )
    clients = _client(settings)
    client = next(clients)
    try:
        assert client.get("/api/review/cases").json() == ["Case_1", "Case_2", "Case_10"]
        by_case = client.get("/api/review", params={"sort": "case", "dir": "desc"}).json()
        assert [r["case"] for r in by_case["rows"]] == ["Case_10", "Case_2", "Case_1"]
    finally:
        clients.close()


def test_no_session_yet_is_a_conflict(bare_client: TestClient) -> None:
    assert bare_client.get("/api/review").status_code == 409
    assert bare_client.get("/api/review/cases").status_code == 409
