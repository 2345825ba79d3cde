"""Attacks on the import's shortcuts for a reader's first labels (issue 12): the labels' indexes
dropped and built again on SQLite, and the kept counts written from the rows added.

Whatever the database holds, such an import must leave what the long way leaves (or better: the
schema's indexes), never fail where the long way went through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import make_batch
from .test_import_first_labels import _kept_and_counted, _label_indexes
from .test_import_setbased import LAYOUT, ROWS, _csv


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def _sqlite_only(project: Project) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("the labels' indexes are built again on SQLite only")


def test_a_first_import_goes_in_when_a_label_index_was_dropped_by_hand(
    project: Project, tmp_path: Path
) -> None:
    """Someone dropped one of the labels' indexes (a repair by hand, a tool): the import that
    drops them to build them again must not fail on the missing one, and leaves all four."""
    _sqlite_only(project)
    schema = _label_indexes(project)
    with project.store.write() as conn:
        conn.exec_driver_sql("DROP INDEX ix_labels_annotator_comment")
    report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert report.imported == len(ROWS)
    assert _label_indexes(project) == schema
    kept, counted = _kept_and_counted(project)
    assert kept == counted
    with project.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert verify_store(project.store).ok
