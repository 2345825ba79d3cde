"""A labelling server's rescan records a changed batch in short steps, saves answered between them.

Recorded in one write transaction, a changed batch held every label save for as long as the
whole rescan took (1.2 s at 100,000 images, issue 14). Now each step is its own transaction: a
save submitted while the rescan is recording goes through between two steps. What the user sees
stays whole: the report comes at the end; a rescan cut short while recording marks the project,
which is then scanned in full before it is served again, with nothing lost (changed files are
still found changed, progress still counts right).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.rescan import APPLYING, DONE, STOPPED, BackgroundRescan, rescan_interrupted
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import labels as label_rows
from clinlabel.store import rescan as rescan_rows
from clinlabel.store.schema import images, labels

from .conftest import image_bytes, make_batch

LAYOUT = {f"Case_{case}/Visit_1/XC": [f"img{n}.jpg" for n in range(1, 6)] for case in range(2, 6)}


def _change(batch: Path) -> None:
    """A new case before the others (every position moves), one file gone."""
    make_batch(batch, {"Case_1/Visit_1/XC": ["img1.jpg", "img2.jpg", "img3.jpg"]})
    (batch / "Case_3" / "Visit_1" / "XC" / "img2.jpg").unlink()


def _queue(project: Project) -> list[str]:
    with project.store.read() as conn:
        return [
            str(r[0])
            for r in conn.execute(
                select(images.c.relpath).where(images.c.seq.is_not(None)).order_by(images.c.seq)
            )
        ]


def _counted(project: Project, annotator_id: int) -> int:
    with project.store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(labels.join(images, images.c.id == labels.c.image_id))
                .where(labels.c.annotator_id == annotator_id, labels.c.frame == 0, images.c.present)
            ).scalar_one()
        )


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rescan_rows, "STEP", 3)  # many steps for a small batch


def test_a_save_is_answered_between_two_steps_of_a_rescan_being_recorded(
    tmp_path: Path, small_steps: None, database_url: str | None
) -> None:
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project", database_url=database_url)
    _change(batch)
    with open_project(tmp_path / "project") as project:
        session = LabellingSession(project, annotator="Dr A")
        shown = session.start().view
        saved: list[str] = []
        steps_while_recording = 0
        rescan: BackgroundRescan

        def write(step: Callable[[], Any]) -> Any:
            """The server's writer thread: one step, then whatever the page sent meanwhile."""
            nonlocal steps_while_recording
            done = step()
            with project.store.read() as conn:
                recording = rescan_rows.is_applying(conn)  # the queue is being changed
            if recording:
                assert rescan.status.state == APPLYING
                steps_while_recording += 1
                if steps_while_recording == 3:
                    # The rescan's own write is committed here, so this save's transaction
                    # starts at once (were the rescan holding the write lock across steps, it
                    # would wait for it and fail with "database is locked").
                    view = session.save_label(shown.id, "Suspicious")
                    saved.append(view.label or "")
            return done

        rescan = BackgroundRescan(project, write=write)
        rescan.start()
        status = rescan.wait(120)
        assert status.state == DONE, status.message
        assert (status.added, status.missing, status.applied) == (3, 1, True)
        # The save went through while the queue was being recorded, and later steps went on.
        assert saved == ["Suspicious"]
        assert steps_while_recording > 3
        # Every step done: the queue is the new batch's, whole, in order; the label is kept and
        # counted once.
        queue = _queue(project)
        assert queue[:3] == [f"Case_1/Visit_1/XC/img{n}.jpg" for n in (1, 2, 3)]
        assert len(queue) == len(set(queue)) == 20 + 3 - 1
        assert "Case_3/Visit_1/XC/img2.jpg" not in queue
        with project.store.read() as conn:
            positions = [int(p) for p in conn.execute(select(images.c.seq)).scalars() if p]
            assert sorted(positions) == list(range(1, len(queue) + 1))
            who = int(conn.execute(select(labels.c.annotator_id)).scalars().first() or 0)
            assert label_rows.labelled_count(conn, annotator_id=who) == _counted(project, who) == 1
            assert not rescan_rows.is_applying(conn)
        session.close()


def test_a_rescan_stopped_while_recording_is_recorded_in_full_on_the_next_open(
    tmp_path: Path, small_steps: None
) -> None:
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        session = LabellingSession(project, annotator="Dr A")
        first = session.start().view
        session.save_label(first.id, "NA", "blurred")
        session.close()
    # A labelled file rewritten with other bytes (and size), a case added, a file gone.
    (batch / first.relpath).write_bytes(image_bytes("x.jpg", "other bytes, longer than before"))
    _change(batch)
    with open_project(tmp_path / "project") as project:
        rescan: BackgroundRescan
        steps = 0

        def write(step: Callable[[], Any]) -> Any:
            nonlocal steps
            done = step()
            with project.store.read() as conn:
                recording = rescan_rows.is_applying(conn)
            if recording:
                steps += 1
                if steps == 3:
                    rescan.stop(wait=False)  # the server closing half-way through recording
            return done

        rescan = BackgroundRescan(project, write=write)
        rescan.start()
        status = rescan.wait(120)
        assert status.state == STOPPED
        assert status.message == (
            "Stopped while recording the batch's changes: the project is checked in full "
            "when it is next opened."
        )
    # The project says so; the next open scans it in full (as `clinlabel label` then does).
    assert rescan_interrupted(tmp_path / "project")
    report = init_project(batch, tmp_path / "project")
    assert not rescan_interrupted(tmp_path / "project")
    # The labelled file whose bytes changed is still found changed (its new size was not
    # recorded by the steps that ran), and the queue is whole.
    assert report.changed == [first.relpath]
    with open_project(tmp_path / "project") as project:
        queue = _queue(project)
        assert len(queue) == len(set(queue)) == 22 and queue[0] == "Case_1/Visit_1/XC/img1.jpg"
        with project.store.read() as conn:
            who = int(conn.execute(select(labels.c.annotator_id)).scalars().first() or 0)
            assert label_rows.labelled_count(conn, annotator_id=who) == _counted(project, who) == 1
