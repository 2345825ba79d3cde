"""`clinlabel export` keeps the seed's shape: `clinical_labels.csv` has five columns and one row
per labelled image whatever was labelled (an X-ray angiography frame included); frame labels and
their acquisition geometry go to `clinical_frame_labels.csv`; `import` reads both back."""

from __future__ import annotations

import csv
from pathlib import Path

from clinlabel.demo.medical import write_demo_medical
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession

from .cli_run import assert_user_error, run

SEED_COLUMNS = ["case", "visit", "file", "label", "comment"]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _labelled_project(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    write_demo_medical(folder, seed=1)
    batch = tmp_path / "Batch"
    project = tmp_path / "project"
    assert run("init", batch, "--out", project).exit_code == 0
    with open_project(project) as opened:
        session = LabellingSession(opened, annotator="Dr IR")
        session.start()
        views = session.queue(1, 10)
        xa = next(v for v in views if v.file.endswith("xa_run.dcm"))
        other = next(v for v in views if v.id != xa.id)
        session.save_label(xa.id, "Non-Suspicious")  # the whole run ...
        session.save_label(xa.id, "Suspicious", frame=12)  # ... and one frame of it
        session.save_label(xa.id, "NA", "=motion blur", frame=13)
        session.save_label(other.id, "NA", "no contrast")
        session.close()
    return batch, project


def test_labels_csv_keeps_the_seed_columns_after_an_angiography_frame_is_labelled(
    tmp_path: Path,
) -> None:
    _, project = _labelled_project(tmp_path)
    target = tmp_path / "out" / "clinical_labels.csv"
    result = run("export", project, "--csv", target)
    assert result.exit_code == 0, result.output
    frames = (tmp_path / "out" / "clinical_frame_labels.csv").resolve()
    assert f"the frame labels to {frames}" in result.output.splitlines()[0]
    assert f"Wrote 2 frame labels to {frames}" in result.output
    rows = _rows(target)
    # Before: 16 columns, `frame` 0 on whole-file labels, and xa_run.dcm listed twice.
    assert rows[0] == SEED_COLUMNS
    assert all(len(row) == 5 for row in rows)
    files = [row[2] for row in rows[1:]]
    assert len(files) == len(set(files)) == 2
    frame_rows = _rows(frames)
    assert frame_rows[0][:6] == ["case", "visit", "file", "frame", "label", "comment"]
    assert [row[3:6] for row in frame_rows[1:]] == [
        ["12", "Suspicious", ""],
        ["13", "NA", "'=motion blur"],
    ]
    assert all(row[frame_rows[0].index("kvp")] for row in frame_rows[1:])


def test_detailed_has_the_same_columns_for_photos_and_angiography(tmp_path: Path) -> None:
    _, project = _labelled_project(tmp_path)
    medical = tmp_path / "medical.csv"
    assert run("export", project, "--csv", medical, "--detailed").exit_code == 0
    photos_batch = tmp_path / "Photos" / "Case_1" / "Visit_1" / "XC"
    photos_batch.mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (8, 8)).save(photos_batch / "a.jpg")
    photos = tmp_path / "photos"
    assert run("init", tmp_path / "Photos", "--out", photos).exit_code == 0
    with open_project(photos) as opened:
        session = LabellingSession(opened, annotator="Dr A")
        session.save_label(session.start().view.id, "Suspicious")
        session.close()
    photo_csv = tmp_path / "p" / "photos.csv"
    assert run("export", photos, "--csv", photo_csv, "--detailed").exit_code == 0
    assert _rows(medical)[0] == _rows(photo_csv)[0]
    assert _rows(medical)[0][:9] == [*SEED_COLUMNS, "annotator", "labelled_at_utc", "seconds",
                                     "sha256"]  # fmt: skip
    assert not (tmp_path / "p" / "clinical_frame_labels.csv").exists()


def test_import_reads_back_what_export_wrote_frame_labels_included(tmp_path: Path) -> None:
    batch, project = _labelled_project(tmp_path)
    first = tmp_path / "first" / "clinical_labels.csv"
    assert run("export", project, "--csv", first, "--no-report").exit_code == 0
    again = tmp_path / "again"
    assert run("init", batch, "--out", again).exit_code == 0
    for name in ("clinical_labels.csv", "clinical_frame_labels.csv"):
        result = run("import", again, "--csv", first.parent / name, "--annotator", "Dr IR")
        assert result.exit_code == 0, result.output
        assert "left out" not in result.output
    second = tmp_path / "second" / "clinical_labels.csv"
    assert run("export", again, "--csv", second, "--no-report").exit_code == 0
    assert _rows(second) == _rows(first)
    # The labels come back; the geometry is not part of what `import` takes (it describes the
    # file, and an imported label records none).
    frames = "clinical_frame_labels.csv"
    assert [r[:6] for r in _rows(second.parent / frames)] == [
        r[:6] for r in _rows(first.parent / frames)
    ]


def test_someone_elses_file_where_the_frame_labels_go_is_kept(tmp_path: Path) -> None:
    _, project = _labelled_project(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    theirs = folder / "clinical_frame_labels.csv"
    theirs.write_text("frame,notes\n1,mine\n", encoding="utf-8")
    result = run("export", project, "--csv", folder / "clinical_labels.csv")
    assert_user_error(result, "clinical_frame_labels.csv")
    assert theirs.read_text(encoding="utf-8") == "frame,notes\n1,mine\n"
    assert not (folder / "clinical_labels.csv").exists()  # checked before anything is written
