"""Migration 0015 drops the labels' two indexes whose columns lead another index; a project
made before it opens without them, and every look-up they served still steps on an index.

`ix_labels_annotator` (annotator) and `ix_labels_annotator_label` (annotator, frame, label)
are the leading columns of `ix_labels_annotator_label_case_key`: each label added wrote both
for nothing (issue 12's bulk import). A plan that fell back to reading the whole labels table
would make a save, the review's label order and an import's first count grow with the project.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.imports import _LABELLED_OF, has_labels
from clinlabel.store.labels import _LABELLED_NOW
from clinlabel.store.migrations import head_revision
from clinlabel.store.schema import labels
from clinlabel.store.store import Store

from .labelled_store import image_ref, labelled_store

IMAGES = 300
DROPPED = {"ix_labels_annotator", "ix_labels_annotator_label"}


def _labelled_project(tmp_path: Path) -> int:
    refs = [image_ref(i, per_case=30, per_visit=10, visits=3) for i in range(IMAGES)]
    return labelled_store(tmp_path, refs)


def _indexes(conn: Connection) -> set[str]:
    return {
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'labels'"
        )
    }


def test_a_project_made_before_0015_opens_without_the_two_indexes_and_keeps_its_labels(
    tmp_path: Path,
) -> None:
    who = _labelled_project(tmp_path)
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("CREATE INDEX ix_labels_annotator ON labels (annotator_id)")
        raw.execute("CREATE INDEX ix_labels_annotator_label ON labels (annotator_id, frame, label)")
        raw.execute("UPDATE alembic_version SET version_num = '0014'")
    upgraded = Store.open_dir(tmp_path)
    with upgraded.read() as conn:
        found = _indexes(conn)
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        counted = conn.execute(select(func.count()).where(labels.c.annotator_id == who)).scalar()
    upgraded.close()
    assert version == head_revision() == "0015"
    assert not found & DROPPED
    assert "ix_labels_annotator_label_case_key" in found
    assert counted == IMAGES // 2


def _plan(conn: Connection, statement: Any, params: dict[str, Any]) -> list[str]:
    compiled = statement.compile(dialect=conn.dialect)
    values = {**compiled.params, **params}
    return [
        str(r[-1])
        for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(values[name] for name in compiled.positiontup or ()),
        )
    ]


def test_the_lookups_the_dropped_indexes_served_still_step_on_an_index(tmp_path: Path) -> None:
    who = _labelled_project(tmp_path)
    store = Store.open_dir(tmp_path)
    statements: list[tuple[str, Any, dict[str, Any]]] = [
        # An import's first question: has the reader any label?
        ("has labels", select(labels.c.id).where(labels.c.annotator_id == who).limit(1), {}),
        # The labelled count an import or a first save writes into the kept progress.
        ("labelled of", _LABELLED_OF, {"p_annotator": who}),
        ("labelled now", _LABELLED_NOW.where(labels.c.annotator_id == who), {}),
        # The review's label order steps through the label values one probe at a time.
        (
            "label step",
            select(func.min(labels.c.label)).where(
                labels.c.annotator_id == who, labels.c.frame == 0, labels.c.label > bindparam("v")
            ),
            {"v": ""},
        ),
    ]
    with store.read() as conn:
        assert has_labels(conn, annotator_id=who)
        for name, statement, params in statements:
            plan = _plan(conn, statement, params)
            on_labels = [line for line in plan if line.split()[1:2] == ["labels"]]
            assert on_labels, (name, plan)
            # A search on an index that leads with the annotator, not a scan of every label.
            assert all(
                line.startswith("SEARCH labels USING") and "(annotator_id=?" in line
                for line in on_labels
            ), (name, plan)
    store.close()
