"""A jump without a cursor reads indexes and kept counts, never walks a table, on both databases.

Each jump of issue 14's list over 100 ms at a million images (file descending, label, comment,
seconds, frames, the label filter by position: middle and last windows) is run with its
shortcut taken at every offset (`_SKIP_WALK` = 0, so a small project shows the plans a million
images would use), and every statement it sends is explained: on SQLite no SCAN of images,
labels or the kept times (the kept counts per case are a row per case and may be read whole),
the keys skipped on a covering index, no sort but of one key's ties (RIGHT PART OF ORDER BY) or
of the few images with frame labels; on PostgreSQL, with sequential scans and sorts priced out,
no Seq Scan of those tables and no full Sort.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people, review
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.seconds import add_event_time
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

IMAGES = 1200
WHO = "alice"
BIG = ("images", "labels", "image_seconds", "frame_labels", "own_label")


def _fill(store: Store) -> int:
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
        )
        who = people.annotator_id(conn, WHO, now="t0")
        for image_id in range(1, IMAGES * 2 // 3):  # the first two thirds labelled, as one works
            label = ("NA", "Suspicious", "Non-Suspicious")[image_id % 3]
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=who,
                frame=0,
                label=label,
                comment=f"retake {image_id}" if label == "NA" else "",
                labelled_at="t0",
                sha256=None,
                event_id=image_id,
                exists=False,
            )
            add_event_time(
                conn, [{"actor": WHO, "image_id": image_id, "active_ms": 1500 + image_id % 70}]
            )
        # A few unlabelled images with time (looked at, not labelled).
        add_event_time(conn, [{"actor": WHO, "image_id": i, "active_ms": 700} for i in (900, 1100)])
        for image_id, frame in ((5, 3), (50, 2), (500, 3)):  # a few frame labels
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=who,
                frame=frame,
                label="NA",
                comment="",
                labelled_at="t0",
                sha256=None,
                event_id=IMAGES + image_id,
                exists=False,
            )
    return who


JUMPS = [
    ReviewQuery(sort=sort, descending=descending, offset=offset, limit=50, **filters)
    for sort, descending, filters in [
        ("file", True, {}),
        ("case", True, {}),
        ("visit", True, {}),
        ("label", False, {}),
        ("label", True, {}),
        ("comment", False, {}),
        ("comment", True, {}),
        ("seconds", False, {}),
        ("seconds", True, {}),
        ("frames", False, {}),
        ("seconds", False, {"unlabelled": True}),
        ("seconds", True, {"unlabelled": True}),
        ("position", False, {"label": "NA"}),
        ("position", True, {"label": "NA"}),
    ]
    for offset in (IMAGES // 6, IMAGES // 2, IMAGES - 50)
    if not (filters and offset > IMAGES // 5)  # the label filter holds a fifth of the images
] + [
    # Case, visit and file with a label filter (migration 0014): the key found on the labels'
    # (annotator, frame, label, key) index, forwards (offset 60) and from the end (200 of 266).
    ReviewQuery(sort=sort, descending=descending, offset=offset, limit=50, label="NA")
    for sort in ("file", "case", "visit")
    for descending in (False, True)
    for offset in (60, 200)
]


@pytest.fixture(autouse=True)
def _shortcuts_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "_SKIP_WALK", 0)


def _statements(store: Store, who: int, query: ReviewQuery) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith("SELECT"):
            sent.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.read() as conn:
            assert review_page(conn, query, annotator_id=who, annotator=WHO).rows, query
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return sent


def _framed(sql: str) -> bool:
    """The statements that gather the images with frame labels (few: sorted as they are)."""
    return "first_frames" in sql or "labels.frame >" in sql


@pytest.fixture(scope="module")
def sqlite_store() -> Iterator[tuple[Store, int]]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open_dir(Path(folder))
        who = _fill(store)
        with sqlite3.connect(Path(folder) / DATABASE_FILE) as raw:
            raw.execute("ANALYZE")  # statistics, as a project in use has them
        yield store, who
        store.close()


@pytest.mark.parametrize("query", JUMPS, ids=repr)
def test_a_jump_walks_no_table_on_sqlite(sqlite_store: tuple[Store, int], query: Any) -> None:
    store, who = sqlite_store
    sent = _statements(store, who, query)
    covering = []
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in sent:
            plan = [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            scans = [
                line
                for line in plan
                if line.startswith("SCAN ")
                and line.split()[1] in BIG
                and "INDEX" not in line  # a range read in order
            ]
            assert not scans, (sql, plan)
            assert not [line for line in plan if "BLOOM FILTER" in line], (sql, plan)
            if not _framed(sql):
                assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (sql, plan)
            covering += [line for line in plan if "COVERING INDEX" in line]
    if query.sort in ("comment", "seconds", "file", "case", "visit") and query.offset > 100:
        # The keys skipped on an index alone, no table row read for a stepped-over row.
        assert covering, sent
    if query.sort in ("file", "case", "visit") and query.label is not None:
        # The label's own keys, not the images' key index probing each image's label.
        index = f"ix_labels_annotator_label_{query.sort}_key"
        assert [line for line in covering if index in line], sent


@pytest.mark.postgres
@pytest.mark.parametrize("query", JUMPS, ids=repr)
def test_a_jump_walks_no_table_on_postgres(postgres_server: Any, query: Any) -> None:
    store = Store.open_url(postgres_server.create_database())
    try:
        who = _fill(store)
        sent = _statements(store, who, query)
        with store.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute("ANALYZE")
                cursor.execute("SET enable_seqscan = off")
                cursor.execute("SET enable_sort = off")
                for sql, params in sent:
                    cursor.execute(f"EXPLAIN {sql}", params)
                    lines = [str(row[0]) for row in cursor.fetchall()]
                    plan = "\n".join(lines)
                    for table in ("images", "labels", "image_seconds"):
                        assert f"Seq Scan on {table}" not in plan, (sql, plan)
                    if "ORDER BY" in sql and not _framed(sql):
                        # At most the ties of one key are sorted (Incremental Sort).
                        # A Sort node (not an Incremental Sort's keys).
                        sorts = [
                            line for line in lines if re.match(r"(->\s+)?Sort\s+\(", line.strip())
                        ]
                        assert not sorts, (sql, plan)
            raw.rollback()
    finally:
        store.close()


@pytest.mark.parametrize("sort", ["file", "position", "comment"])
def test_a_cases_label_filter_counts_on_the_case_not_the_label(
    sqlite_store: tuple[Store, int], sort: str
) -> None:
    """The filtered total of one case with a label: the case's images (its index) probe their
    label. From the label's index instead, every image with the label was probed for its case
    (0.7 s at a million images for a case of 200)."""
    store, who = sqlite_store
    query = ReviewQuery(sort=sort, case="Case_3", label="NA", limit=50)
    sent = _statements(store, who, query)
    counts = [(sql, p) for sql, p in sent if "count(" in sql and "FROM images" in sql]
    assert counts
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in counts:
            plan = [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            assert "ix_images_case " in plan[0] + " ", (sql, plan)
