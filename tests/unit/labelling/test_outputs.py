"""Outputs: the CSV export through the store agrees with the writer; frame labels get a column."""

from __future__ import annotations

from pathlib import Path

from clinlabel.exports.csv import write_labels_csv
from clinlabel.labelling.outputs import export_csv
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import labels as label_rows


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
        write_labels_csv(label_rows.iter_label_rows(conn, detailed=False), guarded)
    assert fast.read_bytes() == guarded.read_bytes()

    session.save_label(session.show(4).view.id, "NA", "-5 mm, =re-check")
    export_csv(project, fast, actor="t")
    assert "'-5 mm, =re-check" in fast.read_text(encoding="utf-8-sig")


def test_frame_labels_get_a_frame_column(project: Project, tmp_path: Path) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious", frame=3)
    session.save_label(image.id, "Non-Suspicious")
    out = tmp_path / "frames.csv"
    export_csv(project, out, actor="t")
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "case,visit,file,label,comment,frame"
    assert lines[1:] == [
        "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Non-Suspicious,,0",
        "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,,3",
    ]
