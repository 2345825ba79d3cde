"""The review table's seconds order reads a kept sum on an index (issue 14: 1.1 s at 100,000
images when every window summed every image's events and sorted them).

The kept sum (`image_seconds`, store.seconds) must equal the trail's sum for every annotator and
image, whichever way events are appended, and a project made before it gets it filled when
opened. Windows by seconds, first, after a cursor and deep, filtered or not, read indexes in
order on SQLite (`EXPLAIN QUERY PLAN`) and PostgreSQL (`EXPLAIN`, sequential scans and sorts
priced out).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, append_events
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.schema import case_timed, events, image_seconds
from clinlabel.store.seconds import shift_timed
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

IMAGES = 1200


def _viewed(image_id: int, actor: str, ms: int | None) -> NewEvent:
    return NewEvent(EventKind.VIEW_ENDED, actor, {}, image_id=image_id, active_ms=ms)


def _fill(store: Store) -> int:
    """Images, labels on a third (half NA), and time on two thirds, some in several events."""
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
                comment="",
                labelled_at="t0",
                sha256=None,
                event_id=image_id,
                exists=False,
            )
        timed = [i for i in range(1, IMAGES + 1) if i % 3]
        append_events(conn, [_viewed(i, "alice", 1000 + (i * 37) % 5000) for i in timed])
        for image_id in timed[::7]:  # a second visit to some: the sum grows
            append_event(conn, _viewed(image_id, "alice", 250))
        append_event(conn, _viewed(5, "bob", 99_999))  # another annotator's time: not alice's
    return who


def _sums_from_trail(conn: Any) -> dict[tuple[str, int], int]:
    return {
        (str(r[0]), int(r[1])): int(r[2])
        for r in conn.execute(
            select(events.c.actor, events.c.image_id, func.sum(events.c.active_ms))
            .where(events.c.image_id.is_not(None), events.c.active_ms.is_not(None))
            .group_by(events.c.actor, events.c.image_id)
        )
    }


def _kept(conn: Any) -> dict[tuple[str, int], int]:
    return {
        (str(r[0]), int(r[1])): int(r[2])
        for r in conn.execute(
            select(image_seconds.c.actor, image_seconds.c.image_id, image_seconds.c.active_ms)
        )
    }


def test_the_kept_time_is_the_trails_sum(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    _fill(store)
    with store.write() as conn:
        # Events without time or without an image add nothing.
        append_event(conn, _viewed(7, "alice", None))
        append_event(conn, NewEvent(EventKind.SESSION_OPENED, "alice", {}, active_ms=500))
    with store.read() as conn:
        kept, trail = _kept(conn), _sums_from_trail(conn)
    store.close()
    assert kept == trail
    assert (
        kept[("bob", 5)] == 99_999
        and len(kept) == len({i for i in range(1, IMAGES + 1) if i % 3}) + 1
    )


def test_a_project_made_before_gets_its_kept_time_when_opened(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    _fill(store)
    store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP TABLE image_seconds")
        raw.execute("DROP TABLE case_timed")
        raw.execute("DROP TABLE case_label_counts")  # what 0013 adds came after
        for key in ("case_key", "visit_key", "file_key"):  # and what 0014 adds
            raw.execute(f"DROP INDEX ix_labels_annotator_label_{key}")
            raw.execute(f"ALTER TABLE labels DROP COLUMN {key}")
        raw.execute("UPDATE alembic_version SET version_num = '0010'")
    upgraded = Store.open_dir(tmp_path)
    with upgraded.read() as conn:
        kept, trail = _kept(conn), _sums_from_trail(conn)
        per_case, counted = _case_timed(conn), _timed_per_case(conn)
    upgraded.close()
    assert kept == trail and len(kept) > IMAGES // 2
    assert per_case == counted and per_case


def _case_timed(conn: Any) -> dict[tuple[str, str], int]:
    """The kept timed images per (actor, case), without the cases counted to nothing."""
    return {
        (str(r[0]), str(r[1])): int(r[2])
        for r in conn.execute(
            select(case_timed.c.actor, case_timed.c.case_name, case_timed.c.timed)
        )
        if r[2]
    }


def _timed_per_case(conn: Any) -> dict[tuple[str, str], int]:
    """The same, counted from the kept times and the queue."""
    return {
        (str(r[0]), str(r[1])): int(r[2])
        for r in conn.exec_driver_sql(
            "SELECT s.actor, i.case_name, count(*) FROM image_seconds s JOIN images i "
            "ON i.id = s.image_id WHERE i.seq IS NOT NULL GROUP BY s.actor, i.case_name"
        )
    }


def test_the_timed_images_per_case_are_kept_through_events_and_rescans(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    _fill(store)
    with store.read() as conn:
        assert _case_timed(conn) == _timed_per_case(conn)
    # A rescan in one step without Case_3 (init, a changed batch): recounted.
    kept = [i for i in range(IMAGES) if i // 100 != 3]
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(s, _ref(i)) for s, i in enumerate(kept, 1)]], now="t1"
        )
        append_event(conn, _viewed(450, "alice", 10))  # an image with no time yet
        append_event(conn, _viewed(350, "alice", 10))  # a gone image: not counted
    with store.read() as conn:
        assert _case_timed(conn) == _timed_per_case(conn)
    # The background rescan's steps move the counts with the images (store.rescan).
    with store.write() as conn:
        shift_timed(conn, list(range(401, 501)), delta=-1)
        conn.exec_driver_sql(
            "UPDATE images SET seq = NULL, present = 0 WHERE id BETWEEN 401 AND 500"
        )
    with store.read() as conn:
        assert _case_timed(conn) == _timed_per_case(conn)
    store.close()


def _order_by_trail(conn: Any, query: ReviewQuery) -> list[int]:
    """The seconds order as the page always showed it: no time last ascending, first
    descending, ties in queue order; computed here from the trail, in Python."""
    sums = {i: ms for (actor, i), ms in _sums_from_trail(conn).items() if actor == "alice"}
    rows = conn.exec_driver_sql("SELECT id, seq FROM images WHERE seq IS NOT NULL").all()
    timed = sorted((r for r in rows if r[0] in sums), key=lambda r: r[1])
    timed.sort(key=lambda r: sums[r[0]], reverse=query.descending)
    bare = sorted((r for r in rows if r[0] not in sums), key=lambda r: r[1])
    ordered = [*bare, *timed] if query.descending else [*timed, *bare]
    return [int(r[1]) for r in ordered]


@pytest.mark.parametrize("descending", [False, True])
def test_windows_by_seconds_follow_the_trails_order(tmp_path: Path, descending: bool) -> None:
    store = Store.open_dir(tmp_path)
    who = _fill(store)
    with store.read() as conn:
        expected = _order_by_trail(conn, ReviewQuery(descending=descending))
        by_offset, by_cursor = [], []
        for offset in range(0, IMAGES, 150):
            query = ReviewQuery(sort="seconds", descending=descending, offset=offset, limit=150)
            by_offset += [
                r.position
                for r in review_page(conn, query, annotator_id=who, annotator="alice").rows
            ]
            after = by_cursor[-1] if by_cursor else None
            query = ReviewQuery(
                sort="seconds", descending=descending, offset=offset, limit=150, after=after
            )
            by_cursor += [
                r.position
                for r in review_page(conn, query, annotator_id=who, annotator="alice").rows
            ]
    store.close()
    assert by_offset == expected
    assert by_cursor == expected


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int]]:
    folder = tmp_path_factory.mktemp("seconds")
    store = Store.open_dir(folder)
    who = _fill(store)
    with sqlite3.connect(folder / DATABASE_FILE) as raw:
        raw.execute("ANALYZE")  # statistics, as a project in use has them
    yield store, who
    store.close()


def _statements(store: Store, who: int, queries: list[ReviewQuery]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith("SELECT"):
            found.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.read() as conn:
            for query in queries:
                assert review_page(conn, query, annotator_id=who, annotator="alice").rows, query
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return found


# First window, after a cursor (timed row 778 and untimed row 777), and deep jumps: into the
# timed group, the untimed one, and the last window; each alone, with a label or unlabelled.
QUERIES = [
    ReviewQuery(sort="seconds", descending=descending, offset=offset, after=after, **filters)
    for descending in (False, True)
    for offset, after in (
        (0, None),
        (200, 778),
        (200, 777),
        (300, None),
        (1000, None),
        (1150, None),
    )
    for filters in ({}, {"label": "NA"}, {"unlabelled": True})
    if not filters or offset < 200
]


def test_a_window_by_seconds_reads_indexes_in_order_on_sqlite(sqlite_store: Any) -> None:
    store, who = sqlite_store
    statements = _statements(store, who, QUERIES)
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            lines = [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            full_scans = [
                line
                for line in lines
                if line.startswith("SCAN")
                and "INDEX" not in line
                and "CONSTANT ROW" not in line
                # The kept counts per case (a row per case or visit) are read whole by design.
                and not re.match(r"SCAN (case_timed|case_labelled|queue_visits)\b", line)
            ]
            assert full_scans == [], (sql, lines)
            assert not [line for line in lines if "BLOOM FILTER" in line], (sql, lines)
            # No sort of the result: at most the ties of one time (RIGHT PART OF ORDER BY).
            assert "USE TEMP B-TREE FOR ORDER BY" not in lines, (sql, lines)
            # No sum over the events per window: the kept time is read.
            assert not [line for line in lines if "events" in line.split(" USING")[0]], (sql, lines)


@pytest.mark.postgres
def test_a_window_by_seconds_reads_indexes_in_order_on_postgresql(postgres_server: Any) -> None:
    store = Store.open_url(postgres_server.create_database())
    try:
        who = _fill(store)
        statements = _statements(store, who, QUERIES)
        with store.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute("ANALYZE")
                cursor.execute("SET enable_seqscan = off")
                cursor.execute("SET enable_sort = off")
                for sql, params in statements:
                    cursor.execute(f"EXPLAIN {sql}", params)
                    lines = [str(r[0]) for r in cursor.fetchall()]
                    plan = "\n".join(lines)
                    assert "Seq Scan on images" not in plan, (sql, plan)
                    assert "Seq Scan on labels" not in plan, (sql, plan)
                    assert "Seq Scan on image_seconds" not in plan, (sql, plan)
                    assert " on events" not in plan, (sql, plan)
                    if "ORDER BY" in sql:
                        assert not [ln for ln in lines if ln.strip().startswith("->  Sort")], plan
                        assert not [ln for ln in lines if ln.startswith("Sort")], plan
            raw.rollback()
    finally:
        store.close()


def _prefix_project(folder: Path, timed: int) -> tuple[Store, int]:
    """An annotator who worked through the first `timed` images of the queue (a label and
    time on each): the images without time all come after them."""
    folder.mkdir()
    store = Store.open_dir(folder)
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
        )
        who = people.annotator_id(conn, "alice", now="t0")
        append_events(conn, [_viewed(i, "alice", 500 + i % 300) for i in range(1, timed + 1)])
    return store, who


def _steps(store: Store, who: int, query: ReviewQuery) -> tuple[int, list[int]]:
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def on_connect(conn: Any) -> None:
        conn.connection.driver_connection.set_progress_handler(count, 1)

    event.listen(Engine, "engine_connect", on_connect)
    try:
        with store.read() as conn:
            page = review_page(conn, query, annotator_id=who, annotator="alice")
    finally:
        event.remove(Engine, "engine_connect", on_connect)
    return steps[0], [r.position for r in page.rows]


@pytest.mark.parametrize(
    "query",
    [
        ReviewQuery(sort="seconds", descending=True, limit=50),  # the untimed first
        ReviewQuery(sort="seconds", descending=True, offset=40, limit=50),
        ReviewQuery(sort="seconds", offset=IMAGES - 200, limit=50),  # deep into the untimed
    ],
    ids=["desc first", "desc jump", "asc jump"],
)
def test_the_images_without_time_are_found_by_case_not_by_a_walk(
    tmp_path: Path, query: ReviewQuery
) -> None:
    few, few_who = _prefix_project(tmp_path / "few", 100)
    many, many_who = _prefix_project(tmp_path / "many", 1000)
    few_steps, few_rows = _steps(few, few_who, query)
    many_steps, many_rows = _steps(many, many_who, query)
    few.close()
    many.close()
    untimed_few, untimed_many = list(range(101, IMAGES + 1)), list(range(1001, IMAGES + 1))
    if query.descending:
        assert few_rows == untimed_few[query.offset : query.offset + 50]
        assert many_rows == untimed_many[query.offset : query.offset + 50]
    else:
        assert few_rows == untimed_few[query.offset - 100 : query.offset - 50]
        assert many_rows == untimed_many[query.offset - 1000 : query.offset - 950]
    # Walking the 900 more timed images in between would add tens of thousands of steps.
    assert many_steps <= few_steps + 5000, (few_steps, many_steps)


def test_the_last_window_reads_the_timed_from_their_end(tmp_path: Path) -> None:
    """Descending, the timed images come last: the last window (a drag to the bottom) reads
    them from the end of their index, as cheap as the first of them."""
    store, who = _prefix_project(tmp_path / "project", 800)
    first_timed, last = IMAGES - 800, IMAGES - 50
    base = dict(sort="seconds", descending=True, limit=50)
    near_steps, near_rows = _steps(store, who, ReviewQuery(offset=first_timed, **base))
    far_steps, far_rows = _steps(store, who, ReviewQuery(offset=last, **base))
    with store.read() as conn:
        expected = _order_by_trail(conn, ReviewQuery(descending=True))
    store.close()
    assert near_rows == expected[first_timed : first_timed + 50]
    assert far_rows == expected[last : last + 50]
    assert far_steps <= near_steps + 5000, (near_steps, far_steps)
