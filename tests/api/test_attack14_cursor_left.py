"""A review window asked by keyset cursor (`after`, the position of the row before it, which
the page passes) once another tab has cleared or changed that row's label so that it no longer
passes the label filter: the window is the one a fresh walk shows at that offset, not an empty
table or rows of another place in the order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .test_review_windows import batch, queue  # noqa: F401

SORTS = ("position", "case", "visit", "file", "label", "comment", "frames", "annotator", "seconds")


def _rows(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/review", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


@pytest.mark.parametrize("change", ["clear", "relabel"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_a_cursor_row_that_left_the_filter_gives_the_fresh_window(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
    sort: str,
    direction: str,
    change: str,
) -> None:
    shown = {"sort": sort, "dir": direction, "label": "Suspicious"}
    walked = _rows(client, limit=200, **shown)
    k = len(walked) // 3
    cursor = walked[k]
    if change == "clear":
        assert client.delete(f"/api/images/{cursor['id']}/label").status_code in (200, 204)
    else:
        body = {"label": "NA", "comment": "retake"}
        assert client.put(f"/api/images/{cursor['id']}/label", json=body).status_code == 200
    fresh = _rows(client, offset=k + 1, limit=5, **shown)
    assert fresh  # the filter still holds rows past the cursor's old place
    by_cursor = _rows(client, offset=k + 1, limit=5, after=cursor["position"], **shown)
    assert [row["id"] for row in by_cursor] == [row["id"] for row in fresh]
