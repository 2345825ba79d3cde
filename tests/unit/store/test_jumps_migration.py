"""A project made before migration 0013 opens with its kept counts per case and label filled,
and its jumps land on the same rows as a walk of the queue."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.label_counts import _PER_LABEL_NOW
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.schema import case_label_counts
from clinlabel.store.seconds import add_event_time
from clinlabel.store.store import Store

from .labelled_store import image_ref, labelled_store

IMAGES = 600


def _positions(conn: Any, who: int, **fields: Any) -> list[int]:
    page = review_page(conn, ReviewQuery(limit=20, **fields), annotator_id=who, annotator="alice")
    return [r.position for r in page.rows]


def test_a_project_made_before_0013_gets_its_counts_and_exact_jumps(tmp_path: Path) -> None:
    refs = [image_ref(i, per_case=60, per_visit=60, visits=1) for i in range(IMAGES)]
    who = labelled_store(tmp_path, refs, comments=True)
    store = Store.open_dir(tmp_path)
    with store.write() as conn:
        add_event_time(
            conn, [{"actor": "alice", "image_id": i, "active_ms": 900} for i in range(1, 200)]
        )
    with store.read() as conn:
        before = {
            sort: _positions(conn, who, sort=sort, offset=offset, **filters)
            for sort, offset, filters in [
                ("label", 250, {}),
                ("comment", 400, {}),
                ("seconds", 150, {"unlabelled": True}),
                ("position", 100, {"label": "NA"}),
            ]
        }
    store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP TABLE case_label_counts")
        for key in ("case_key", "visit_key", "file_key"):  # and what 0014 adds
            raw.execute(f"DROP INDEX ix_labels_annotator_label_{key}")
            raw.execute(f"ALTER TABLE labels DROP COLUMN {key}")
        raw.execute("UPDATE alembic_version SET version_num = '0012'")
    upgraded = Store.open_dir(tmp_path)
    with upgraded.read() as conn:
        kept = {tuple(r[:3]): tuple(r[3:]) for r in conn.execute(select(case_label_counts))}
        counted = {tuple(r[:3]): tuple(r[3:]) for r in conn.execute(_PER_LABEL_NOW)}
        after = {
            sort: _positions(conn, who, sort=sort, offset=offset, **filters)
            for sort, offset, filters in [
                ("label", 250, {}),
                ("comment", 400, {}),
                ("seconds", 150, {"unlabelled": True}),
                ("position", 100, {"label": "NA"}),
            ]
        }
    upgraded.close()
    assert kept == counted and len(kept) == IMAGES // 60 * 2
    assert sum(timed for _, _, timed in kept.values()) == len(range(1, 200, 2))
    assert after == before and all(after.values())


def test_images_leaving_and_rejoining_the_queue_move_the_kept_counts(tmp_path: Path) -> None:
    """The stepped rescan moves the counts of images it takes out of the queue, and of those
    that come back, as it moves `case_labelled` (store.case_counts.shift_counts)."""
    from clinlabel.store.case_counts import shift_counts
    from clinlabel.store.schema import images

    refs = [image_ref(i, per_case=60, per_visit=60, visits=1) for i in range(IMAGES)]
    labelled_store(tmp_path, refs, comments=True)
    store = Store.open_dir(tmp_path)
    with store.write() as conn:
        add_event_time(
            conn, [{"actor": "alice", "image_id": i, "active_ms": 900} for i in range(1, 200)]
        )
    leaving = list(range(61, 181))  # two whole cases and more
    with store.write() as conn:
        shift_counts(conn, leaving, delta=-1)
        conn.execute(images.update().where(images.c.id.in_(leaving)).values(seq=None))
        _counts_match(conn)
        conn.execute(
            images.update().where(images.c.id.in_(leaving)).values(seq=images.c.id + IMAGES)
        )
        shift_counts(conn, leaving, delta=1)
        _counts_match(conn)
    store.close()


def _counts_match(conn: Any) -> None:
    kept = {
        tuple(r[:3]): tuple(r[3:]) for r in conn.execute(select(case_label_counts)) if any(r[3:])
    }
    counted = {tuple(r[:3]): tuple(r[3:]) for r in conn.execute(_PER_LABEL_NOW)}
    assert kept == counted
