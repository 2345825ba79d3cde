"""Adjudication: the images readers labelled, with every reader's whole-image label side by side,
and the final label a reviewer gave (table `adjudications`, migration 0009)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import adjudications, annotators, images, labels

# Rows fetched from the driver at a time: a team CSV of a million reads streams.
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Read:
    reader: str
    label: str
    comment: str


@dataclass(frozen=True, slots=True)
class Final:
    label: str
    reason: str
    reviewer: str
    adjudicated_at: str


@dataclass(frozen=True, slots=True)
class ReadImage:
    image_id: int
    relpath: str
    case: str
    visit: str
    file: str
    kind: str
    reads: tuple[Read, ...]
    final: Final | None

    @property
    def disagree(self) -> bool:
        return len({read.label for read in self.reads}) > 1


def _final_of(row: tuple[object, ...]) -> Final | None:
    label, reason, reviewer, at = row
    return None if label is None else Final(str(label), str(reason), str(reviewer), str(at))


def read_images(conn: Connection, *, image_ids: list[int] | None = None) -> Iterator[ReadImage]:
    """Every present image with at least one whole-image read (or just `image_ids`), in queue
    order, each with its reads (readers in order of creation) and its final label if given."""
    read_rows = (
        select(
            images.c.id,
            images.c.relpath,
            images.c.case_name,
            images.c.visit,
            images.c.file,
            images.c.kind,
            annotators.c.name,
            labels.c.label,
            labels.c.comment,
            adjudications.c.label,
            adjudications.c.reason,
            adjudications.c.reviewer,
            adjudications.c.adjudicated_at,
        )
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id)
            .join(annotators, annotators.c.id == labels.c.annotator_id)
            .outerjoin(adjudications, adjudications.c.image_id == images.c.id)
        )
        .where(labels.c.frame == 0, images.c.present)
        .order_by(images.c.seq, annotators.c.id)
    )
    if image_ids is not None:
        read_rows = read_rows.where(images.c.id.in_(image_ids))
    current: list[object] | None = None
    reads: list[Read] = []
    for row in conn.execute(read_rows):
        if current is None or current[0] != row[0]:
            if current is not None:
                yield _image(current, reads)
            current, reads = list(row), []
        reads.append(Read(str(row[6]), str(row[7]), str(row[8] or "")))
    if current is not None:
        yield _image(current, reads)


def _image(row: list[object], reads: list[Read]) -> ReadImage:
    return ReadImage(
        image_id=int(str(row[0])),
        relpath=str(row[1]),
        case=str(row[2]),
        visit=str(row[3]),
        file=str(row[4]),
        kind=str(row[5]),
        reads=tuple(reads),
        final=_final_of(tuple(row[9:13])),
    )


def final_of(conn: Connection, image_id: int) -> Final | None:
    row = conn.execute(
        select(
            adjudications.c.label,
            adjudications.c.reason,
            adjudications.c.reviewer,
            adjudications.c.adjudicated_at,
        ).where(adjudications.c.image_id == image_id)
    ).first()
    return None if row is None else _final_of(tuple(row))


def put_final(
    conn: Connection,
    *,
    image_id: int,
    label: str,
    reason: str,
    reviewer: str,
    adjudicated_at: str,
    event_id: int,
    exists: bool,
) -> None:
    values = {
        "label": label,
        "reason": reason,
        "reviewer": reviewer,
        "adjudicated_at": adjudicated_at,
        "event_id": event_id,
    }
    if exists:
        conn.execute(
            adjudications.update().where(adjudications.c.image_id == image_id).values(**values)
        )
    else:
        conn.execute(adjudications.insert(), {"image_id": image_id, **values})


def final_labels(conn: Connection) -> dict[int, Final]:
    """Every final label, by image id (for the export)."""
    query = select(
        adjudications.c.image_id,
        adjudications.c.label,
        adjudications.c.reason,
        adjudications.c.reviewer,
        adjudications.c.adjudicated_at,
    )
    return {
        int(r[0]): Final(str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in conn.execute(query)
    }


def count_finals(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(adjudications)).scalar_one())


def _all_reads_query() -> Select[Any]:
    """Every whole-image read with its image and final label: present images in queue order,
    then images gone from the batch by path (their labels were given; the CSV keeps them)."""
    return (
        select(
            images.c.id,
            images.c.case_name,
            images.c.visit,
            images.c.file,
            annotators.c.name,
            labels.c.label,
            labels.c.comment,
            adjudications.c.label,
            adjudications.c.reason,
        )
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id)
            .join(annotators, annotators.c.id == labels.c.annotator_id)
            .outerjoin(adjudications, adjudications.c.image_id == images.c.id)
        )
        .where(labels.c.frame == 0)
        .order_by(images.c.seq.is_(None), images.c.seq, images.c.relpath, labels.c.annotator_id)
    )


@dataclass(frozen=True, slots=True)
class TeamImage:
    """One image's reads as the team CSVs write them."""

    case: str
    visit: str
    file: str
    reads: dict[str, tuple[str, str]]
    """Reader -> (label, comment), readers in order of creation."""
    final: tuple[str, str] | None
    """(label, reason) of the adjudication, if given."""


def iter_team_images(conn: Connection) -> Generator[TeamImage, None, None]:
    """Each labelled image once, with every reader's read and its final label (streamed)."""
    current: TeamImage | None = None
    current_id = -1
    result = conn.execution_options(yield_per=_BATCH).execute(_all_reads_query())
    for r in result:
        if current is None or current_id != int(r[0]):
            if current is not None:
                yield current
            current_id = int(r[0])
            final = None if r[7] is None else (str(r[7]), str(r[8] or ""))
            current = TeamImage(str(r[1]), str(r[2]), str(r[3]), {}, final)
        current.reads[str(r[4])] = (str(r[5]), str(r[6] or ""))
    if current is not None:
        yield current


def team_figures_query() -> Select[Any]:
    """The query behind `team_figures` (a test reads its plan)."""
    # One group per labelled image, read in the order of the labels' unique key (image first):
    # no sort. min = max compares the text exactly (a binary comparison in SQLite; ties in a
    # PostgreSQL collation are broken by the bytes), so it is "every reader gave one label".
    per_image = (
        select(
            labels.c.image_id,
            (func.min(labels.c.label) == func.max(labels.c.label)).label("same"),
        )
        .where(labels.c.frame == 0)
        .group_by(labels.c.image_id)
        .subquery("per_image")
    )
    final = adjudications.c.image_id.is_not(None)
    return select(
        func.count(adjudications.c.image_id),
        func.coalesce(func.sum(case((~final & per_image.c.same, 1), else_=0)), 0),
        func.coalesce(func.sum(case((~final & ~per_image.c.same, 1), else_=0)), 0),
    ).select_from(
        per_image.outerjoin(adjudications, adjudications.c.image_id == per_image.c.image_id)
    )


def team_figures(conn: Connection) -> tuple[int, int, int]:
    """(adjudicated, agreed, unresolved): of the images with a whole-image read (present or
    gone, as the team CSV lists them), those with a final label, those without one whose
    readers all gave the same label, and the rest. One grouped read of the labels' key, no
    row in Python: the report asks for it on every export."""
    adjudicated, agreed, unresolved = conn.execute(team_figures_query()).one()
    return int(adjudicated), int(agreed), int(unresolved)


def reader_count(conn: Connection) -> int:
    """How many people gave at least one whole-image label (a team project has two or more)."""
    query = select(func.count(func.distinct(labels.c.annotator_id))).where(labels.c.frame == 0)
    return int(conn.execute(query).scalar_one())
