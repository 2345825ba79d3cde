"""What the study dashboard counts, as grouped SQL: labels per reader and label, active time per
reader and image, labels per day, reads per case (the figures are `stats.dashboard`'s)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from clinlabel.store.schema import (
    adjudications,
    annotators,
    assignments,
    events,
    images,
    labels,
    repeat_reads,
)

# Rows fetched from the driver at a time when a query streams one row per image.
_BATCH = 5000
# Each whole-image label with its reader's events on that image (their time spent on it).
_LABEL_EVENTS = labels.join(annotators, annotators.c.id == labels.c.annotator_id).join(
    events, and_(events.c.image_id == labels.c.image_id, events.c.actor == annotators.c.name)
)


def label_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(reader, label, images) of every reader's whole-image labels of present images."""
    query = (
        select(annotators.c.name, labels.c.label, func.count())
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id).join(
                annotators, annotators.c.id == labels.c.annotator_id
            )
        )
        .where(labels.c.frame == 0, images.c.present)
        .group_by(annotators.c.id, annotators.c.name, labels.c.label)
        .order_by(annotators.c.id, labels.c.label)
    )
    return [(str(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]


def active_ms(conn: Connection) -> dict[str, int]:
    """Active milliseconds each person spent on images, from the trail."""
    query = (
        select(events.c.actor, func.sum(events.c.active_ms))
        .where(events.c.active_ms.is_not(None))
        .group_by(events.c.actor)
    )
    return {str(r[0]): int(r[1] or 0) for r in conn.execute(query)}


def _has_repeat() -> ColumnElement[bool]:
    """The label's reader has a repeat of its image in their worklist."""
    return (
        select(assignments.c.id)
        .where(
            assignments.c.annotator_id == labels.c.annotator_id,
            assignments.c.image_id == labels.c.image_id,
            assignments.c.repeat_of.is_not(None),
        )
        .exists()
    )


def seconds_per_labelled_image(conn: Connection) -> Iterator[tuple[str, float]]:
    """(reader, active seconds) of each image the reader labelled, over all their visits to it.

    An image that comes back to the reader as a study's repeat counts the time up to its first
    read only (that read is final once given, `labelling.worklist`): the time after it is the
    repeat's, reported apart (`repeat_active_ms`)."""
    first_read_time = or_(~_has_repeat(), events.c.id <= labels.c.event_id)
    query = (
        select(annotators.c.name, func.sum(events.c.active_ms))
        .select_from(_LABEL_EVENTS)
        .where(labels.c.frame == 0, events.c.active_ms.is_not(None), first_read_time)
        .group_by(labels.c.id, annotators.c.name)
    )
    for r in conn.execution_options(yield_per=_BATCH).execute(query):
        yield str(r[0]), int(r[1] or 0) / 1000.0


def repeat_active_ms(conn: Connection) -> dict[str, int]:
    """Active milliseconds each reader spent on images of their repeats after the first read
    (the repeat and any look back): left out of the first reads' rate and median."""
    query = (
        select(annotators.c.name, func.sum(events.c.active_ms))
        .select_from(_LABEL_EVENTS)
        .where(
            labels.c.frame == 0,
            events.c.active_ms.is_not(None),
            events.c.id > labels.c.event_id,
            _has_repeat(),
        )
        .group_by(annotators.c.id, annotators.c.name)
    )
    return {str(r[0]): int(r[1] or 0) for r in conn.execute(query)}


def repeats_per_reader(conn: Connection) -> dict[str, tuple[int, int]]:
    """Per reader of a study: (repeats assigned, of them read), present images."""
    query = (
        select(annotators.c.name, func.count(assignments.c.id), func.count(repeat_reads.c.label))
        .select_from(
            assignments.join(annotators, annotators.c.id == assignments.c.annotator_id)
            .join(images, images.c.id == assignments.c.image_id)
            .outerjoin(repeat_reads, repeat_reads.c.assignment_id == assignments.c.id)
        )
        .where(assignments.c.repeat_of.is_not(None), images.c.present)
        .group_by(annotators.c.id, annotators.c.name)
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in conn.execute(query)}


def labels_per_day(conn: Connection) -> list[tuple[str, str, int]]:
    """(UTC day, reader, labels given that day): each first label of an image, and each change."""
    day = func.substr(events.c.ts_utc, 1, 10)
    query = (
        select(day, events.c.actor, func.count())
        .where(events.c.kind.in_(("label_saved", "label_changed", "repeat_read_saved")))
        .group_by(day, events.c.actor)
        .order_by(day, events.c.actor)
    )
    return [(str(r[0]), str(r[1]), int(r[2])) for r in conn.execute(query)]


def case_images(conn: Connection) -> list[tuple[str, int]]:
    """(case, present images) in queue order."""
    first = func.min(images.c.seq)
    query = (
        select(images.c.case_name, func.count())
        .where(images.c.present)
        .group_by(images.c.case_name)
        .order_by(first)
    )
    return [(str(r[0]), int(r[1])) for r in conn.execute(query)]


def case_reads(conn: Connection) -> dict[str, int]:
    """Whole-image reads given per case (every reader counted)."""
    query = (
        select(images.c.case_name, func.count())
        .select_from(labels.join(images, images.c.id == labels.c.image_id))
        .where(labels.c.frame == 0, images.c.present)
        .group_by(images.c.case_name)
    )
    return {str(r[0]): int(r[1]) for r in conn.execute(query)}


def case_assigned(conn: Connection) -> dict[str, tuple[int, int]]:
    """Per case: (first reads assigned, of them done) in a study's worklists."""
    own = and_(
        labels.c.image_id == assignments.c.image_id,
        labels.c.annotator_id == assignments.c.annotator_id,
        labels.c.frame == 0,
    )
    query = (
        select(images.c.case_name, func.count(assignments.c.id), func.count(labels.c.id))
        .select_from(
            assignments.join(images, images.c.id == assignments.c.image_id).outerjoin(labels, own)
        )
        .where(assignments.c.repeat_of.is_(None), images.c.present)
        .group_by(images.c.case_name)
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in conn.execute(query)}


def assigned_per_reader(conn: Connection) -> dict[str, int]:
    """First reads assigned per reader of a study: what "done" (images with the reader's
    label) is counted against; repeats are reads of the same images and never make it 100 %."""
    query = (
        select(annotators.c.name, func.count(assignments.c.id))
        .join(assignments, assignments.c.annotator_id == annotators.c.id)
        .join(images, images.c.id == assignments.c.image_id)
        .where(assignments.c.repeat_of.is_(None), images.c.present)
        .group_by(annotators.c.id, annotators.c.name)
    )
    return {str(r[0]): int(r[1]) for r in conn.execute(query)}


def final_labels(conn: Connection) -> dict[int, str]:
    return {
        int(r[0]): str(r[1])
        for r in conn.execute(select(adjudications.c.image_id, adjudications.c.label))
    }
