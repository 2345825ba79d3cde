"""The summary report can be made to claim 100 % with the trail "OK" (found by the attack on
issue 9).

`UPDATE images SET present = 0, seq = NULL` on every unlabelled image (no trigger stops it; a
rescan is the only legitimate writer, and it leaves a `batch_scanned` event with the image
count) makes `report` say "Images remaining 0, Completion 100.0 %" and "Audit trail OK": the
ethics-board summary is forged without touching a label. Either verify checks the queue
against the last scan event, or the report's counts come from the trail.
"""

from __future__ import annotations

from clinlabel.labelling.outputs import report_text
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession


def test_hiding_the_unlabelled_images_does_not_give_a_complete_report_with_an_ok_trail(
    project: Project,
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    session.save_label(first.id, "Suspicious")
    session.close()
    assert "Completion            100.0 %" not in report_text(project)
    with project.store.write() as conn:
        conn.exec_driver_sql(
            "UPDATE images SET present = false, seq = NULL "
            "WHERE id NOT IN (SELECT image_id FROM labels)"
        )
    text = report_text(project)
    complete = "Images remaining      0" in text
    trail_ok = "Audit trail         OK" in text
    assert not (complete and trail_ok), "the report says 100 % complete and the trail OK"
