"""A review window asked with the filtered total an earlier window answered (`total`, which the
page passes back), after another tab saved or cleared labels: the rows and the total are those
of a fresh walk, never a window counted from the stale total (rows skipped or shown twice)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .test_review_windows import batch, queue  # noqa: F401

SORTS = ("position", "case", "visit", "file", "label", "comment", "frames", "annotator", "seconds")


def _window(client: TestClient, **params: Any) -> tuple[list[int], int]:
    response = client.get("/api/review", params={"limit": 5, **params})
    assert response.status_code == 200, response.text
    page = response.json()
    return [row["id"] for row in page["rows"]], int(page["total"])


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_a_stale_total_after_another_tab_labels_gives_the_fresh_window(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
    sort: str,
    direction: str,
) -> None:
    shown = {"sort": sort, "dir": direction, "label": "Suspicious"}
    _, stale = _window(client, **shown)
    # The other tab: two more Suspicious images (an early one and a late one), one cleared.
    unlabelled = [view for view in queue if view["label"] is None]
    for view in (unlabelled[0], unlabelled[-1]):
        body = {"label": "Suspicious", "comment": ""}
        assert client.put(f"/api/images/{view['id']}/label", json=body).status_code == 200
    cleared = next(view for view in queue if view["label"] == "Suspicious")
    assert client.delete(f"/api/images/{cleared['id']}/label").status_code in (200, 204)
    for offset in range(0, stale + 5, 5):
        fresh = _window(client, offset=offset, **shown)
        assert fresh[1] == stale + 1
        assert _window(client, offset=offset, total=stale, **shown) == fresh, offset
