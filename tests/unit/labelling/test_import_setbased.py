"""The import writes set-based (issue 12) and keeps every record a label save keeps (issue 14).

A hundred thousand rows took 603 s against 26 s at thirty thousand: about ten statements a row
through the label use case, in one growing transaction. Now a chunk of rows costs a fixed
handful of statements. These tests count the statements (not the time): importing thirty
times more rows must not issue more than a few more statements, and on SQLite no statement of
the import may walk a whole table of images or labels. The records must stay what a save
writes: the audit trail verifies, the kept progress counts equal a recount.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.audit.log import verify_store
from clinlabel.labelling import importer
from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project, init_project, open_project

from .conftest import label_two, make_batch

CASES = 6
PER_VISIT = 50
LAYOUT = {
    f"Case_{c}/Visit_{v}/XC": [f"img{n}.jpg" for n in range(1, PER_VISIT + 1)]
    for c in range(1, CASES + 1)
    for v in (1, 2)
}
ROWS = [
    (f"Case_{c}", f"Visit_{v}", f"img{n}.jpg")
    for c in range(1, CASES + 1)
    for v in (1, 2)
    for n in range(1, PER_VISIT + 1)
]


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def _csv(path: Path, rows: list[tuple[str, str, str]], *, shift: int = 0) -> Path:
    cycle = ("Suspicious", "Non-Suspicious", "NA")
    lines = ["case,visit,file,label,comment"]
    for k, (case, visit, file) in enumerate(rows):
        label = cycle[(k + shift) % 3]
        lines.append(f"{case},{visit},{file},{label},{'retake ' + str(k) if label == 'NA' else ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def _statements(project: Project) -> Iterator[list[str]]:
    """The SQL of every statement the database is sent (an executemany counts once)."""
    seen: list[str] = []

    def heard(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(project.store.engine, "before_cursor_execute", heard)
    try:
        yield seen
    finally:
        event.remove(project.store.engine, "before_cursor_execute", heard)


def test_thirty_times_the_rows_costs_only_a_few_more_statements(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK", 10_000)
    with _statements(project) as few:
        assert import_labels(project, _csv(tmp_path / "a.csv", ROWS[:20]), annotator="A").imported
    with _statements(project) as many:
        report = import_labels(project, _csv(tmp_path / "b.csv", ROWS), annotator="B")
    assert report.imported == len(ROWS) == 600
    # Look-ups by key go 400 keys to a statement: 600 rows need one more of each kind than 20.
    # A statement per row (the old write: about ten) would be thousands more.
    assert len(many) - len(few) <= 6, sorted(set(many) - set(few))


def test_no_statement_of_the_import_walks_the_images_or_labels(
    project: Project, tmp_path: Path
) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("query plans are read from SQLite's EXPLAIN QUERY PLAN")
    label_two(project)  # Dr A has labels and kept counts: the import changes and adds
    with _statements(project) as sent:
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    reads = {sql for sql in sent if sql.lstrip().upper().startswith("SELECT")}
    assert reads
    # No ANALYZE, as in a project (clinlabel never runs it): the planner then assumes large
    # tables, as they are at a million images; with statistics of this tiny batch it would
    # rightly prefer a scan of 600 rows.
    with project.store.read() as conn:
        for sql in sorted(reads):
            bound = sql.count("?")
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (1,) * bound).all()
            details = [str(row[-1]) for row in plan]
            walks = [
                d
                for d in details
                if d.startswith("SCAN ")
                and d.split()[1] in ("images", "labels", "events")
                # The chain's last link: the newest row of the events' integer key (one step).
                and not (d == "SCAN events" and "ORDER BY events.id DESC" in sql)
            ]
            assert not walks, (sql, details)


def _counts(project: Project) -> tuple[list[tuple[int, int]], list[tuple[int, str, int]]]:
    """The kept counts, and the same counted from the labels."""
    with project.store.read() as conn:
        kept = (
            [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM annotator_progress ORDER BY 1")],
            [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT annotator_id, case_name, labelled FROM case_labelled"
                    " WHERE labelled > 0 ORDER BY 1, 2"
                )
            ],
        )
        counted = (
            [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT labels.annotator_id, count(*) FROM labels JOIN images"
                    " ON images.id = labels.image_id WHERE labels.frame = 0 AND images.present"
                    " GROUP BY labels.annotator_id ORDER BY 1"
                )
            ],
            [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT labels.annotator_id, images.case_name, count(*) FROM labels JOIN"
                    " images ON images.id = labels.image_id WHERE labels.frame = 0 AND"
                    " images.seq IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
                )
            ],
        )
    assert kept == counted
    return kept  # type: ignore[return-value]


def test_an_import_over_saved_labels_keeps_the_trail_and_the_counts_right(
    project: Project, tmp_path: Path
) -> None:
    label_two(project)  # Dr A: Suspicious; NA "blurred" (Case_1/Visit_1)
    _counts(project)
    # Half of the rows: one of Dr A's two labels changes, the other stays, the rest are new.
    rows = ROWS[: len(ROWS) // 2]
    report = import_labels(project, _csv(tmp_path / "a.csv", rows), annotator="Dr A")
    assert report.imported + report.unchanged == len(rows)
    progress, per_case = _counts(project)
    assert progress == [(1, len(rows))]
    assert sum(n for *_, n in per_case) == len(rows)
    # Then every row, labels shifted: the first half changes, the second half is new.
    again = import_labels(project, _csv(tmp_path / "b.csv", ROWS, shift=1), annotator="Dr A")
    assert (again.imported, again.unchanged) == (len(ROWS), 0)
    assert _counts(project)[0] == [(1, len(ROWS))]
    assert verify_store(project.store).ok
    with project.store.read() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT kind, count(*) FROM events"
                " WHERE kind IN ('label_saved', 'label_changed') GROUP BY kind"
            ).all()
        )
        hashed = conn.exec_driver_sql(
            "SELECT count(*) FROM images WHERE sha256 IS NOT NULL"
        ).scalar_one()
    # One event per label written: 2 saves, then the import's new and changed labels.
    assert kinds["label_saved"] == len(ROWS)
    assert kinds["label_changed"] == report.imported - (len(rows) - 2) + len(rows)
    assert hashed == len(ROWS)  # every labelled image's bytes recorded, each once


def test_audit_verify_passes_after_an_import(tmp_path: Path, batch: Path) -> None:
    """What `clinlabel audit verify` runs (SQLite project folder)."""
    init_project(batch, tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        label_two(project)
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
        import_labels(project, _csv(tmp_path / "b.csv", ROWS[::7], shift=2), annotator="Dr B")
    status = verify_project(tmp_path / "project")
    assert status.ok, status
