"""An import's recount of the review's kept counts per case and label (store.label_counts) reads
the labels of the cases it wrote, found from those cases' images, not every label of the reader.

Driven by `annotator_id`, SQLite's plan walked all of the reader's labels for each chunk of an
import, so an import grew with the square of its size (100,000 rows: 1.4 s of CPU in that
statement, 5.7x the bare process instead of 4.3x; issue 12).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.labelling import importer
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import make_batch
from .test_import_setbased import LAYOUT, ROWS, _csv


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def _assert_labels_found_by_image(project: Project, statements: list[tuple[str, Any]]) -> None:
    """Each statement's plan reads `labels` only by their unique key, from an image id."""
    with project.store.read() as conn:
        for sql, params in statements:
            plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            on_labels = [d for d in plan if d.split()[1:2] == ["labels"]]
            assert on_labels and all("image_id=?" in d for d in on_labels), plan


def test_the_recount_of_an_import_chunk_reads_only_its_cases_labels(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("query plans are read from SQLite's EXPLAIN QUERY PLAN")
    from .conftest import label_two

    monkeypatch.setattr(importer, "CHUNK", 100)  # several chunks: later ones meet earlier labels
    # Dr A has labels: the import counts its cases again (a reader's first labels are counted
    # as they are written, test_import_first_labels).
    label_two(project)
    recounts: list[tuple[str, Any]] = []

    def heard(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("INSERT INTO CASE_LABEL_COUNTS"):
            recounts.append((str(args[2]), args[3]))

    event.listen(project.store.engine, "before_cursor_execute", heard)
    try:
        report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    finally:
        event.remove(project.store.engine, "before_cursor_execute", heard)
    assert report.imported + report.unchanged == len(ROWS)
    assert recounts
    # Each label found by its unique key from an image of the cases written.
    _assert_labels_found_by_image(project, recounts)


def test_the_kept_counts_per_case_and_label_equal_a_recount_after_imports(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import label_two
    from .test_import_first_labels import kept_and_counted

    monkeypatch.setattr(importer, "CHUNK", 70)  # chunks that cut cases in two
    label_two(project)  # Dr A has a time-kept session's labels before the imports
    import_labels(project, _csv(tmp_path / "a.csv", ROWS[::2]), annotator="Dr A")
    import_labels(project, _csv(tmp_path / "b.csv", ROWS, shift=1), annotator="Dr A")
    import_labels(project, _csv(tmp_path / "c.csv", ROWS[5::3]), annotator="Dr B")
    kept, counted = kept_and_counted(project)
    assert kept == counted
    assert {row[0] for row in kept} == {1, 2}  # both readers counted


def test_a_save_that_is_a_case_s_first_label_of_its_kind_counts_only_that_case(
    project: Project,
) -> None:
    """The first label of a kind in a case has no kept row to move: it is counted from the
    case's labels. Counted with the label in the WHERE clause, SQLite took the (annotator,
    frame, label) index and read every label of that kind in the project: 140 ms a save at a
    million images (bench_scale's save p50 went from 5.5 to 168 ms)."""
    if project.store.dialect != "sqlite":
        pytest.skip("query plans are read from SQLite's EXPLAIN QUERY PLAN")
    from clinlabel.labelling.service import LabellingSession

    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    sent: list[tuple[str, Any]] = []

    def heard(*args: Any) -> None:
        sent.append((str(args[2]), args[3]))

    event.listen(project.store.engine, "before_cursor_execute", heard)
    try:
        session.save_label(first.id, "Suspicious")
    finally:
        event.remove(project.store.engine, "before_cursor_execute", heard)
        session.close()
    counts = [(sql, params) for sql, params in sent if "count(image_seconds.image_id)" in sql]
    assert counts  # the long way was taken: the case had no row of the kind
    _assert_labels_found_by_image(project, counts)


def test_an_import_writes_with_the_write_cache_and_gives_the_connection_back_with_its_own(
    project: Project, tmp_path: Path
) -> None:
    """With SQLite's default 2 MB cache an import's rows, going into an index on file names at
    a hundred places at once, pushed its pages out to the WAL and read them back mid-write."""
    if project.store.dialect != "sqlite":
        pytest.skip("PostgreSQL sizes its own buffers")
    from clinlabel.store.page_cache import WRITE_CACHE_KIB

    with project.store.read() as conn:
        default = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    assert default != -WRITE_CACHE_KIB
    seen: list[int] = []

    def heard(_c: Any, cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith("INSERT INTO CASE_LABEL_COUNTS"):
            seen.append(int(cursor.connection.execute("PRAGMA cache_size").fetchone()[0]))

    event.listen(project.store.engine, "before_cursor_execute", heard)
    try:
        report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    finally:
        event.remove(project.store.engine, "before_cursor_execute", heard)
    assert report.imported == len(ROWS)
    assert seen and set(seen) == {-WRITE_CACHE_KIB}
    with project.store.read() as conn:
        assert int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one()) == default
