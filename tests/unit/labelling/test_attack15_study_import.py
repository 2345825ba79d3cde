"""An import into a reading study keeps the study's rule that a reader's first read of an image
that comes back to them as a blinded repeat is final once given (`labelling.worklist`): the page
refuses its change, so must an import (issue 12's bulk import writes past the page's use case).
Otherwise a reader could re-read blind, or after meeting the repeat, and rewrite the first read
that test-retest agreement compares, with nothing but an ordinary `label_changed` to show."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinlabel.errors import ImportFileError
from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.worklist import reader_worklist

from .conftest import make_batch
from .test_study_design import LAYOUT, _label_all

READER = "Dr A"


@pytest.fixture
def study(tmp_path: Path, database_url: str | None) -> Iterator[Project]:
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as project:
        assign_study(
            project, [READER, "Dr B"], StudyDesign("per-image", per_image=1, repeats=1.0), seed=3
        )
        yield project


def _csv(path: Path, project: Project, image_ids: list[int], label: str) -> Path:
    wanted = set(image_ids)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for item in reader_worklist(project, READER).items:
            if not item.repeat and item.image_id in wanted:
                case, visit, file = item.relpath.split("/", 2)
                writer.writerow([case, visit, file, label, ""])
    return path


def _labels(project: Project) -> list[tuple[int, str]]:
    with project.store.read() as conn:
        return sorted(
            (int(r[0]), str(r[1]))
            for r in conn.exec_driver_sql("SELECT image_id, label FROM labels ORDER BY 1")
        )


def test_an_import_never_changes_a_first_read_that_is_final(study: Project, tmp_path: Path) -> None:
    items = reader_worklist(study, READER).items
    repeated = sorted({i.image_id for i in items if i.repeat})
    assert repeated  # every first read comes back as a repeat (repeats=1.0)
    _label_all(study, READER, "Suspicious")
    before = _labels(study)
    path = _csv(tmp_path / "a.csv", study, repeated, "Non-Suspicious")
    with pytest.raises(ImportFileError, match="final"):
        import_labels(study, path, annotator=READER)
    with pytest.raises(ImportFileError, match="final"):
        import_labels(study, path, annotator=READER, skip_unmatched=True, outside_worklist=True)
    assert _labels(study) == before
    # The same reads again change nothing: imported as unchanged.
    same = import_labels(
        study, _csv(tmp_path / "b.csv", study, repeated, "Suspicious"), annotator=READER
    )
    assert (same.imported, same.unchanged) == (0, len(repeated))


def test_an_import_gives_first_reads_not_given_yet(study: Project, tmp_path: Path) -> None:
    items = reader_worklist(study, READER).items
    firsts = sorted({i.image_id for i in items if not i.repeat})
    report = import_labels(
        study, _csv(tmp_path / "a.csv", study, firsts, "Suspicious"), annotator=READER
    )
    assert report.imported == len(firsts)
