"""Hostile `after`/`after_key` and `total`/`total_key` values sent to the review table (issue 12,
ADR 0023): a 4xx with a clear message, or the rows a fresh walk gives at that offset; never a
500, never a row skipped or repeated."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .test_review_windows import BLOCK, _window, batch, expected, queue  # noqa: F401

HUGE = 10**30  # past any integer a database holds


@pytest.mark.parametrize("sort", ["position", "file", "label", "comment", "seconds", "frames"])
@pytest.mark.parametrize(
    "hostile",
    [
        {"after": 7, "after_key": "garbage"},
        {"after": 7, "after_key": ""},
        {"after": 7, "after_key": "x" * 64},
        {"after": 10**6, "after_key": "AAAAAAAAAAAAAAAA"},
        {"after": 2**63 - 1, "after_key": "AAAAAAAAAAAAAAAA"},
        {"total": 3, "total_key": "forged"},
        {"total": 0, "total_key": ""},
        {"total": 10**6, "total_key": "AAAAAAAAAAAAAAAA"},
    ],
)
def test_a_hostile_token_gives_the_fresh_walks_rows(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
    sort: str,
    hostile: dict[str, Any],
) -> None:
    filters = {"case": "Case_10"}
    fresh = _window(client, offset=BLOCK, sort=sort, **filters)
    got = _window(client, offset=BLOCK, sort=sort, **filters, **hostile)
    assert [r["id"] for r in got["rows"]] == [r["id"] for r in fresh["rows"]]
    assert got["total"] == fresh["total"]


@pytest.mark.parametrize(
    "hostile",
    [{"after": HUGE, "after_key": "AAAA"}, {"after": HUGE}, {"total": HUGE, "case": "Case_10"}],
)
def test_a_number_past_any_position_is_refused_with_a_message(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
    hostile: dict[str, Any],
) -> None:
    response = client.get("/api/review", params={"offset": BLOCK, "limit": BLOCK, **hostile})
    assert response.status_code == 422, response.text


def test_a_cursor_from_another_order_is_not_trusted(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
) -> None:
    """The token of a row read by file, sent back with the same position by label: the row's
    key by label is another, so the window is found by its offset."""
    by_file = _window(client, offset=0, sort="file")
    last = by_file["rows"][-1]
    after = {"after": last["position"], "after_key": last["cursor"]}
    got = _window(client, offset=BLOCK, sort="label", **after)
    assert got["rows"] == _window(client, offset=BLOCK, sort="label")["rows"]


def test_a_counted_total_sent_back_changed_is_counted_again(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
) -> None:
    """The key that came with a total, sent back with another total (a page's bug, a script):
    the key is the total's own, so the true count is answered and the rows are the fresh
    walk's, not a window read from the end of an order as long as the number said."""
    filters = {"case": "Case_10", "unlabelled": True}
    want = expected(queue, "position", descending=False, **filters)
    first = _window(client, offset=0, **filters)
    assert first["total"] == len(want)
    for wrong in (first["total"] - 4, first["total"] + 7):
        sent = {"total": wrong, "total_key": first["total_key"]}
        page = _window(client, offset=BLOCK, **filters, **sent)
        assert page["total"] == len(want)
        assert [r["position"] for r in page["rows"]] == want[BLOCK : 2 * BLOCK]
