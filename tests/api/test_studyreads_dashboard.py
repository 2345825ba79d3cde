"""The dashboard's rate and median are of first reads: a study's repeats (and the time spent on
them) are reported apart, as repeats read of assigned per reader."""

from __future__ import annotations

from pathlib import Path

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.dashboard import study_dashboard
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from .team_server import make_team_project

FIRST_READ_S = 30.0
REPEAT_S = 90.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_studyreads_rate_and_median_are_of_first_reads_and_repeats_are_apart(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)  # 2 cases x 2 images
    with open_project(project_dir) as project:
        assign_study(project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=2)
        items = reader_worklist(project, "ann").items
        firsts = [i for i in items if not i.repeat]
        repeats = [i for i in items if i.repeat]
        assert len(firsts) == 4 and len(repeats) == 4
        clock = FakeClock()
        session = LabellingSession(project, annotator="ann", clock=clock)
        session.start()
        for n, item in enumerate(firsts):
            session.show(item.position)
            clock.now += FIRST_READ_S
            label, comment = ("NA", "blurred") if n == 0 else ("Benign", None)
            session.save_label(item.image_id, label, comment, geometry=None, position=item.position)
        # Three repeats read, slowly, all NA: none of it is a first read's figure.
        for item in repeats[:3]:
            session.show(item.position)
            clock.now += REPEAT_S
            session.save_label(
                item.image_id, "NA", "blurred", geometry=None, position=item.position
            )
        session.show(firsts[0].position)  # leaving the last repeat ends its time
        session.close()
        found = study_dashboard(project)
    ann = next(r for r in found.readers if r.reader == "ann")
    assert (ann.done, ann.assigned) == (4, 4)
    assert ann.median_seconds == FIRST_READ_S
    assert ann.per_hour == 4 / (4 * FIRST_READ_S / 3600.0)
    assert ann.na == 1 and ann.na_rate == 0.25
    assert (ann.repeats_done, ann.repeats_assigned) == (3, 4)
    assert ann.repeat_seconds == 3 * REPEAT_S
    assert ann.active_seconds == 4 * FIRST_READ_S + 3 * REPEAT_S  # all of the reader's time
