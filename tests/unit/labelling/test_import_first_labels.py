"""An import of a reader's first labels: its kept counts are written from the rows it adds, and
on SQLite the labels' secondary indexes are built once after the inserts (issue 12).

Both shortcuts must leave exactly what the long way leaves: counts equal to a recount from the
labels (with the reader's kept time, and after labels cleared to rows of 0), the same indexes
as the schema declares, and nothing at all when the import fails half-way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinlabel.errors import ImportFileError
from clinlabel.labelling import importer
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.label_counts import _PER_LABEL_NOW

from .conftest import FakeClock, make_batch
from .test_import_setbased import LAYOUT, ROWS, _csv
from .test_import_setbased import _statements as statements


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def kept_and_counted(project: Project) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with project.store.read() as conn:
        kept = sorted(
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT annotator_id, case_name, label, labelled, commented, timed"
                " FROM case_label_counts WHERE labelled > 0"
            )
        )
        counted = sorted(tuple(r) for r in conn.execute(_PER_LABEL_NOW))
    return kept, counted


def _label_indexes(project: Project) -> list[tuple[str, str]]:
    with project.store.read() as conn:
        return sorted(
            (str(r[0]), str(r[1]))
            for r in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = 'labels' AND sql IS NOT NULL"
            )
        )


def _said(sent: list[str]) -> list[str]:
    """The statements in one case and spacing, to look for words in them."""
    return [" ".join(sql.split()).upper() for sql in sent]


def test_a_first_import_counts_what_it_adds_with_the_comments(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK", 70)  # chunks that cut cases in two
    with statements(project) as sent:
        report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr B")
    assert report.imported == len(ROWS)
    # Counted from the rows, not by reading the labels just written.
    counts_read = [s for s in _said(sent) if "INSERT INTO CASE_LABEL_COUNTS" in s and "SELECT" in s]
    assert not counts_read
    kept, counted = kept_and_counted(project)
    assert kept == counted
    assert any(row[4] for row in kept)  # NA rows carry comments: counted as commented
    assert sum(row[3] for row in kept) == len(ROWS)


def test_a_reader_with_kept_time_and_no_label_is_counted_with_the_time(
    project: Project, tmp_path: Path
) -> None:
    """Time on images counts in `timed`: such a reader's first import is counted from the
    labels, where each image's kept time is probed."""
    clock = FakeClock()
    session = LabellingSession(project, annotator="Dr B", clock=clock)
    session.start()
    for _ in range(3):  # three images looked at for a while, none labelled
        clock.advance(7)
        session.touch()
        session.next()
    session.close()
    report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr B")
    assert report.imported == len(ROWS)
    kept, counted = kept_and_counted(project)
    assert kept == counted
    assert sum(row[5] for row in kept) >= 3  # the images with time are counted as timed


def test_a_reader_whose_labels_were_all_cleared_imports_again(
    project: Project, tmp_path: Path
) -> None:
    """Clearing every label leaves the reader's count rows at 0: the next import, again the
    reader's first labels, must replace them, not collide with them."""
    session = LabellingSession(project, annotator="Dr B")
    first = session.start().view
    session.save_label(first.id, "Suspicious")
    session.clear_label(first.id)
    session.close()
    with project.store.read() as conn:
        zero = conn.exec_driver_sql(
            "SELECT count(*) FROM case_label_counts WHERE labelled = 0"
        ).scalar_one()
    assert zero  # the row the cleared label left
    import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr B")
    kept, counted = kept_and_counted(project)
    assert kept == counted


def test_a_first_import_into_a_fresh_project_builds_the_label_indexes_after_its_rows(
    project: Project, tmp_path: Path
) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("the indexes are built again on SQLite only")
    before = _label_indexes(project)
    assert len(before) == 4
    with statements(project) as sent:
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert sum(sql.startswith("DROP INDEX") for sql in _said(sent)) == 4
    assert sum(sql.startswith("CREATE INDEX") for sql in _said(sent)) == 4
    assert _label_indexes(project) == before
    with project.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        # The review's label-filtered file order still reads its index.
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT image_id FROM labels WHERE annotator_id = 1"
                " AND frame = 0 AND label = 'NA' ORDER BY file_key"
            )
        )
    assert "ix_labels_annotator_label_file_key" in plan


def test_an_import_into_a_table_of_many_labels_keeps_the_indexes(
    project: Project, tmp_path: Path
) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("the indexes are built again on SQLite only")
    import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    # Dr B's first labels are as many as the table holds: each goes into the indexes.
    with statements(project) as sent:
        import_labels(project, _csv(tmp_path / "b.csv", ROWS, shift=1), annotator="Dr B")
    assert not [sql for sql in _said(sent) if sql.startswith(("DROP INDEX", "CREATE INDEX"))]
    kept, counted = kept_and_counted(project)
    assert kept == counted


def test_an_import_failing_after_its_first_chunk_leaves_no_label_and_every_index(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _label_indexes(project) if project.store.dialect == "sqlite" else []
    monkeypatch.setattr(importer, "CHUNK", 100)
    real_write = importer._Writer.write
    written: list[int] = []

    def write_then_fail(self: Any, conn: Any, chunk: Any) -> None:
        real_write(self, conn, chunk)
        written.append(1)
        if len(written) == 2:
            raise ImportFileError("the disk is full")

    monkeypatch.setattr(importer._Writer, "write", write_then_fail)
    with pytest.raises(ImportFileError):
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert len(written) == 2
    with project.store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM labels").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM case_label_counts").scalar_one() == 0
    if project.store.dialect == "sqlite":
        assert _label_indexes(project) == before
    # And the same import then goes in whole.
    monkeypatch.setattr(importer._Writer, "write", real_write)
    assert import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A").imported
    kept, counted = kept_and_counted(project)
    assert kept == counted
