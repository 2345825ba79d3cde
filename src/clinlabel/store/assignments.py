"""A reading study's records: its design, each reader's seed and worklist, repeat reads and the
case-level diagnoses (tables at the end of `schema.py`, migration 0009)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from clinlabel.store.schema import (
    annotators,
    assignments,
    case_diagnoses,
    images,
    labels,
    repeat_reads,
    study,
    study_readers,
)


@dataclass(frozen=True, slots=True)
class StudySettings:
    design: str
    per_image: int | None
    sample: int | None
    overlap: float
    repeats: float
    order: str
    locked: bool
    seed: int
    assigned_at: str


def save_study(conn: Connection, settings: StudySettings, *, event_id: int) -> None:
    conn.execute(
        study.insert(),
        {
            "id": 1,
            "design": settings.design,
            "per_image": settings.per_image,
            "sample": settings.sample,
            # Fractions as text: exactly what was asked, on SQLite and PostgreSQL alike.
            "overlap": repr(settings.overlap),
            "repeats": repr(settings.repeats),
            "case_order": settings.order,
            "locked": settings.locked,
            "seed": settings.seed,
            "assigned_at": settings.assigned_at,
            "event_id": event_id,
        },
    )


def study_settings(conn: Connection) -> StudySettings | None:
    row = conn.execute(
        select(
            study.c.design,
            study.c.per_image,
            study.c.sample,
            study.c.overlap,
            study.c.repeats,
            study.c.case_order,
            study.c.locked,
            study.c.seed,
            study.c.assigned_at,
        ).where(study.c.id == 1)
    ).first()
    if row is None:
        return None
    return StudySettings(
        design=str(row[0]),
        per_image=None if row[1] is None else int(row[1]),
        sample=None if row[2] is None else int(row[2]),
        overlap=float(row[3] or 0),
        repeats=float(row[4] or 0),
        order=str(row[5]),
        locked=bool(row[6]),
        seed=int(row[7]),
        assigned_at=str(row[8]),
    )


def present_cases(conn: Connection) -> list[tuple[int, str]]:
    """(image id, case) of every present image, in queue (batch) order."""
    query = (
        select(images.c.id, images.c.case_name)
        .where(images.c.present, images.c.seq.is_not(None))
        .order_by(images.c.seq)
    )
    return [(int(r[0]), str(r[1])) for r in conn.execute(query)]


def save_worklist(
    conn: Connection, *, annotator_id: int, seed: int, items: Sequence[tuple[int, bool]]
) -> None:
    """A reader's worklist in order: (image id, is a repeat). A repeat names the reader's first
    showing of that image."""
    conn.execute(study_readers.insert(), {"annotator_id": annotator_id, "seed": seed})
    first: dict[int, int] = {}
    for position, (image_id, repeat) in enumerate(items, start=1):
        inserted = conn.execute(
            assignments.insert()
            .values(
                annotator_id=annotator_id,
                position=position,
                image_id=image_id,
                repeat_of=first.get(image_id) if repeat else None,
            )
            .returning(assignments.c.id)
        ).scalar_one()
        if not repeat:
            first[image_id] = int(inserted)


@dataclass(frozen=True, slots=True)
class WorkItem:
    assignment_id: int
    position: int
    image_id: int
    relpath: str
    case: str
    repeat: bool
    done: bool
    visit: str = ""


def has_study(conn: Connection) -> bool:
    return conn.execute(select(study.c.id).where(study.c.id == 1)).first() is not None


def worklist(conn: Connection, *, annotator_id: int) -> list[WorkItem]:
    """A reader's worklist in order, each item done or not: a first read is done when the reader
    has a whole-image label of it, a repeat when its repeat read is recorded."""
    own_label = and_(
        labels.c.image_id == assignments.c.image_id,
        labels.c.annotator_id == assignments.c.annotator_id,
        labels.c.frame == 0,
    )
    query = (
        select(
            assignments.c.id,
            assignments.c.position,
            assignments.c.image_id,
            images.c.relpath,
            images.c.case_name,
            assignments.c.repeat_of,
            labels.c.id,
            repeat_reads.c.assignment_id,
            images.c.visit,
        )
        .select_from(
            assignments.join(images, images.c.id == assignments.c.image_id)
            .outerjoin(labels, own_label)
            .outerjoin(repeat_reads, repeat_reads.c.assignment_id == assignments.c.id)
        )
        .where(assignments.c.annotator_id == annotator_id, images.c.present)
        .order_by(assignments.c.position)
    )
    out = []
    for r in conn.execute(query):
        repeat = r[5] is not None
        out.append(
            WorkItem(
                assignment_id=int(r[0]),
                position=int(r[1]),
                image_id=int(r[2]),
                relpath=str(r[3]),
                case=str(r[4]),
                repeat=repeat,
                done=(r[7] is not None) if repeat else (r[6] is not None),
                visit=str(r[8]),
            )
        )
    return out


def readers_with_worklists(conn: Connection) -> list[tuple[int, str, int]]:
    """(annotator id, name, seed) of every reader of the study, in order of assignment."""
    query = (
        select(annotators.c.id, annotators.c.name, study_readers.c.seed)
        .join(study_readers, study_readers.c.annotator_id == annotators.c.id)
        .order_by(annotators.c.id)
    )
    return [(int(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]


def repeat_read(conn: Connection, assignment_id: int) -> tuple[str, str] | None:
    row = conn.execute(
        select(repeat_reads.c.label, repeat_reads.c.comment).where(
            repeat_reads.c.assignment_id == assignment_id
        )
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def put_repeat_read(
    conn: Connection,
    *,
    assignment_id: int,
    image_id: int,
    annotator_id: int,
    label: str,
    comment: str,
    labelled_at: str,
    event_id: int,
) -> None:
    values = {
        "label": label,
        "comment": comment,
        "labelled_at": labelled_at,
        "event_id": event_id,
    }
    updated = conn.execute(
        repeat_reads.update().where(repeat_reads.c.assignment_id == assignment_id).values(**values)
    ).rowcount
    if not updated:
        conn.execute(
            repeat_reads.insert(),
            {
                "assignment_id": assignment_id,
                "image_id": image_id,
                "annotator_id": annotator_id,
                **values,
            },
        )


def assignment_of(conn: Connection, assignment_id: int) -> tuple[int, int, int | None] | None:
    """(annotator id, image id, repeat_of) of one worklist item."""
    row = conn.execute(
        select(assignments.c.annotator_id, assignments.c.image_id, assignments.c.repeat_of).where(
            assignments.c.id == assignment_id
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]), row[2])


def retest_pairs(conn: Connection) -> list[tuple[str, str, str]]:
    """(reader, first label, repeat label) of every repeat read whose first read still stands
    (whole-image labels of present images)."""
    query = (
        select(annotators.c.name, labels.c.label, repeat_reads.c.label)
        .select_from(
            repeat_reads.join(annotators, annotators.c.id == repeat_reads.c.annotator_id)
            .join(images, images.c.id == repeat_reads.c.image_id)
            .join(
                labels,
                and_(
                    labels.c.image_id == repeat_reads.c.image_id,
                    labels.c.annotator_id == repeat_reads.c.annotator_id,
                    labels.c.frame == 0,
                ),
            )
        )
        .where(images.c.present)
        .order_by(annotators.c.id, repeat_reads.c.assignment_id)
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(query)]


def case_images_labelled(conn: Connection, *, annotator_id: int, case: str) -> tuple[int, int]:
    """(present images of the case, of them labelled by this reader as a whole)."""
    own = and_(
        labels.c.image_id == images.c.id,
        labels.c.annotator_id == annotator_id,
        labels.c.frame == 0,
    )
    row = conn.execute(
        select(func.count(images.c.id), func.count(labels.c.id))
        .select_from(images.outerjoin(labels, own))
        .where(images.c.case_name == case, images.c.present)
    ).one()
    return int(row[0]), int(row[1])


def case_diagnosis(conn: Connection, *, annotator_id: int, case: str) -> tuple[str, str] | None:
    row = conn.execute(
        select(case_diagnoses.c.label, case_diagnoses.c.comment).where(
            case_diagnoses.c.case_name == case, case_diagnoses.c.annotator_id == annotator_id
        )
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def put_case_diagnosis(
    conn: Connection,
    *,
    annotator_id: int,
    case: str,
    label: str,
    comment: str,
    labelled_at: str,
    event_id: int,
) -> None:
    values = {"label": label, "comment": comment, "labelled_at": labelled_at, "event_id": event_id}
    updated = conn.execute(
        case_diagnoses.update()
        .where(case_diagnoses.c.case_name == case, case_diagnoses.c.annotator_id == annotator_id)
        .values(**values)
    ).rowcount
    if not updated:
        conn.execute(
            case_diagnoses.insert(), {"case_name": case, "annotator_id": annotator_id, **values}
        )


def case_diagnoses_of(conn: Connection, *, annotator_id: int) -> dict[str, str]:
    query = select(case_diagnoses.c.case_name, case_diagnoses.c.label).where(
        case_diagnoses.c.annotator_id == annotator_id
    )
    return {str(r[0]): str(r[1]) for r in conn.execute(query)}


def repeat_of_image(
    conn: Connection, *, annotator_id: int, image_id: int
) -> tuple[int, bool] | None:
    """(position, read yet) of this reader's repeat of an image; None: their worklist has none."""
    row = conn.execute(
        select(assignments.c.position, repeat_reads.c.assignment_id)
        .select_from(
            assignments.outerjoin(repeat_reads, repeat_reads.c.assignment_id == assignments.c.id)
        )
        .where(
            assignments.c.annotator_id == annotator_id,
            assignments.c.image_id == image_id,
            assignments.c.repeat_of.is_not(None),
        )
    ).first()
    return None if row is None else (int(row[0]), row[1] is not None)


