"""A project made by the clinlabel before migration 0015 (schema 0014) is read as it is where it
cannot be written (`audit verify`, reports, a burnt DVD): 0015 only dropped two indexes that a
third covers, so nothing a read needs is missing. Refusing it ("must be upgraded") would lock a
reader out of yesterday's project for nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import func, inspect, select

from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.migrations import head_revision
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.schema import labels
from clinlabel.store.store import Store

from ..labelling.conftest import label_two, make_batch
from .test_label_indexes_migration import IMAGES, _indexes, _labelled_project


def _at_0014(folder: Path) -> int:
    """A labelled project as 0014 left it: the two indexes there, the version 0014."""
    who = _labelled_project(folder)
    with sqlite3.connect(folder / DATABASE_FILE) as raw:
        raw.execute("CREATE INDEX ix_labels_annotator ON labels (annotator_id)")
        raw.execute("CREATE INDEX ix_labels_annotator_label ON labels (annotator_id, frame, label)")
        raw.execute("UPDATE alembic_version SET version_num = '0014'")
    return who


def test_a_0014_project_opens_read_only_unchanged_and_reads_its_labels(tmp_path: Path) -> None:
    who = _at_0014(tmp_path)
    store = Store.open_dir(tmp_path, read_only=True)
    try:
        with store.read() as conn:
            counted = conn.execute(
                select(func.count()).where(labels.c.annotator_id == who)
            ).scalar_one()
            page = review_page(
                conn,
                ReviewQuery(sort="file", label="NA", limit=5),
                annotator_id=who,
                annotator="alice",
            )
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            kept = _indexes(conn)
        assert counted == IMAGES // 2 and len(page.rows) == 5
    finally:
        store.close()
    # Nothing was written: still 0014, its indexes there (a writing open migrates it).
    assert version == "0014"
    assert {"ix_labels_annotator", "ix_labels_annotator_label"} <= kept


def test_audit_verify_of_a_0014_project_passes_and_writes_nothing(tmp_path: Path) -> None:
    """What `clinlabel audit verify` runs on a project made before the upgrade."""
    init_project(make_batch(tmp_path / "Batch"), tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        label_two(project)
    database = tmp_path / "project" / DATABASE_FILE
    with sqlite3.connect(database) as raw:
        raw.execute("CREATE INDEX ix_labels_annotator ON labels (annotator_id)")
        raw.execute("CREATE INDEX ix_labels_annotator_label ON labels (annotator_id, frame, label)")
        raw.execute("UPDATE alembic_version SET version_num = '0014'")
    status = verify_project(tmp_path / "project")
    assert status.ok, status
    with sqlite3.connect(database) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0014",)]


def test_a_0014_project_on_either_database_migrates_to_head_without_the_two_indexes(
    tmp_path: Path, database_url: str | None
) -> None:
    def opened() -> Store:
        return Store.open_dir(tmp_path) if database_url is None else Store.open_url(database_url)

    store = opened()
    with store.write() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_labels_annotator ON labels (annotator_id)")
        conn.exec_driver_sql(
            "CREATE INDEX ix_labels_annotator_label ON labels (annotator_id, frame, label)"
        )
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0014'")
    store.close()
    store = opened()
    try:
        with store.read() as conn:
            names = {index["name"] for index in inspect(conn).get_indexes("labels")}
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        store.close()
    assert version == head_revision()
    assert not names & {"ix_labels_annotator", "ix_labels_annotator_label"}
    assert "ix_labels_annotator_label_case_key" in names
