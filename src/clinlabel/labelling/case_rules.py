"""The seed's case rules: a case-level diagnosis, asked once every image of the case is labelled
(the schema's own `[[case_labels]]`), recorded per reader with an event (`case_diagnosed`).

Locked progression (the next case only once this one is complete) is in `worklist`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import StudyRuleError, ValidationError
from clinlabel.labelling.project import Project
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import people


@dataclass(frozen=True, slots=True)
class CaseState:
    case: str
    images: int
    labelled: int
    diagnosis: str | None
    comment: str
    asked: bool
    """The schema asks for a case diagnosis (`[[case_labels]]`)."""

    @property
    def complete(self) -> bool:
        return self.images > 0 and self.labelled == self.images

    @property
    def asks_diagnosis(self) -> bool:
        """Every image labelled and no diagnosis yet: the page asks for it now."""
        return self.asked and self.complete and self.diagnosis is None


def case_state(project: Project, *, reader: str, case: str) -> CaseState:
    with project.store.read() as conn:
        annotator_id = people.find_annotator(conn, reader)
        total, labelled = assignment_rows.case_images_labelled(
            conn, annotator_id=annotator_id or -1, case=case
        )
        found = (
            None
            if annotator_id is None
            else assignment_rows.case_diagnosis(conn, annotator_id=annotator_id, case=case)
        )
    if total == 0:
        raise ValidationError(f"There is no case {case!r} in this project.")
    return CaseState(
        case,
        total,
        labelled,
        None if found is None else found[0],
        "" if found is None else found[1],
        asked=bool(project.schema.case_labels),
    )


def diagnose_case(
    project: Project,
    *,
    reader: str,
    case: str,
    label: str,
    comment: str | None = None,
    session_id: int | None = None,
) -> CaseState:
    """Record `reader`'s diagnosis of `case`: refused (409) until every present image of the
    case has the reader's label, since a diagnosis rests on all of them."""
    if not project.schema.case_labels:
        raise ValidationError(
            "This project's schema asks for no case diagnosis.",
            hint="Declare [[case_labels]] in the label schema to ask for one.",
        )
    name, text = project.schema.case_label(label, comment)
    with project.store.write() as conn:
        now = utc_now()
        annotator_id = people.annotator_id(conn, reader, now=now)
        total, labelled = assignment_rows.case_images_labelled(
            conn, annotator_id=annotator_id, case=case
        )
        if total == 0:
            raise ValidationError(f"There is no case {case!r} in this project.")
        if labelled < total:
            raise StudyRuleError(
                f"{case} has {total - labelled} of its {total} images still unlabelled: "
                "the case diagnosis is asked once every image is labelled."
            )
        old = assignment_rows.case_diagnosis(conn, annotator_id=annotator_id, case=case)
        if old != (name, text):
            event_id = append_event(
                conn,
                NewEvent(
                    EventKind.CASE_DIAGNOSED,
                    reader,
                    {
                        "case": case,
                        "old": None if old is None else {"label": old[0], "comment": old[1]},
                        "new": {"label": name, "comment": text},
                    },
                    session_id=session_id,
                    ts_utc=now,
                ),
            )
            assignment_rows.put_case_diagnosis(
                conn,
                annotator_id=annotator_id,
                case=case,
                label=name,
                comment=text,
                labelled_at=now,
                event_id=event_id,
            )
    return CaseState(case, total, labelled, name, text, asked=True)
