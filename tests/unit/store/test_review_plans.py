"""Review windows read an index in order: no full scan of images or labels, no sort of the table.

At a million images a window that sorts or scans the table costs seconds (issue 14: 730 ms by
comment at 300,000). Every statement a window by position, case, visit or file runs, first and
by keyset cursor, both directions, with and without a label filter, is checked here with SQLite's
`EXPLAIN QUERY PLAN`. The natural-order byte keys behind the case, visit and file sorts are
checked against `natural_key` itself.
"""

from __future__ import annotations

import dataclasses
import random
import re
import sqlite3
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.discovery.naming import natural_key
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.review import REVIEW_SORTS, ReviewQuery, case_names, review_page
from clinlabel.store.sort_keys import natural_sort_key
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

IMAGES = 2000


def test_byte_keys_sort_as_natural_key_does() -> None:
    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits * 3 + "_-. /é"
    names = ["", "0", "00", "a", "a0", "a00", "a1", "A1", "a01", "a10", "a9", "a1b", "a 1", "Ω9"]
    names += ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(3000)]
    for a in names:
        for b in rng.sample(names, 40):
            want = (natural_key(a)[0] > natural_key(b)[0]) - (natural_key(a)[0] < natural_key(b)[0])
            got = (natural_sort_key(a) > natural_sort_key(b)) - (
                natural_sort_key(a) < natural_sort_key(b)
            )
            assert got == want, (a, b)


@pytest.fixture(scope="module")
def store() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open_dir(Path(folder))
        with store.write() as conn:
            image_rows.sync_scan(
                conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
            )
            who = people.annotator_id(conn, "alice", now="t0")
            for image_id in range(1, IMAGES + 1, 3):
                label_rows.put_label(
                    conn,
                    image_id=image_id,
                    annotator_id=who,
                    frame=0,
                    label="NA" if image_id % 2 else "Suspicious",
                    # Half of them without a comment (the comment order's two groups).
                    comment=f"retake {image_id % 17}" if image_id % 2 else "",
                    labelled_at="t0",
                    sha256=None,
                    event_id=image_id,
                    exists=False,
                )
            for image_id, frame in ((5, 3), (50, 2), (500, 3), (1500, 1)):  # a few frame labels
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
        # The planner with statistics, as a project that has been opened and used has them.
        with sqlite3.connect(Path(folder) / DATABASE_FILE) as raw:
            raw.execute("ANALYZE")
        yield store, who
        store.close()


