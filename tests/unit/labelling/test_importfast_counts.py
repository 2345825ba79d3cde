"""A reader's first import sets their kept counts from what it added (issue 12: counting them
from the labels just written walked every one of them); the counts are still the ones counted
from the labels, for a new reader, a reader with labels, and one whose labels were all cleared."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project
from clinlabel.store import imports as import_rows

from .conftest import label_two, make_batch
from .test_import_setbased import LAYOUT, ROWS, _counts, _csv, _statements


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def test_a_new_reader_s_counts_are_what_the_import_added_and_no_label_is_counted(
    project: Project, tmp_path: Path
) -> None:
    label_two(project)  # Dr A has labels and kept counts; Dr B, the importer, has none
    before = _counts(project)
    rows = ROWS[::3]
    with _statements(project) as sent:
        report = import_labels(project, _csv(tmp_path / "b.csv", rows), annotator="Dr B")
    assert report.imported == len(rows)
    # The review's counts per case and label are counted again for the cases a chunk wrote, from
    # those cases' images (test_import_label_counts_plan.py): nothing else is counted.
    assert not [
        sql
        for sql in sent
        if "count(" in sql.lower() and not sql.startswith("INSERT INTO case_label_counts")
    ]
    progress, per_case = _counts(project)  # kept == counted from the labels
    assert len(progress) == len(before[0]) + 1 and progress[-1][1] == len(rows)
    assert sum(n for annotator, _, n in per_case if annotator == progress[-1][0]) == len(rows)
    # Again for Dr B, who now has labels: moved by what is added, still equal to the count.
    again = import_labels(project, _csv(tmp_path / "c.csv", ROWS, shift=1), annotator="Dr B")
    assert again.imported + again.unchanged == len(ROWS)
    assert _counts(project)[0][-1][1] == len(ROWS)


def test_the_first_labels_are_told_apart_from_a_reader_with_labels(
    project: Project, tmp_path: Path
) -> None:
    label_two(project)
    with project.store.read() as conn:
        ids = dict(conn.exec_driver_sql("SELECT name, id FROM annotators").all())
        assert import_rows.has_labels(conn, annotator_id=ids["Dr A"])
        assert not import_rows.has_labels(conn, annotator_id=max(ids.values()) + 1)
