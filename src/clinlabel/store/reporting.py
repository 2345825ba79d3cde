"""Aggregates for the summary report, computed by the database from labels and events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import annotators, events, images, labels, sessions


def session_ends(conn: Connection) -> dict[int, str]:
    """Time of the last event of every session: the end of one that was never closed."""
    query = (
        select(events.c.session_id, func.max(events.c.ts_utc))
        .where(events.c.session_id.is_not(None))
        .group_by(events.c.session_id)
    )
    return {int(r[0]): str(r[1]) for r in conn.execute(query)}


def case_rows(conn: Connection) -> list[tuple[str, int, int]]:
    """(case, images, labelled images) per case in queue order."""
    labelled = (
        select(labels.c.id).where(labels.c.image_id == images.c.id, labels.c.frame == 0).exists()
    )
    query = (
        select(images.c.case_name, func.count(), func.sum(case((labelled, 1), else_=0)))
        .where(images.c.present)
        .group_by(images.c.case_name)
        .order_by(func.min(images.c.seq))
    )
    return [(str(r[0]), int(r[1]), int(r[2] or 0)) for r in conn.execute(query)]


def case_label_counts(conn: Connection) -> Iterator[tuple[str, str, int]]:
    query = (
        select(images.c.case_name, labels.c.label, func.count())
        .select_from(labels.join(images, images.c.id == labels.c.image_id))
        .where(labels.c.frame == 0, images.c.present)
        .group_by(images.c.case_name, labels.c.label)
    )
    for r in conn.execute(query):
        yield str(r[0]), str(r[1]), int(r[2])


def case_active_ms(conn: Connection) -> dict[str, int]:
    query = (
        select(images.c.case_name, func.sum(events.c.active_ms))
        .select_from(events.join(images, images.c.id == events.c.image_id))
        .where(events.c.active_ms.is_not(None))
        .group_by(images.c.case_name)
    )
    return {str(r[0]): int(r[1] or 0) for r in conn.execute(query)}


def labelled_image_active_ms(conn: Connection) -> list[int]:
    """Active ms per (labelled image, annotator who labelled it), over all visits to it."""
    labelled_by = (
        select(labels.c.image_id, annotators.c.name)
        .join(annotators, annotators.c.id == labels.c.annotator_id)
        .where(labels.c.frame == 0)
        .subquery()
    )
    query = (
        select(func.sum(events.c.active_ms))
        .select_from(
            events.join(
                labelled_by,
                and_(
                    labelled_by.c.image_id == events.c.image_id,
                    labelled_by.c.name == events.c.actor,
                ),
            )
        )
        .where(events.c.active_ms.is_not(None))
        .group_by(events.c.image_id, events.c.actor)
    )
    return [int(r[0]) for r in conn.execute(query)]


def idle_ms_total(conn: Connection) -> int:
    total = conn.execute(select(func.sum(events.c.idle_ms))).scalar()
    return int(total or 0)


def commented_labels(conn: Connection) -> Iterator[tuple[str, str, str, str, str, str, int]]:
    """(case, visit, file, label, comment, annotator, frame) of labels with a comment."""
    query = (
        select(
            images.c.case_name,
            images.c.visit,
            images.c.file,
            labels.c.label,
            labels.c.comment,
            annotators.c.name,
            labels.c.frame,
        )
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id).join(
                annotators, annotators.c.id == labels.c.annotator_id
            )
        )
        .where(labels.c.comment != "")
        .order_by(images.c.seq.is_(None), images.c.seq, images.c.relpath, labels.c.frame)
    )
    for r in conn.execute(query):
        yield (str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6]))


def event_counts(conn: Connection, kinds: Sequence[str]) -> dict[str, int]:
    """How many events of each of `kinds` the trail holds (0 for a kind with none)."""
    query = (
        select(events.c.kind, func.count())
        .where(events.c.kind.in_(list(kinds)))
        .group_by(events.c.kind)
    )
    found = {str(r[0]): int(r[1]) for r in conn.execute(query)}
    return {kind: found.get(kind, 0) for kind in kinds}


def events_of_kind(conn: Connection, kind: str) -> Iterator[tuple[str, str, str | None, str]]:
    """(ts_utc, actor, image, data JSON) of every event of `kind`, oldest first."""
    query = (
        select(events.c.ts_utc, events.c.actor, events.c.image, events.c.data)
        .where(events.c.kind == kind)
        .order_by(events.c.id)
    )
    for r in conn.execute(query):
        yield str(r[0]), str(r[1]), None if r[2] is None else str(r[2]), str(r[3])


def session_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(sessions)).scalar_one())
