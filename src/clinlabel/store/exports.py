"""The rows of the labels CSVs: whole-file labels for `clinical_labels.csv`, frame labels for
`clinical_frame_labels.csv`, each streamed in queue order."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sqlalchemy import Float, Select, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from clinlabel.store.driver import stream_batches, stream_tuples
from clinlabel.store.schema import annotators, events, images, labels


def has_frame_labels(conn: Connection) -> bool:
    """Whether any label is for one frame or slice rather than the whole file."""
    return conn.execute(select(labels.c.id).where(labels.c.frame != 0).limit(1)).first() is not None


def count_image_label_rows(conn: Connection) -> int:
    """How many rows `clinical_labels.csv` gets (whole-file labels): the progress bar's total."""
    query = select(func.count()).select_from(labels).where(labels.c.frame == 0)
    return int(conn.execute(query).scalar_one())


def label_queries(*, frames: bool, detailed: bool) -> tuple[Select[Any], Select[Any]]:
    """Labels of present images in queue order, then those of images gone from disk by path
    (kept: they were given). Within an image: by annotator, then frame."""
    five = [images.c.case_name, images.c.visit, images.c.file, labels.c.label, labels.c.comment]
    joined = images.join(labels, labels.c.image_id == images.c.id)
    columns: list[ColumnElement[Any]] = list(five)
    if detailed or frames:
        seconds = (
            select(func.sum(events.c.active_ms))
            .where(events.c.image_id == images.c.id, events.c.actor == annotators.c.name)
            .scalar_subquery()
            / 1000.0
            if detailed
            else literal(None, Float)
        )
        columns += [
            annotators.c.name,
            labels.c.labelled_at,
            seconds,
            labels.c.sha256,
            labels.c.frame,
            labels.c.geometry,
        ]
        joined = joined.join(annotators, annotators.c.id == labels.c.annotator_id)
    base = select(*columns).select_from(joined)
    base = base.where(labels.c.frame != 0) if frames else base.where(labels.c.frame == 0)
    present = base.where(images.c.seq.is_not(None)).order_by(
        images.c.seq, labels.c.annotator_id, labels.c.frame
    )
    gone = base.where(images.c.seq.is_(None)).order_by(
        images.c.relpath, labels.c.annotator_id, labels.c.frame
    )
    return present, gone


def iter_image_label_rows(
    conn: Connection, *, detailed: bool, batch: int = 10_000
) -> Generator[tuple[Any, ...], None, None]:
    """Whole-file labels in `LabelRow` field order (only its first five fields unless
    `detailed`: a million-row export is bound by how much the database hands over)."""
    for query in label_queries(frames=False, detailed=detailed):
        yield from stream_tuples(conn, query, batch=batch)


def iter_image_label_batches(
    conn: Connection, *, batch: int = 10_000
) -> Generator[list[tuple[Any, ...]], None, None]:
    """`iter_image_label_rows` without `detailed` (case, visit, file, label, comment), in lists
    of up to `batch` rows as the driver hands them over: a bulk export's writer takes them
    whole."""
    for query in label_queries(frames=False, detailed=False):
        yield from stream_batches(conn, query, batch=batch)


def iter_frame_label_rows(
    conn: Connection, *, detailed: bool, batch: int = 10_000
) -> Generator[tuple[Any, ...], None, None]:
    """Labels of single frames or slices, in `LabelRow` field order (seconds only if
    `detailed`)."""
    for query in label_queries(frames=True, detailed=detailed):
        yield from stream_tuples(conn, query, batch=batch)
