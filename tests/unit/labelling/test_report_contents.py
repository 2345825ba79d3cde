"""The summary report written from a real project carries what an ethics board asks for: the
label definitions, what was left out of the queue and why, how many labels were changed and
cleared, every unmasking of identifying metadata, the audit head hash and a sign-off block."""

from __future__ import annotations

import json
from pathlib import Path

from clinlabel.labelling.outputs import save_outputs
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.reports.json import report_document

from .conftest import make_batch


def test_report_lists_definitions_left_out_changes_unmaskings_and_sign_off(
    tmp_path: Path,
) -> None:
    batch = make_batch(tmp_path / "Batch")
    (batch / "Case_1/Visit_1/XC_CLINICAL/notes.png").write_text("retake\n", encoding="utf-8")
    make_batch(batch, {"Case_1/Visit_1/Dermoscopy": ["d1.jpg"]})
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        first = session.start().view
        session.save_label(first.id, "Suspicious")
        session.save_label(first.id, "Non-Suspicious")  # changed
        second = session.next().view
        session.save_label(second.id, "NA", "blurred")
        session.clear_label(second.id)  # cleared
        session.unmask_metadata(first.id, keywords=["PatientName", "PatientID"])
        session.close()
        paths = save_outputs(project, csv_path=tmp_path / "out" / "clinical_labels.csv", actor="t")
        head = paths.audit.head_hash
    report = paths.report.read_text(encoding="utf-8")
    definitions = report[report.index("4. LABEL DEFINITIONS") : report.index("5. LABEL DIST")]
    assert "NA" in definitions and "required" in definitions and "Suspicious" in definitions
    assert "Labels changed (relabelled)   1" in report
    assert "Labels cleared                1" in report
    left = report[report.index("12. LEFT OUT") : report.index("13. IDENTIFYING")]
    assert "Case_1/Visit_1/Dermoscopy (1 image files)" in left
    assert "Case_1/Visit_1/XC_CLINICAL/notes.png" in left
    assert "not an image: extension says PNG but the content is text" in left
    revealed = report[report.index("13. IDENTIFYING") : report.index("14. DATA INTEGRITY")]
    assert f"Dr A   {first.relpath}" in revealed and "PatientID, PatientName" in revealed
    assert f"Newest event hash                {head}" in report
    assert "clinlabel audit verify           passes" in report
    sign_off = report[report.index("16. SIGN-OFF") :]
    assert "Annotator   Dr A" in sign_off and "Signature   ____" in sign_off
    # The notes file is not an image: not in the CSV either.
    assert "notes.png" not in paths.csv.read_text(encoding="utf-8-sig")


def test_json_report_has_the_same_lists(tmp_path: Path) -> None:
    from clinlabel.labelling.outputs import gather_report_data

    batch = make_batch(tmp_path / "Batch")
    (batch / "Case_1/Visit_1/XC_CLINICAL/notes.png").write_text("retake\n", encoding="utf-8")
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        image = session.start().view
        session.unmask_metadata(image.id, keywords=["PatientID"])
        session.close()
        document = json.loads(json.dumps(report_document(gather_report_data(project))))
    assert [d["label"] for d in document["label_definitions"]] == [
        "Suspicious",
        "Non-Suspicious",
        "NA",
    ]
    assert document["problem_files"][0]["path"].endswith("notes.png")
    assert document["unmaskings"][0]["attributes"] == ["PatientID"]
