"""Each reader's whole-image label of each image: what agreement between readers is computed on.

Frame labels (frame >= 1) are left out: agreement is on the image as a whole, the label the
labels CSV carries. Images gone from the batch are left out, as the summary report leaves them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from clinlabel.store.driver import stream_tuples
from clinlabel.store.schema import annotators, images, labels

# Rows fetched from the driver at a time: a million-read project streams in constant memory.
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Reading:
    image_id: int
    relpath: str
    case: str
    reader: str
    label: str


def readings_query(*, only: Collection[str] | None = None) -> Select[Any]:
    """The query behind `iter_readings` (a test reads its plan)."""
    query = (
        select(
            labels.c.image_id,
            images.c.relpath,
            images.c.case_name,
            annotators.c.name,
            labels.c.label,
        )
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id).join(
                annotators, annotators.c.id == labels.c.annotator_id
            )
        )
        .where(labels.c.frame == 0, images.c.present)
        .order_by(labels.c.image_id, labels.c.annotator_id)
    )
    if only is not None:
        query = query.where(labels.c.label.in_(sorted(only)))
    return query


def iter_readings(conn: Connection, *, only: Collection[str] | None = None) -> Iterator[Reading]:
    """Every whole-image label of a present image, grouped by image (ascending image id), its
    readers in the order they first appeared in the project; `only` keeps those labels alone.

    Walks the unique index (image_id, annotator_id, frame) of `labels` in order, so the rows
    stream without a sort of the whole table.
    """
    result = conn.execution_options(yield_per=_BATCH).execute(readings_query(only=only))
    for row in result:
        yield Reading(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))


def reading_rows(
    conn: Connection, *, only: Collection[str] | None = None
) -> Iterator[tuple[int, str, str, str, str]]:
    """The readings of `iter_readings` as plain tuples (image id, path, case, reader, label),
    fetched from the driver in batches: the agreement of a million reads loops over these,
    where a `Reading` and a SQLAlchemy row per read cost more than the loop's own work."""
    yield from stream_tuples(conn, readings_query(only=only))


def reader_names(conn: Connection, *, only: Collection[str] | None = None) -> list[str]:
    """Everyone with at least one whole-image label of a present image, in order of creation."""
    has_label = (
        select(labels.c.id)
        .join(images, images.c.id == labels.c.image_id)
        .where(
            labels.c.annotator_id == annotators.c.id,
            labels.c.frame == 0,
            images.c.present,
        )
    )
    if only is not None:
        has_label = has_label.where(labels.c.label.in_(sorted(only)))
    query = select(annotators.c.name).where(has_label.exists()).order_by(annotators.c.id)
    return [str(name) for name in conn.execute(query).scalars()]


def used_labels(conn: Connection) -> list[str]:
    """Every label name some reader gave a whole image (labels since removed from the schema
    included), most used first."""
    query = (
        select(labels.c.label)
        .where(labels.c.frame == 0)
        .group_by(labels.c.label)
        .order_by(func.count().desc(), labels.c.label)
    )
    return [str(name) for name in conn.execute(query).scalars()]
