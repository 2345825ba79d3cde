"""Adjudication, the team CSV counts and the dashboard from the core, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.errors import ValidationError
from clinlabel.labelling.adjudication import adjudicate, adjudication_queue, team_counts
from clinlabel.labelling.dashboard import study_dashboard
from clinlabel.labelling.outputs import export_csv
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession


def _read(project: Project, reader: str, labels: list[str]) -> list[int]:
    session = LabellingSession(project, annotator=reader)
    session.start()
    views = session.queue(1, len(labels))
    for view, label in zip(views, labels, strict=True):
        session.save_label(view.id, label, "blurred" if label == "NA" else None)
    session.close()
    return [view.id for view in views]


def test_adjudication_team_csv_and_dashboard(project: Project, tmp_path: Path) -> None:
    ids = _read(project, "Dr A", ["Suspicious", "NA", "Suspicious"])
    _read(project, "Dr B", ["Suspicious", "Non-Suspicious", "Non-Suspicious"])
    queue = adjudication_queue(project)
    assert [item.image_id for item in queue.items] == ids[1:]
    assert queue.readers == ("Dr A", "Dr B") and queue.remaining == 2
    with pytest.raises(ValidationError, match="reason"):
        adjudicate(project, reviewer="Dr Lead", image_id=ids[1], label="NA", reason="")
    final = adjudicate(project, reviewer="Dr Lead", image_id=ids[1], label="NA", reason="blur")
    assert final.final is not None and final.final.label == "NA"
    # A second final label replaces the first (both are events).
    again = adjudicate(project, reviewer="Dr Lead", image_id=ids[1], label="Suspicious", reason="x")
    assert again.final is not None and again.final.label == "Suspicious"
    assert adjudication_queue(project).remaining == 1

    counts = team_counts(project)
    assert counts is not None
    assert (counts.adjudicated, counts.agreed, counts.unresolved) == (1, 1, 1)
    rows = export_csv(project, tmp_path / "out" / "labels.csv", actor="test")
    assert rows == 3

    board = study_dashboard(project)
    readers = {r.reader: r for r in board.readers}
    assert set(readers) == {"Dr A", "Dr B"}
    assert readers["Dr A"].done == 3 and readers["Dr A"].na == 1
    # Image 1: both agree; image 2: adjudicated Suspicious (neither's); image 3: a tie, left out.
    assert readers["Dr A"].consensus_n == 2 and readers["Dr A"].consensus_percent == 50.0
    assert readers["Dr B"].consensus_n == 2 and readers["Dr B"].consensus_percent == 50.0
    # A few milliseconds of looking make no rate per hour.
    assert readers["Dr A"].per_hour is None
    assert sum(day.labels for day in board.days) == 6
    assert not board.study
