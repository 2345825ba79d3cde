"""The kept counts per case and label (`case_label_counts`, derived data) edited by hand with
sqlite3: the review table's jumps still answer (a window, never a 500), with a total within the
queue; what they show is only as good as the counts until a rescan recounts them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .test_review_windows import batch, queue  # noqa: F401

SORTS = ("position", "case", "label", "comment", "seconds")


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE case_label_counts SET labelled = 1e300",  # a REAL past any integer
        "UPDATE case_label_counts SET labelled = -1e300, commented = 1e300, timed = -9",
        "UPDATE case_label_counts SET labelled = labelled + 7",
        "DELETE FROM case_label_counts",
    ],
)
def test_hand_edited_kept_counts_never_fail_a_jump(
    client: TestClient,
    queue: list[dict[str, Any]],  # noqa: F811
    tmp_path: Path,
    edit: str,
) -> None:
    client.raise_server_exceptions = False
    database = next(tmp_path.rglob("clinlabel.db"))
    with sqlite3.connect(database) as raw:
        raw.execute(edit)
    for sort in SORTS:
        for direction in ("asc", "desc"):
            for offset in (0, 3, 8):
                for label in ("Suspicious", "NA"):
                    params = {"sort": sort, "dir": direction, "label": label, "offset": offset}
                    response = client.get("/api/review", params={"limit": 5, **params})
                    assert response.status_code == 200, (params, response.text)
                    page = response.json()
                    assert 0 <= page["total"] <= page["all"] == len(queue)
                    assert all(row["label"] == label for row in page["rows"]), params
