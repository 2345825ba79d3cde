"""Current labels: one row per (image, annotator, frame), kept in step with the events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Float, delete, func, literal, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.schema import annotators, events, images, labels


@dataclass(frozen=True, slots=True)
class CurrentLabel:
    label: str
    comment: str
    labelled_at: str


def current_label(
    conn: Connection, *, image_id: int, annotator_id: int, frame: int
) -> CurrentLabel | None:
    row = conn.execute(
        select(labels.c.label, labels.c.comment, labels.c.labelled_at).where(
            labels.c.image_id == image_id,
            labels.c.annotator_id == annotator_id,
            labels.c.frame == frame,
        )
    ).first()
    return None if row is None else CurrentLabel(row[0], row[1], row[2])


def put_label(
    conn: Connection,
    *,
    image_id: int,
    annotator_id: int,
    frame: int,
    label: str,
    comment: str,
    labelled_at: str,
    sha256: str | None,
    event_id: int,
) -> None:
    values = {
        "label": label,
        "comment": comment,
        "labelled_at": labelled_at,
        "sha256": sha256,
        "event_id": event_id,
    }
    updated = conn.execute(
        update(labels)
        .where(
            labels.c.image_id == image_id,
            labels.c.annotator_id == annotator_id,
            labels.c.frame == frame,
        )
        .values(**values)
    ).rowcount
    if not updated:
        conn.execute(
            labels.insert().values(
                image_id=image_id, annotator_id=annotator_id, frame=frame, **values
            )
        )


def remove_label(conn: Connection, *, image_id: int, annotator_id: int, frame: int) -> None:
    conn.execute(
        delete(labels).where(
            labels.c.image_id == image_id,
            labels.c.annotator_id == annotator_id,
            labels.c.frame == frame,
        )
    )


def count_labels(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(labels)).scalar_one())


def iter_label_rows(
    conn: Connection, *, detailed: bool, annotator_id: int | None = None, batch: int = 10_000
) -> Iterator[tuple[object, ...]]:
    """Export rows in queue order, in `clinlabel.exports.rows.LabelRow` field order.

    Images gone from disk keep their labels and come last, in path order.
    """
    seconds = (
        select(func.sum(events.c.active_ms))
        .where(events.c.image_id == images.c.id, events.c.actor == annotators.c.name)
        .scalar_subquery()
        / 1000.0
        if detailed
        else literal(None, Float)
    )
    columns = [
        images.c.case_name,
        images.c.visit,
        images.c.file,
        labels.c.label,
        labels.c.comment,
        annotators.c.name,
        labels.c.labelled_at,
    ]
    query = (
        select(*columns, seconds, labels.c.sha256, labels.c.frame)
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id).join(
                annotators, annotators.c.id == labels.c.annotator_id
            )
        )
        .order_by(
            images.c.seq.is_(None), images.c.seq, images.c.relpath, annotators.c.id, labels.c.frame
        )
    )
    if annotator_id is not None:
        query = query.where(labels.c.annotator_id == annotator_id)
    result = conn.execution_options(yield_per=batch).execute(query)
    for partition in result.partitions():
        yield from (tuple(row) for row in partition)
