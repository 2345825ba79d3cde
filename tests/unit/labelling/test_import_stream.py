"""A CSV import read, matched and written in chunks gives what a whole-file import gave.

The import streams (issue 14: 488 MB held at 300,000 rows): rows are matched a chunk at a time
against the visits they name, kept in compact arrays, and written in one transaction. Here the
chunks are made tiny, so that every kind of row (unknown case or visit, ambiguous bare name,
broken label, the same image named twice) sits on both sides of a chunk boundary, and the
outcome must be exactly that of one chunk: the same rows imported, the same rows reported, and
nothing at all written when a row anywhere is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.errors import ImportFileError
from clinlabel.labelling import importer
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import make_batch

LAYOUT = {
    "Case_1/Visit_1/XC": ["img1.jpg", "img2.jpg", "img10.jpg"],
    "Case_1/Visit_1/CLINICAL": ["img1.jpg"],  # the bare name img1.jpg is ambiguous
    "Case_2/Visit_1/XC": ["a.png", "b.png"],
    "Case_3/Visit_1/XC": ["c.png"],
}

CSV = """case,visit,file,label,comment
Case_1,Visit_1,img2.jpg,Suspicious,
Case_1,Visit_1,XC/img10.jpg,NA,blurred
Case_2,Visit_1,a.png,NA,
Case_9,Visit_1,x.png,Suspicious,
Case_2,Visit_7,a.png,Suspicious,
Case_1,Visit_1,img1.jpg,Suspicious,
Case_1,Visit_1,img2.jpg,Non-Suspicious,
Case_2,Visit_1,a.png,Suspicious,
Case_3,Visit_1,c.png,NA,
Case_2,Visit_1,b.png,Suspicious,
"""


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


@pytest.fixture(params=[2, 3, importer.CHUNK], ids=lambda n: f"chunk{n}")
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(importer, "CHUNK", request.param)
    return int(request.param)


def _labels(project: Project) -> dict[str, tuple[str, str]]:
    with project.store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT images.relpath, labels.label, labels.comment FROM labels "
            "JOIN images ON images.id = labels.image_id"
        ).all()
    return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}


def _events(project: Project) -> int:
    with project.store.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one())


def test_a_wrong_row_anywhere_imports_nothing_and_every_problem_is_named(
    project: Project, tmp_path: Path, chunk: int
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(CSV, encoding="utf-8")
    events = _events(project)
    with pytest.raises(ImportFileError) as raised:
        import_labels(project, path, annotator="Dr B")
    message = raised.value.message
    assert "2 rows match no image" in message
    assert "line 5 (no case 'Case_9' in the batch)" in message
    assert "line 6 (no visit 'Visit_7' in case 'Case_2')" in message
    assert "1 rows match several images: line 7 (img1.jpg could be" in message
    # Line 4 breaks the comment rule too, but line 9 names the same image later and wins.
    assert "1 rows have a label that breaks a rule: line 10 (" in message
    assert "line 4" not in message
    assert _labels(project) == {} and _events(project) == events


def test_skipping_imports_the_rest_with_the_last_row_of_each_image(
    project: Project, tmp_path: Path, chunk: int
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_labels(project, path, annotator="Dr B", skip_unmatched=True)
    assert (report.imported, report.unchanged) == (4, 0)
    assert _labels(project) == {
        "Case_1/Visit_1/XC/img2.jpg": ("Non-Suspicious", ""),
        "Case_1/Visit_1/XC/img10.jpg": ("NA", "blurred"),
        "Case_2/Visit_1/XC/a.png": ("Suspicious", ""),
        "Case_2/Visit_1/XC/b.png": ("Suspicious", ""),
    }
    duplicates = sorted(
        (d.relpath, d.kept.line, [r.line for r in d.superseded]) for d in report.match.duplicates
    )
    assert duplicates == [
        ("Case_1/Visit_1/XC/img2.jpg", 8, [2]),
        ("Case_2/Visit_1/XC/a.png", 9, [4]),
    ]
    assert [u.row.line for u in report.match.unknown] == [5, 6]
    assert [a.row.line for a in report.match.ambiguous] == [7]
    assert [row.line for row, _ in report.invalid] == [10]
    assert verify_store(project.store).ok
    again = import_labels(project, path, annotator="Dr B", skip_unmatched=True)
    assert (again.imported, again.unchanged) == (0, 4)


def test_a_malformed_last_row_imports_nothing_though_earlier_chunks_matched(
    project: Project, tmp_path: Path, chunk: int
) -> None:
    path = tmp_path / "in.csv"
    good = "".join(f"Case_2,Visit_1,{name},Suspicious,,\n" for name in ("a.png", "b.png") * 3)
    path.write_text(
        f"case,visit,file,label,comment,frame\n{good}Case_3,Visit_1,c.png,Suspicious,,x\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError, match="line 8 has frame 'x'"):
        import_labels(project, path, annotator="Dr B", skip_unmatched=True)
    assert _labels(project) == {}


def test_the_import_reports_rows_read_and_labels_written_with_their_totals(
    project: Project, tmp_path: Path, chunk: int
) -> None:
    """A long import shows counts (rows done of total, from which the bar derives a rate),
    not only what it is doing (issue 14)."""
    good = "case,visit,file,label,comment\n" + "".join(
        f"Case_2,Visit_1,{name},Suspicious,\n" for name in ("a.png", "b.png")
    )
    good += "Case_3,Visit_1,c.png,NA,blurred"  # the last line without a line break
    path = tmp_path / "good.csv"
    path.write_text(good, encoding="utf-8")
    heard: list[tuple[str, int, int | None]] = []
    report = import_labels(
        project, path, annotator="Dr B", progress=lambda *call: heard.append(call)
    )
    assert report.imported == 3
    reading = [(done, total) for stage, done, total in heard if stage == importer.READING]
    writing = [(done, total) for stage, done, total in heard if stage == importer.WRITING]
    assert reading[0] == (0, 3) and reading[-1] == (3, 3)
    assert writing[0] == (0, 3) and writing[-1] == (3, 3)
    # Counts only go up, and never past their total; the stages come in order.
    for calls in (reading, writing):
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)
        assert all(total is not None and done <= total for done, total in calls)
    assert [s for s, *_ in heard].index(importer.WRITING) > len(reading) - 1
    if chunk == 2:
        assert (2, 3) in reading and (2, 3) in writing  # a report per chunk
