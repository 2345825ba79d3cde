"""A project made before migration 0014 opens with its labels holding their images' name keys,
and its label-filtered case, visit and file windows show the same rows as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinlabel.store import review
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.schema import images, labels
from clinlabel.store.store import Store

from .labelled_store import image_ref, labelled_store

IMAGES = 400
KEYS = ("case_key", "visit_key", "file_key")
WINDOWS = [
    (sort, descending, offset)
    for sort in ("case", "visit", "file")
    for descending in (False, True)
    for offset in (0, 30, 70, 120)
]


def _windows(conn: Any, who: int) -> list[list[int]]:
    return [
        [
            r.position
            for r in review_page(
                conn,
                ReviewQuery(sort=sort, descending=descending, offset=offset, limit=15, label="NA"),
                annotator_id=who,
                annotator="alice",
            ).rows
        ]
        for sort, descending, offset in WINDOWS
    ]


def test_a_project_made_before_0014_gets_its_label_keys_and_the_same_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = labelled_store(
        tmp_path, [image_ref(i, per_case=40, per_visit=10, visits=4) for i in range(IMAGES)]
    )
    store = Store.open_dir(tmp_path)
    with store.read() as conn:
        before = _windows(conn, who)
    store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        for key in KEYS:
            raw.execute(f"DROP INDEX ix_labels_annotator_label_{key}")
            raw.execute(f"ALTER TABLE labels DROP COLUMN {key}")
        raw.execute("UPDATE alembic_version SET version_num = '0013'")
    upgraded = Store.open_dir(tmp_path)
    monkeypatch.setattr(review, "_SKIP_WALK", 0)  # the keys on the labels' index at every offset
    with upgraded.read() as conn:
        copied = conn.execute(
            select(labels.c.image_id, *(labels.c[k] for k in KEYS)).order_by(labels.c.image_id)
        ).all()
        own = {
            int(r[0]): tuple(r[1:])
            for r in conn.execute(select(images.c.id, *(images.c[k] for k in KEYS)))
        }
        after = _windows(conn, who)
        indexes = {
            str(r[0])
            for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
    upgraded.close()
    assert len(copied) == IMAGES // 2
    assert all(tuple(r[1:]) == own[int(r[0])] and None not in r for r in copied)
    assert {f"ix_labels_annotator_label_{key}" for key in KEYS} <= indexes
    assert after == before and all(after)
