"""Labels on medical images: per-frame labels carry the XA acquisition geometry into the CSV,
and revealing identifying metadata is an audit event."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from clinlabel.demo.medical import write_demo_medical
from clinlabel.labelling.outputs import export_csv, export_frame_csv
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows


def test_frame_label_on_xa_exports_its_geometry(tmp_path: Path) -> None:
    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    write_demo_medical(folder, seed=1)
    init_project(tmp_path / "Batch", tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr IR")
        session.start()
        views = session.queue(1, 10)
        xa = next(v for v in views if v.file.endswith("xa_run.dcm"))
        ct = next(v for v in views if v.file.endswith(".dcm") and v.id != xa.id)
        session.save_label(xa.id, "Suspicious", frame=12)
        session.save_label(ct.id, "Non-Suspicious")
        session.unmask_metadata(xa.id, keywords=["PatientName", "PatientID"])
        out = tmp_path / "labels.csv"
        export_csv(project, out, actor="t", detailed=True)
        frames = tmp_path / "clinical_frame_labels.csv"
        assert export_frame_csv(project, frames, actor="t") == 1
        with project.store.read() as conn:
            unmasked = [e for e in event_rows.iter_events(conn) if e["kind"] == "metadata_unmasked"]
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_file = {row["file"]: row for row in rows}
    assert "XC/xa_run.dcm" not in by_file  # a frame label: in the frame labels CSV only
    with frames.open(encoding="utf-8-sig", newline="") as handle:
        (xa_row,) = list(csv.DictReader(handle))
    assert xa_row["file"] == "XC/xa_run.dcm"
    assert xa_row["frame"] == "12"
    assert xa_row["positioner_primary_angle_deg"] != ""
    assert xa_row["positioner_secondary_angle_deg"] != ""
    assert float(xa_row["source_to_detector_mm"]) > 0
    assert float(xa_row["kvp"]) > 0
    ct_row = by_file[ct.file]
    assert ct_row["source_to_detector_mm"] == ""  # a CT states no C-arm geometry
    assert len(unmasked) == 1
    assert json.loads(str(unmasked[0]["data"]))["attributes"] == ["PatientID", "PatientName"]
    assert unmasked[0]["actor"] == "Dr IR"
