"""The dashboard's figures for a small study worked out by hand."""

from __future__ import annotations

from pathlib import Path

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.dashboard import study_dashboard
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist, save_repeat_read

from .team_server import make_team_project


def test_attack13_a_reader_who_read_everything_with_repeats_is_shown_complete(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)  # 2 cases x 2 images
    with open_project(project_dir) as project:
        assign_study(project, ["ann"], StudyDesign("by-case", repeats=0.5), seed=2)
        items = reader_worklist(project, "ann").items
        firsts = [i for i in items if not i.repeat]
        repeats = [i for i in items if i.repeat]
        assert len(firsts) == 4 and len(repeats) == 2
        session = LabellingSession(project, annotator="ann")
        session.start()
        # 4 first reads: one NA (25 % NA).
        for n, item in enumerate(firsts):
            label, comment = ("NA", "blurred") if n == 0 else ("Benign", None)
            session.save_label(item.image_id, label, comment, geometry=None)
        session.close()
        for item in repeats:
            save_repeat_read(
                project,
                reader="ann",
                assignment_id=item.assignment_id,
                label="Benign",
                comment=None,
            )
        found = study_dashboard(project)
    ann = next(r for r in found.readers if r.reader == "ann")
    # Every assigned image read (and every repeat): 4 of 4, not 4 of 6.
    assert (ann.done, ann.assigned) == (4, 4)
    assert ann.na == 1 and ann.na_rate == 0.25
    assert [(c.done, c.expected, c.percent) for c in found.cases] == [(2, 2, 100.0)] * 2