def _plans_of(store: Store, who: int, query: ReviewQuery) -> list[tuple[str, list[str]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.read() as conn:
            page = review_page(conn, query, annotator_id=who, annotator="alice")
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert page.rows, query
    found = []
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            found.append((sql, [str(row[3]) for row in rows]))
    return found


QUERIES = (
    [
        ReviewQuery(sort=sort, descending=descending, offset=offset, after=after, **filters)
        for sort in ("case", "visit", "file")
        for descending in (False, True)
        for offset, after in ((0, None), (300, None), (200, 777))
        for filters in ({}, {"label": "NA"})
    ]
    + [
        # A jump near the end without a cursor: read backwards from the end of the index.
        ReviewQuery(sort=sort, descending=descending, offset=1900)
        for sort in ("case", "visit", "file")
        for descending in (False, True)
    ]
    + [
        # By label: the first window and those after a cursor (a deep jump counts the labels).
        ReviewQuery(sort=sort, descending=descending, offset=offset, after=after, **filters)
        for sort in ("label", "annotator")
        for descending in (False, True)
        for offset, after in ((0, None), (200, 777))
        for filters in ({}, {"case": "Case_7"})
    ]
    + [
        # By comment: no comment (queue order), then the comment key's index; a deep jump counts
        # the commented rows on that index.
        ReviewQuery(sort="comment", descending=descending, offset=offset, after=after, **filters)
        for descending in (False, True)
        # 775 has a comment (the cursor is in the comment index's range), 778 has none.
        for offset, after in ((0, None), (300, None), (200, 775), (200, 778))
        for filters in ({}, {"label": "NA"})
        if not (after == 778 and filters)  # (778 is no NA: after it come no NA rows)
    ]
    + [
        ReviewQuery(sort="comment", descending=descending, offset=1900)
        for descending in (False, True)
    ]
    + [
        ReviewQuery(sort="position", descending=descending, offset=200, after=after, **filters)
        for descending in (False, True)
        for after in (None, 777)
        for filters in ({"label": "NA"}, {"unlabelled": True}, {"case": "Case_7"})
    ]
)


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_a_window_reads_an_index_in_order(store: Any, query: ReviewQuery) -> None:
    if query.case is not None and query.offset:
        query = dataclasses.replace(query, offset=20)  # a case holds 100 images
    plans = _plans_of(*store, query)
    lines = [line for _, plan in plans for line in plan]
    full_scans = [
        line
        for line in lines
        if line.startswith("SCAN")
        and "INDEX" not in line
        and "CONSTANT ROW" not in line
        # The kept per-case counts (a row per case or visit, not per image) are read whole
        # by a jump that adds them up (store.review._nth_in_queue).
        and not re.match(r"SCAN (case_labelled|case_timed|queue_visits)\b", line)
    ]
    assert full_scans == [], plans
    # No Bloom filter either: SQLite builds one by reading every label of the annotator (450 ms
    # at a million images) before the window's first row.
    assert not [line for line in lines if "BLOOM FILTER" in line], plans
    # No sort of the whole result: at most the ties of the window's keys (RIGHT PART).
    assert not [line for line in lines if line == "USE TEMP B-TREE FOR ORDER BY"], plans
    if query.sort in ("case", "visit", "file"):
        index = f"ix_images_{query.sort}_key"
        assert any(index in line for line in lines), plans


def test_an_existing_project_gets_its_keys_when_opened(tmp_path: Path) -> None:
    """Migration 0006 fills the keys of the images a project already holds (in batches)."""
    store = Store.open_dir(tmp_path)
    count = 12_000  # more than one batch of the migration
    with store.write() as conn:
        rows = [image_rows.scan_row(i + 1, _ref(i)) for i in range(count)]
        image_rows.sync_scan(conn, [rows], now="t0")
    store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP INDEX ix_images_case")
        raw.execute("CREATE INDEX ix_images_case ON images (case_name)")
        for key in ("case_key", "visit_key", "file_key"):
            raw.execute(f"DROP INDEX ix_images_{key}")
            raw.execute(f"ALTER TABLE images DROP COLUMN {key}")
            raw.execute(f"ALTER TABLE scan_staging DROP COLUMN {key}")
        # The regions (0007) came after the keys: gone too, as before 0006.
        raw.execute("DROP TABLE regions")
        raw.execute("DROP TABLE region_geometries")
        # And the reading study's tables (0009).
        for table in ("adjudications", "case_diagnoses", "repeat_reads", "assignments"):
            raw.execute(f"DROP TABLE {table}")
        raw.execute("DROP TABLE study_readers")
        raw.execute("DROP TABLE study")
        # And the team server's tables (0008).
        for table in ("web_sessions", "login_failures", "users"):
            raw.execute(f"DROP TABLE {table}")
        # And what 0010 adds (the comment key, the sidebar's kept counts).
        raw.execute("DROP INDEX ix_labels_annotator_comment")
        raw.execute("ALTER TABLE labels DROP COLUMN comment_key")
        raw.execute("DROP TABLE queue_visits")
        raw.execute("DROP TABLE case_labelled")
        raw.execute("DROP TABLE image_seconds")  # and what 0012 adds
        raw.execute("DROP TABLE case_timed")
        raw.execute("DROP TABLE case_label_counts")  # and what 0013 adds
        for key in ("case_key", "visit_key", "file_key"):  # and what 0014 adds
            raw.execute(f"DROP INDEX ix_labels_annotator_label_{key}")
            raw.execute(f"ALTER TABLE labels DROP COLUMN {key}")
        raw.execute("UPDATE alembic_version SET version_num = '0005'")
    upgraded = Store.open_dir(tmp_path)
    with upgraded.read() as conn:
        found = conn.exec_driver_sql(
            "SELECT case_name, visit, file, case_key, visit_key, file_key FROM images"
        ).all()
        page = review_page(
            conn, ReviewQuery(sort="file", limit=3), annotator_id=None, annotator=None
        )
    upgraded.close()
    assert len(found) == count
    for case, visit, file, *keys in found:
        assert keys == [natural_sort_key(case), natural_sort_key(visit), natural_sort_key(file)]
    assert [row.file for row in page.rows] == ["XC/img0.jpg"] * 3


def test_the_sidebar_reads_kept_counts_not_the_images(store: Any) -> None:
    """`/api/cases` (every case's images and labelled ones, every visit's first position) and
    `/api/review/cases` (the case names) grouped the whole queue per request (68 ms and 440 ms
    at 100,000 and 1,000,000 images); they read the counts kept per visit and per case
    (migration 0010), a row each, whatever the number of images."""
    store_, who = store
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(store_.engine, "before_cursor_execute", record)
    try:
        with store_.read() as conn:
            cases = image_rows.case_progress(conn, annotator_id=who)
            visits = image_rows.case_visits(conn)
            names = case_names(conn)
    finally:
        event.remove(store_.engine, "before_cursor_execute", record)
    assert len(cases) == IMAGES // 100 and len(visits) == IMAGES // 10
    assert names == [c.case for c in cases]  # the review table's case filter, in queue order
    assert sum(c.labelled for c in cases) == len(range(1, IMAGES + 1, 3))
    with store_.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            plan = [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            read = [line for line in plan if line.startswith(("SCAN", "SEARCH"))]
            assert read, (sql, plan)
            assert all(" queue_visits" in line or " case_labelled" in line for line in read), plan


@pytest.mark.parametrize(
    "query",
    [
        ReviewQuery(sort="frames", descending=descending, offset=offset, after=after, **filters)
        for descending in (False, True)
        for offset, after in ((0, None), (1990, None), (200, 777))
        for filters in ({}, {"label": "NA"})
        if not (filters and offset == 1990)
    ],
    ids=repr,
)
def test_a_window_by_frames_reads_no_table_whole(store: Any, query: ReviewQuery) -> None:
    """By frame labels: images without any on the queue's index, those with some gathered
    from the labels' index (frame labels are few; only they are sorted)."""
    plans = _plans_of(*store, query)
    lines = [line for _, plan in plans for line in plan]
    full_scans = [
        line
        for line in lines
        if line.startswith("SCAN") and "INDEX" not in line and "CONSTANT ROW" not in line
    ]
    assert full_scans == [], plans
    # Only the images with frame labels are sorted, never the queue.
    sorted_ = [sql for sql, plan in plans if "USE TEMP B-TREE FOR ORDER BY" in plan]
    assert all("first_frames" in sql for sql in sorted_), plans
    for sql, plan in plans:
        if "first_frames" in sql:
            assert any("ix_labels_annotator_" in line for line in plan), plan


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", REVIEW_SORTS)
def test_a_cursor_checked_against_its_key_is_one_probe(
    store: Any, sort: str, descending: bool
) -> None:
    """The cursor row's key as the page read it (`after_key`) is checked by one probe of the
    row by position (and of its key by primary key), and the window starts from the key read
    there: the keyset window stays one probe plus the window."""
    found, who = store
    with found.read() as conn:
        held = review_page(
            conn,
            ReviewQuery(sort=sort, descending=descending, offset=150, limit=50),
            annotator_id=who,
            annotator="alice",
        ).rows
    last = held[-1]
    query = ReviewQuery(
        sort=sort,
        descending=descending,
        offset=200,
        limit=50,
        after=last.position,
        after_key=last.cursor,
    )
    plans = _plans_of(found, who, query)
    trusted = _plans_of(found, who, dataclasses.replace(query, after_key=None))
    # The check is the probe by position the window made anyway to read the cursor's key; one
    # more only where the window reads no key (unfiltered by position) or not this one (by
    # annotator the check reads whether the row is labelled, the window its label).
    assert len(plans) == len(trusted) + (sort in ("position", "annotator")), plans
    probes = [plan for sql, plan in plans if "images.seq = ?" in sql and "ORDER BY" not in sql]
    assert probes and all(
        line.startswith(("SEARCH", "CORRELATED", "SCALAR")) for plan in probes for line in plan
    ), plans
    with found.read() as conn:
        page = review_page(conn, query, annotator_id=who, annotator="alice")
        fresh = review_page(
            conn, dataclasses.replace(query, after=None), annotator_id=who, annotator="alice"
        )
    assert not page.moved
    assert [r.position for r in page.rows] == [r.position for r in fresh.rows]
