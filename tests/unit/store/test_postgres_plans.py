"""On PostgreSQL too, the rescan's set operations and the review windows are served by indexes.

PostgreSQL's planner reads small tables sequentially whatever indexes exist, so a test table
cannot show what it would do at a million rows. With sequential scans and full sorts priced out
(`enable_seqscan`, `enable_sort` off) it still uses them where no index can serve: a Seq Scan or
a Sort left in a plan then means a missing index, which at a million images is seconds per
statement (issue 14). The SQLite plans are checked in test_rescan_plans.py and
test_review_plans.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

pytestmark = pytest.mark.postgres

IMAGES = 600


def _rows(indices: range) -> list[image_rows.ScanRow]:
    return [image_rows.scan_row(seq, _ref(i)) for seq, i in enumerate(indices, start=1)]


@pytest.fixture
def store(postgres_server: Any) -> Iterator[Store]:
    store = Store.open_url(postgres_server.create_database())
    yield store
    store.close()


class Recorder:
    """The statements an action runs (SELECT, UPDATE, INSERT), with their parameters."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Recorder:
        event.listen(self.store.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.store.engine, "before_cursor_execute", self._record)

    def _record(self, _c: Any, _cur: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
            self.statements.append((sql, params))

    def plans(self) -> list[tuple[str, list[str]]]:
        found = []
        with self.store.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                # Statistics, as a project in use has them (autovacuum gathers them).
                cursor.execute("ANALYZE")
                cursor.execute("SET enable_seqscan = off")
                cursor.execute("SET enable_sort = off")
                for sql, params in self.statements:
                    cursor.execute(f"EXPLAIN {sql}", params)
                    found.append((sql, [str(row[0]) for row in cursor.fetchall()]))
            raw.rollback()
        return found


def test_the_rescan_has_no_sequential_scan_in_a_correlated_subplan(store: Store) -> None:
    with store.write() as conn:
        image_rows.sync_scan(conn, [_rows(range(IMAGES))], now="t0")
    with Recorder(store) as recorder, store.write() as conn:
        # 10 % gone, 10 % new: every branch of the rescan runs.
        image_rows.sync_scan(conn, [_rows(range(IMAGES // 10, IMAGES + IMAGES // 10))], now="t1")
    plans = recorder.plans()
    assert len(plans) >= 5
    for sql, lines in plans:
        inside_subplan = False
        for line in lines:
            if "SubPlan" in line:
                inside_subplan = True
            if inside_subplan:
                assert "Seq Scan" not in line, (sql, lines)
        # The big tables are reached by index wherever they are probed.
        assert not [line for line in lines if "Seq Scan on images" in line], (sql, lines)


@pytest.mark.parametrize("sort", ["case", "visit", "file", "position", "comment"])
@pytest.mark.parametrize("descending", [False, True])
def test_review_windows_read_an_index_in_order(store: Store, sort: str, descending: bool) -> None:
    with store.write() as conn:
        image_rows.sync_scan(conn, [_rows(range(IMAGES))], now="t0")
        who = people.annotator_id(conn, "alice", now="t0")
        for image_id in range(1, IMAGES + 1, 3):
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=who,
                frame=0,
                label="NA",
                # Every other labelled image without a comment (the comment order's two groups).
                comment=f"retake {image_id % 17}" if image_id % 2 else "",
                labelled_at="t0",
                sha256=None,
                event_id=image_id,
                exists=False,
            )
    queries = [
        ReviewQuery(sort=sort, descending=descending, offset=0, **filters)
        for filters in ({}, {"label": "NA"}, {"case": "Case_3"})
    ] + [
        ReviewQuery(sort=sort, descending=descending, offset=100, after=250),
        ReviewQuery(sort=sort, descending=descending, offset=100, after=250, label="NA"),
        # A jump deep into the table, without a cursor.
        ReviewQuery(sort=sort, descending=descending, offset=IMAGES - 50),
    ]
    with Recorder(store) as recorder, store.read() as conn:
        for query in queries:
            assert review_page(conn, query, annotator_id=who, annotator="alice").rows
    for sql, lines in recorder.plans():
        plan = "\n".join(lines)
        assert "Seq Scan on images" not in plan, (sql, plan)
        assert "Seq Scan on labels" not in plan, (sql, plan)
        if "ORDER BY" in sql:
            # Ordered by an index; at most the ties of one key are sorted (Incremental Sort).
            assert not [line for line in lines if line.strip().startswith("->  Sort")], plan
            assert not [line for line in lines if line.startswith("Sort")], plan