def sealed_first_reads(conn: Connection, *, reader: str | None = None) -> dict[str, int]:
    """Per reader (or only `reader`): their first reads given whose repeat is still to be read
    (`labelling.worklist` calls them sealed). Readers with none left out. Images gone from the
    batch too: the exports still write their labels, and their repeats are read once the files
    are back."""
    own_label = and_(
        labels.c.image_id == assignments.c.image_id,
        labels.c.annotator_id == assignments.c.annotator_id,
        labels.c.frame == 0,
    )
    query = (
        select(annotators.c.name, func.count())
        .select_from(
            assignments.join(annotators, annotators.c.id == assignments.c.annotator_id).join(
                labels, own_label
            )
        )
        .where(
            assignments.c.repeat_of.is_not(None),
            ~select(repeat_reads.c.assignment_id)
            .where(repeat_reads.c.assignment_id == assignments.c.id)
            .exists(),
        )
        .group_by(annotators.c.name)
        .order_by(annotators.c.name)
    )
    if reader is not None:
        query = query.where(annotators.c.name == reader)
    return {str(name): int(count) for name, count in conn.execute(query)}


def pending_repeat(annotator_id: int, image_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: this reader's worklist holds a repeat of the image not read yet (its first read,
    if given, is sealed: hidden from the reader until the repeat is read)."""
    return (
        select(assignments.c.id)
        .where(
            assignments.c.annotator_id == annotator_id,
            assignments.c.image_id == image_id,
            assignments.c.repeat_of.is_not(None),
            ~select(repeat_reads.c.assignment_id)
            .where(repeat_reads.c.assignment_id == assignments.c.id)
            .exists(),
        )
        .exists()
    )


def in_worklist(annotator_id: int, image_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: the image is one of this reader's first reads."""
    return (
        select(assignments.c.id)
        .where(
            assignments.c.annotator_id == annotator_id,
            assignments.c.image_id == image_id,
            assignments.c.repeat_of.is_(None),
        )
        .exists()
    )


