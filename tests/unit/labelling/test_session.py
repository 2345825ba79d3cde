"""Labelling use cases: navigation, validation, relabel, resume, case changes, timing."""

from __future__ import annotations

import json

import pytest

from clinlabel.audit.log import verify_chain
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows
from clinlabel.store.schema import meta

from .conftest import FakeClock


def _events(project: Project, kind: str) -> list[dict[str, object]]:
    with project.store.read() as conn:
        return [e for e in event_rows.iter_events(conn) if e["kind"] == kind]


def test_queue_is_in_natural_order_and_starts_at_first_image(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    shown = session.start()
    assert shown.view.position == 1
    files = [v.relpath for v in session.queue(1, 10)]
    assert files == [
        "Case_1/Visit_1/XC_CLINICAL/img1.jpg",
        "Case_1/Visit_1/XC_CLINICAL/img2.jpg",
        "Case_1/Visit_1/XC_CLINICAL/img10.jpg",
        "Case_1/Visit_2/CLINICAL_IMAGES/img1.jpg",
        "Case_2/Visit_1/XC/a.png",
        "Case_2/Visit_1/XC/b.png",
    ]
    assert shown.progress.total == 6 and shown.progress.labelled == 0


def test_na_needs_a_comment_and_nothing_is_saved_without_one(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    with pytest.raises(ValidationError, match="needs a comment"):
        session.save_label(image.id, "NA", "   ")
    with pytest.raises(ValidationError, match="Unknown label"):
        session.save_label(image.id, "Maybe")
    assert session.image(image.id).label is None
    assert _events(project, "label_saved") == []
    saved = session.save_label(image.id, "NA", "  blurred, retake  ")
    assert (saved.label, saved.comment) == ("NA", "blurred, retake")


def test_relabel_and_clear_keep_the_old_value_in_the_trail(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious")
    session.save_label(image.id, "Non-Suspicious")
    session.clear_label(image.id)
    assert session.image(image.id).label is None
    changed = _events(project, "label_changed")
    assert len(changed) == 1
    data = json.loads(str(changed[0]["data"]))
    assert data["old"]["label"] == "Suspicious" and data["new"]["label"] == "Non-Suspicious"
    cleared = json.loads(str(_events(project, "label_cleared")[0]["data"]))
    assert cleared["old"]["label"] == "Non-Suspicious" and cleared["new"] is None
    with project.store.read() as conn:
        assert verify_chain(conn).ok


def test_case_change_is_reported_when_crossing_cases(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    flags = [session.next() for _ in range(5)]
    assert [s.case_changed for s in flags] == [False, False, False, True, False]
    assert flags[3].previous_case == "Case_1" and flags[3].view.case == "Case_2"
    back = session.previous()
    assert back.view.case == "Case_2" and not back.case_changed
    assert session.previous().case_changed  # back into Case_1


def test_resume_starts_where_the_annotator_was_and_shows_earlier_labels(project: Project) -> None:
    first = LabellingSession(project, annotator="Dr A")
    shown = first.start()
    first.save_label(shown.view.id, "Suspicious")
    second_image = first.next().view
    first.save_label(second_image.id, "NA", "out of focus")
    first.show(5)  # looked ahead, then stopped for the day
    first.close()

    again = LabellingSession(project, annotator="Dr A")
    resumed = again.start()
    assert resumed.view.position == 5
    earlier = again.show(2).view
    assert (earlier.label, earlier.comment) == ("NA", "out of focus")
    # "Next unlabelled" from there still finds the first image without a label.
    assert again.next_unlabelled().view.position == 3
    # Another annotator sees no labels of Dr A's and starts at the beginning.
    other = LabellingSession(project, annotator="Dr B").start()
    assert other.view.position == 1 and other.view.label is None


def test_a_first_session_starts_at_the_first_unlabelled_image(project: Project) -> None:
    """Labels imported for an annotator who never opened the page: resume where work is left."""
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    session.save_label(session.current().view.id, "Suspicious")
    session.close()
    with project.store.write() as conn:
        conn.execute(meta.delete().where(meta.c.key.startswith("last_shown:")))
    assert LabellingSession(project, annotator="Dr A").start().view.position == 2


def test_next_unlabelled_on_an_unlabelled_image_keeps_it(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    session.save_label(session.show(1).view.id, "Suspicious")
    session.show(3)  # unlabelled, as is 2 before it
    assert session.next_unlabelled().view.position == 3
    session.save_label(session.current().view.id, "Suspicious")
    assert session.next_unlabelled().view.position == 4


def test_image_time_excludes_time_away_and_adds_up_revisits(project: Project) -> None:
    clock = FakeClock()
    session = LabellingSession(project, annotator="Dr A", idle_threshold_s=300, clock=clock)
    image = session.start().view
    clock.advance(4)
    session.touch()
    clock.advance(600)  # away: longer than the threshold, excluded
    session.touch()
    clock.advance(2)
    session.save_label(image.id, "Suspicious")
    saved = _events(project, "label_saved")[0]
    assert saved["active_ms"] == 6000 and saved["idle_ms"] == 600_000

    session.next()
    session.previous()  # revisit: 3 s more on the same image, no relabel
    clock.advance(3)
    session.next()
    assert session.image(image.id).seconds == pytest.approx(9.0)


def test_labels_go_to_the_image_named_not_the_one_on_screen(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    session.next()
    session.next()
    session.save_label(first.id, "NA", "pressed before moving on")
    assert session.image(first.id).label == "NA"
    assert session.current().view.label is None


def test_next_unlabelled_wraps_round(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    for position in (1, 2, 4, 5, 6):
        session.save_label(session.show(position).view.id, "Non-Suspicious")
    session.show(5)
    assert session.next_unlabelled().view.position == 3


def test_showing_the_same_image_again_keeps_its_time(project: Project) -> None:
    clock = FakeClock()
    session = LabellingSession(project, annotator="Dr A", clock=clock)
    image = session.start().view
    clock.advance(10)
    session.show(1)  # a page reload shows the same image again
    clock.advance(5)
    session.show(1)
    last = session.show(6).view
    clock.advance(7)
    session.next()  # Next at the end of the queue: still the last image
    session.close()
    assert session.image(image.id).seconds == pytest.approx(15.0)
    assert session.image(last.id).seconds == pytest.approx(7.0)


def test_frame_labels_are_listed_by_frame(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "NA", "motion", frame=7)
    session.save_label(image.id, "Suspicious", frame=2)
    session.save_label(image.id, "Non-Suspicious")
    labels = session.frame_labels(image.id)
    assert [(f.frame, f.label, f.comment) for f in labels] == [
        (2, "Suspicious", ""),
        (7, "NA", "motion"),
    ]
    assert session.image(image.id).label == "Non-Suspicious"


def test_the_image_record_carries_its_frame_labels_across_sessions(project: Project) -> None:
    """The core's read model is the one copy of frame labels: on revisit, in the queue window,
    and after the server restarts (a new session of the same annotator), not only until then."""
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    saved = session.save_label(image.id, "NA", "motion", frame=3)
    assert [(f.frame, f.label, f.comment) for f in saved.frame_labels] == [(3, "NA", "motion")]
    session.save_label(image.id, "Suspicious", frame=1)
    cleared = session.clear_label(image.id, frame=3)
    assert [f.frame for f in cleared.frame_labels] == [1]
    session.close()
    again = LabellingSession(project, annotator="Dr A")
    again.start()
    assert [(f.frame, f.label) for f in again.image(image.id).frame_labels] == [(1, "Suspicious")]
    assert [(f.frame, f.label) for f in again.queue(1, 1)[0].frame_labels] == [(1, "Suspicious")]
    other = LabellingSession(project, annotator="Dr B")
    other.start()
    assert other.image(image.id).frame_labels == ()


def test_text_that_utf8_cannot_hold_is_refused(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    with pytest.raises(ValidationError, match="not text"):
        session.save_label(image.id, "NA", "broken \udce9 paste")
    with pytest.raises(ValidationError, match="not text"):
        LabellingSession(project, annotator="Dr \udce9")


def test_time_on_an_image_survives_a_save_that_failed(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    session = LabellingSession(project, annotator="Dr A", idle_threshold_s=300, clock=clock)
    image = session.start().view
    clock.advance(8)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("clinlabel.labelling.service.label_rows.put_label", disk_full)
        with pytest.raises(OSError):
            session.save_label(image.id, "Suspicious")
    assert _events(project, "label_saved") == []  # nothing half-saved
    clock.advance(2)
    session.save_label(image.id, "Suspicious")  # the retry the page makes
    saved = _events(project, "label_saved")[0]
    assert saved["active_ms"] == 10_000, "the 8 s before the failure still count"


def test_the_place_is_kept_without_a_clean_close(project: Project) -> None:
    """A server killed (no close): the session resumes at the image last shown."""
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    session.save_label(session.current().view.id, "Suspicious")
    session.show(4)
    assert LabellingSession(project, annotator="Dr A").start().view.position == 4


def test_attack_a_closed_session_writes_nothing_more(project: Project) -> None:
    # Finish in one tab closes the session while a request of another tab still holds it (it
    # took the session before the close and was reading the file's geometry meanwhile).
    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    session.save_label(first.id, "Suspicious")
    session.close()
    with project.store.read() as conn:
        before = len(list(event_rows.iter_events(conn)))
    writes = (
        lambda: session.save_label(first.id, "NA", "blurred"),
        lambda: session.clear_label(first.id),
        session.undo,
        lambda: session.show(2),
        session.next_unlabelled,
        lambda: session.unmask_metadata(first.id, keywords=["PatientName"]),
    )
    for write in writes:
        with pytest.raises(ValidationError, match="session has ended"):
            write()
    assert session.image(first.id).label == "Suspicious"
    with project.store.read() as conn:
        assert len(list(event_rows.iter_events(conn))) == before
        assert verify_chain(conn).ok
