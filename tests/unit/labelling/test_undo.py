"""Ctrl+Z: undoing this session's label changes, newest first, by new events (never deletion)."""

from __future__ import annotations

import json

import pytest

from clinlabel.audit.log import verify_chain
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows


def _label_events(project: Project) -> list[dict[str, object]]:
    with project.store.read() as conn:
        return [
            e
            for e in event_rows.iter_events(conn)
            if e["kind"] in ("label_saved", "label_changed", "label_cleared")
        ]


def _trail_ok(project: Project) -> None:
    with project.store.read() as conn:
        assert verify_chain(conn).ok
        assert event_rows.first_label_mismatch(conn) is None


def test_undo_walks_back_labels_and_clears_newest_first(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    second = session.next().view
    session.save_label(first.id, "Suspicious")
    session.save_label(second.id, "NA", "blurred")
    session.save_label(first.id, "Non-Suspicious")
    session.clear_label(second.id)
    before = len(_label_events(project))

    undone = session.undo()  # the clear: NA "blurred" is back
    assert (undone.view.id, undone.label, undone.comment) == (second.id, "NA", "blurred")
    assert session.image(second.id).label == "NA"
    assert undone.progress.labelled == 2
    undone = session.undo()  # the relabel: Suspicious again
    assert (undone.view.id, undone.label) == (first.id, "Suspicious")
    assert session.image(first.id).label == "Suspicious"
    session.undo()  # NA given to the second image: no label
    assert session.image(second.id).label is None
    undone = session.undo()  # the first label: no label
    assert undone.label is None and session.image(first.id).label is None
    assert undone.progress.labelled == 0
    with pytest.raises(ValidationError, match="Nothing to undo"):
        session.undo()

    # Four new events, each naming the one it undoes; the first four are all still there.
    trail = _label_events(project)
    assert len(trail) == before + 4
    undo_of = [json.loads(str(e["data"])).get("undo_of") for e in trail[before:]]
    assert undo_of == [trail[3]["id"], trail[2]["id"], trail[1]["id"], trail[0]["id"]]
    assert [e["kind"] for e in trail[before:]] == [
        "label_saved",
        "label_changed",
        "label_cleared",
        "label_cleared",
    ]
    _trail_ok(project)


def test_undo_restores_a_frame_label(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "NA", "motion", frame=3)
    session.save_label(image.id, "Suspicious", frame=3)
    undone = session.undo()
    assert undone.frame == 3 and (undone.label, undone.comment) == ("NA", "motion")
    assert [(f.frame, f.label) for f in session.frame_labels(image.id)] == [(3, "NA")]
    _trail_ok(project)


def test_undo_is_per_session_and_saving_the_same_label_again_is_not_a_change(
    project: Project,
) -> None:
    earlier = LabellingSession(project, annotator="Dr A")
    image = earlier.start().view
    earlier.save_label(image.id, "Suspicious")
    earlier.close()
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    session.save_label(image.id, "Suspicious")  # the same label: no event, nothing to undo
    with pytest.raises(ValidationError, match="Nothing to undo"):
        session.undo()
    assert session.image(image.id).label == "Suspicious"


def test_a_save_that_failed_leaves_nothing_to_undo(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        # Late in the save's transaction, after the label row: the whole save rolls back.
        patched.setattr("clinlabel.labelling.service.image_rows.record_hash", disk_full)
        with pytest.raises(OSError):
            session.save_label(image.id, "Suspicious")
    assert session.image(image.id).label is None
    with pytest.raises(ValidationError, match="Nothing to undo"):
        session.undo()


def test_attack_an_undo_answered_with_a_store_error_is_undone_once_when_retried(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page retries an answer of 503 (a busy or unreachable database). If the undo had
    # committed before the error, the retry would undo a second change the annotator never asked
    # to undo: the first image's label would silently go.
    from clinlabel.errors import StoreError
    from clinlabel.store import images as image_rows

    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    second = session.next().view
    session.save_label(first.id, "Suspicious")
    session.save_label(second.id, "NA", "blurred")
    real_progress = image_rows.progress
    failures = [StoreError("The database is busy.")]

    def busy_once(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return real_progress(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(image_rows, "progress", busy_once)
    with pytest.raises(StoreError):
        session.undo()
    undone = session.undo()  # the page's retry
    assert undone.view.id == second.id and undone.label is None
    assert session.image(first.id).label == "Suspicious"
    assert session.image(second.id).label is None
    assert undone.progress.labelled == 1
    _trail_ok(project)
