"""Outputs: the CSV export through the store agrees with the writer; frame labels go to their own
file, so the labels CSV keeps one row per image and the seed's five columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.exports.csv import write_labels_csv
from clinlabel.labelling.outputs import (
    FRAME_CSV_NAME,
    export_csv,
    export_frame_csv,
    save_outputs,
)
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import exports as export_rows


def test_export_matches_the_writer_and_guards_formulas(project: Project, tmp_path: Path) -> None:
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    for position, (label, comment) in enumerate(
        [("Suspicious", ""), ("NA", 'new line\nand "quotes", commas'), ("Non-Suspicious", "")],
        start=1,
    ):
        session.save_label(session.show(position).view.id, label, comment)
    fast = tmp_path / "fast.csv"
    assert export_csv(project, fast, actor="t") == 3
    guarded = tmp_path / "guarded.csv"
    with project.store.read() as conn:
        write_labels_csv(export_rows.iter_image_label_rows(conn, detailed=False), guarded)
    assert fast.read_bytes() == guarded.read_bytes()

    session.save_label(session.show(4).view.id, "NA", "-5 mm, =re-check")
    export_csv(project, fast, actor="t")
    assert "'-5 mm, =re-check" in fast.read_text(encoding="utf-8-sig")


def test_frame_labels_go_to_their_own_file_and_the_csv_keeps_one_row_per_image(
    project: Project, tmp_path: Path
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious", frame=3)
    session.save_label(image.id, "Non-Suspicious")
    session.save_label(session.show(2).view.id, "NA", "blurred", frame=1)  # frame labels only
    paths = save_outputs(project, csv_path=tmp_path / "clinical_labels.csv", actor="t")
    lines = paths.csv.read_text(encoding="utf-8-sig").splitlines()
    # Before: a sixth column `frame`, `0` on whole-file labels and the image listed twice.
    assert lines == [
        "case,visit,file,label,comment",
        "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Non-Suspicious,",
    ]
    assert paths.rows == 1
    assert paths.frame_csv == (tmp_path / FRAME_CSV_NAME).resolve()
    assert paths.frame_rows == 2
    frame_lines = paths.frame_csv.read_text(encoding="utf-8-sig").splitlines()
    assert frame_lines[0].startswith("case,visit,file,frame,label,comment,")
    assert [line.split(",")[:6] for line in frame_lines[1:]] == [
        ["Case_1", "Visit_1", "XC_CLINICAL/img1.jpg", "3", "Suspicious", ""],
        ["Case_1", "Visit_1", "XC_CLINICAL/img2.jpg", "1", "NA", "blurred"],
    ]


def test_no_frame_file_without_frame_labels_and_a_stale_one_is_emptied(
    project: Project, tmp_path: Path
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious")
    frames = tmp_path / FRAME_CSV_NAME
    assert export_frame_csv(project, frames, actor="t") is None
    assert not frames.exists()
    paths = save_outputs(project, csv_path=tmp_path / "clinical_labels.csv", actor="t")
    assert paths.frame_csv is None and not frames.exists()

    session.save_label(image.id, "NA", "motion", frame=2)
    assert export_frame_csv(project, frames, actor="t") == 1
    session.clear_label(image.id, frame=2)
    # The frame label is gone: the frame file written earlier must not still show it.
    assert export_frame_csv(project, frames, actor="t") == 0
    assert frames.read_text(encoding="utf-8-sig").splitlines()[1:] == []


def test_attack_a_full_disk_while_writing_the_frame_labels_leaves_both_csvs_as_they_were(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The labels CSV and the frame labels CSV describe one moment: a disk that fills between
    # them must not leave a new labels file beside the old frame file (or the reverse).
    from clinlabel.errors import OutputError
    from clinlabel.labelling import outputs

    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious", frame=2)
    session.save_label(image.id, "Suspicious")
    paths = save_outputs(project, csv_path=tmp_path / "clinical_labels.csv", actor="t")
    assert paths.frame_csv is not None
    before = (paths.csv.read_bytes(), paths.frame_csv.read_bytes())

    session.save_label(image.id, "NA", "motion", frame=2)
    session.save_label(image.id, "Non-Suspicious")

    def disk_full(*args: object, **kwargs: object) -> int:
        raise OutputError("The disk is full: clinical_frame_labels.csv was not written.")

    monkeypatch.setattr(outputs, "write_frame_labels_csv", disk_full)
    with pytest.raises(OutputError, match="disk is full"):
        save_outputs(project, csv_path=tmp_path / "clinical_labels.csv", actor="t")
    assert (paths.csv.read_bytes(), paths.frame_csv.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