def worklist_cases(conn: Connection, *, annotator_id: int) -> list[str]:
    """The cases of a reader's worklist, in the order they meet them."""
    query = (
        select(images.c.case_name, func.min(assignments.c.position))
        .join(images, images.c.id == assignments.c.image_id)
        .where(assignments.c.annotator_id == annotator_id, images.c.present)
        .group_by(images.c.case_name)
        .order_by(func.min(assignments.c.position))
    )
    return [str(r[0]) for r in conn.execute(query)]


def study_reads(
    conn: Connection, image_ids: Sequence[int]
) -> dict[int, list[tuple[str, str | None]]]:
    """Per image: (reader, whole-image label or None) of each reader of the study it is
    assigned to as a first read, readers in their order of assignment."""
    if not image_ids:
        return {}
    own = and_(
        labels.c.image_id == assignments.c.image_id,
        labels.c.annotator_id == assignments.c.annotator_id,
        labels.c.frame == 0,
    )
    query = (
        select(assignments.c.image_id, annotators.c.name, labels.c.label)
        .select_from(
            assignments.join(annotators, annotators.c.id == assignments.c.annotator_id).outerjoin(
                labels, own
            )
        )
        .where(assignments.c.image_id.in_(list(image_ids)), assignments.c.repeat_of.is_(None))
        .order_by(assignments.c.image_id, annotators.c.id)
    )
    out: dict[int, list[tuple[str, str | None]]] = {}
    for r in conn.execute(query):
        out.setdefault(int(r[0]), []).append((str(r[1]), None if r[2] is None else str(r[2])))
    return out
