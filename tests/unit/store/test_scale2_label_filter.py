"""A label filter's first window counts the label on the labels' index alone (issue 14: 0.2 to
0.8 s at a million images when every labelled row probed its image for presence).

The count must stay exact when labelled images have gone from the batch (their labels are kept,
not counted), and a deep jump in the label order counts the label groups the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

IMAGES = 900


def _label_of(image_id: int) -> str | None:
    if image_id % 3 == 0:
        return None
    return "NA" if image_id % 3 == 1 else "Suspicious"


def _project(folder: Path) -> tuple[Store, int]:
    """Every image labelled but a third; then the images of Case_2 and Case_5 gone."""
    store = Store.open_dir(folder)
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
        )
        who = people.annotator_id(conn, "alice", now="t0")
        for image_id in range(1, IMAGES + 1):
            label = _label_of(image_id)
            if label is not None:
                label_rows.put_label(
                    conn,
                    image_id=image_id,
                    annotator_id=who,
                    frame=0,
                    label=label,
                    comment="",
                    labelled_at="t0",
                    sha256=None,
                    event_id=image_id,
                    exists=False,
                )
    kept = [i for i in range(IMAGES) if i // 100 not in (2, 5)]
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(s, _ref(i)) for s, i in enumerate(kept, 1)]], now="t1"
        )
    # No ANALYZE: clinlabel never runs it, so the planner has no statistics in a real project.
    return store, who


def _present(conn: Any, who: int) -> list[tuple[int, str | None]]:
    """(position, label) of every present image, in queue order, counted the plain way."""
    return [
        (int(r[0]), r[1])
        for r in conn.exec_driver_sql(
            "SELECT images.seq, labels.label FROM images LEFT JOIN labels ON labels.image_id = "
            "images.id AND labels.annotator_id = ? AND labels.frame = 0 WHERE images.seq IS NOT "
            "NULL ORDER BY images.seq",
            (who,),
        )
    ]


def test_the_label_filters_total_leaves_out_gone_images(tmp_path: Path) -> None:
    store, who = _project(tmp_path)
    with store.read() as conn:
        present = _present(conn, who)
        for label in ("NA", "Suspicious", "nothing such"):
            page = review_page(
                conn, ReviewQuery(label=label, limit=500), annotator_id=who, annotator="alice"
            )
            assert page.total == sum(1 for _, value in present if value == label)
            assert [r.position for r in page.rows] == [p for p, v in present if v == label][:500]
        # A deep jump in the label order counts each label's group the same way.
        order = [p for p, v in present if v == "NA"]
        order += [p for p, v in present if v == "Suspicious"]
        order += [p for p, v in present if v is None]
        for offset in (0, 250, len(order) - 100):
            page = review_page(
                conn,
                ReviewQuery(sort="label", offset=offset, limit=100),
                annotator_id=who,
                annotator="alice",
            )
            assert [r.position for r in page.rows] == order[offset : offset + 100], offset
    store.close()


def test_the_label_filters_count_reads_no_image_per_label(tmp_path: Path) -> None:
    store, who = _project(tmp_path)
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
        if "count(" in sql.lower():
            statements.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.read() as conn:
            for query in (ReviewQuery(label="NA"), ReviewQuery(sort="label", offset=400)):
                assert review_page(conn, query, annotator_id=who, annotator="alice").rows
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert statements
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            lines = [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            # Labels counted on their index alone; images reached only as the gone ones.
            assert not [line for line in lines if line.startswith("SCAN")], (sql, lines)
            assert not [line for line in lines if "PRIMARY KEY" in line], (sql, lines)
            labels_lines = [line for line in lines if line.startswith("SEARCH labels")]
            assert all(
                "COVERING INDEX" in line or "(image_id=? AND annotator_id=? AND frame=?)" in line
                for line in labels_lines
            ), (
                sql,
                lines,
            )
    store.close()
