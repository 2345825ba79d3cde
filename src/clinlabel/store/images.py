"""Images: syncing a scan into the database, and reading the queue."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal, select, update
from sqlalchemy.engine import Connection

from clinlabel.domain import ImageRef
from clinlabel.domain.views import CaseProgress, ImageView, Progress
from clinlabel.store.case_counts import case_totals, rebuild_visits, visit_totals
from clinlabel.store.driver import insert_chunks
from clinlabel.store.labels import frame_labels_of, labelled_count, recount_progress
from clinlabel.store.page_cache import large_cache
from clinlabel.store.schema import events, images, labels, scan_staging
from clinlabel.store.sort_keys import natural_sort_key


@dataclass(frozen=True, slots=True)
class SyncCounts:
    total: int
    new: int
    removed: int
    returned: int
    touched: list[tuple[int, str, str | None]]
    """(id, relpath, sha256) of present images whose size or mtime changed since the last scan."""


SCAN_COLUMNS = (
    "seq",
    "relpath",
    "case_name",
    "visit",
    "folder",
    "file",
    "kind",
    "size",
    "mtime_ns",
    "case_key",
    "visit_key",
    "file_key",
)
"""The order of values in a scan row: queue position, the image reference's fields, then the
natural-order keys of its case, visit and file names (`store.sort_keys`)."""

ScanRow = tuple[int, str, str, str, str, str, str, int, int, bytes, bytes, bytes]


def scan_row(seq: int, ref: ImageRef) -> ScanRow:
    return (seq, ref.relpath, ref.case, ref.visit, ref.folder, ref.file, ref.kind.value,
            ref.size, ref.mtime_ns, natural_sort_key(ref.case), natural_sort_key(ref.visit),
            natural_sort_key(ref.file))  # fmt: skip


def sync_scan(conn: Connection, chunks: Iterable[Sequence[ScanRow]], *, now: str) -> SyncCounts:
    """Make the images table match a scan streamed in queue order, in chunks of `ScanRow`s.

    New images are added, images gone from disk are kept (their labels matter) but leave the
    queue, and every present image gets its new queue position. Size/mtime changes are returned
    for the caller to re-hash: only it may read files. Run with a large page cache (the
    renumbering rewrites every queue index: `store.page_cache`).
    """
    with large_cache(conn):
        return _sync_scan(conn, chunks, now=now)


def _sync_scan(conn: Connection, chunks: Iterable[Sequence[ScanRow]], *, now: str) -> SyncCounts:
    empty = conn.execute(select(func.count()).select_from(images)).scalar_one() == 0
    if empty:
        # First scan: stream straight into the images table, no staging or diff needed.
        constants = {"present": True, "changed": False, "first_seen_at": now}
        total = insert_chunks(conn, images, SCAN_COLUMNS, chunks, constants=constants)
        rebuild_visits(conn)
        return SyncCounts(total=total, new=total, removed=0, returned=0, touched=[])

    conn.execute(scan_staging.delete())
    total = insert_chunks(conn, scan_staging, SCAN_COLUMNS, chunks)
    staged = scan_staging.alias("s")
    in_scan = exists().where(staged.c.relpath == images.c.relpath)

    removed = conn.execute(
        update(images).where(images.c.present, ~in_scan).values(present=False, seq=None)
    ).rowcount
    touched = [
        (int(r[0]), str(r[1]), r[2])
        for r in conn.execute(
            select(images.c.id, images.c.relpath, images.c.sha256)
            .join(staged, staged.c.relpath == images.c.relpath)
            .where(
                # Present ones whose size or time moved, and ones coming back after being gone
                # (their bytes may be different ones now).
                ~images.c.present
                | (staged.c.size != images.c.size)
                | (staged.c.mtime_ns != images.c.mtime_ns),
            )
        )
    ]
    returned = conn.execute(
        select(func.count()).select_from(images).where(~images.c.present, in_scan)
    ).scalar_one()
    # Positions, sizes and times follow the scan for everything still (or again) on disk. Only
    # rows that differ are written: every index holding `seq` (the queue's and the review sorts')
    # is rewritten for a row that is, and an unchanged rescan then writes nothing.
    conn.execute(
        update(images)
        .where(
            images.c.relpath == staged.c.relpath,
            images.c.seq.is_distinct_from(staged.c.seq)
            | (images.c.size != staged.c.size)
            | (images.c.mtime_ns != staged.c.mtime_ns)
            | ~images.c.present,
        )
        .values(
            seq=staged.c.seq,
            size=staged.c.size,
            mtime_ns=staged.c.mtime_ns,
            present=True,
        )
    )
    known = select(images.c.relpath).where(images.c.relpath == staged.c.relpath).exists()
    # Counted before the insert: drivers differ on rowcount for INSERT ... SELECT.
    new = conn.execute(select(func.count()).select_from(staged).where(~known)).scalar_one()
    conn.execute(
        images.insert().from_select(
            [*SCAN_COLUMNS, "present", "changed", "first_seen_at"],
            select(
                *(staged.c[name] for name in SCAN_COLUMNS),
                literal(True),
                literal(False),
                literal(now),
            ).where(~known),
        )
    )
    conn.execute(scan_staging.delete())
    # Images that left or came back change what each annotator has labelled.
    recount_progress(conn)
    rebuild_visits(conn)
    return SyncCounts(
        total=total, new=int(new), removed=removed, returned=int(returned), touched=touched
    )


# Statements on the labelling hot path are built once with bind parameters: building a
# SQLAlchemy statement per call costs more than the SQLite work behind it.
# Parameters are prefixed (b_): SQLAlchemy reserves column names for an UPDATE's SET values, and
# the SET columns come from the other parameter names given at execution.
_RECORD_HASH = update(images).where(images.c.id == bindparam("b_id"))
_MARK_CHANGED = update(images).where(images.c.id == bindparam("b_id")).values(changed=True)
_FILE_INFO = select(
    images.c.relpath, images.c.sha256, images.c.kind, images.c.seq, images.c.changed
).where(images.c.id == bindparam("image_id"))
_COUNT_CHANGED = select(func.count()).select_from(images).where(images.c.changed)
_POSITION_BY_ID = select(images.c.seq).where(images.c.present, images.c.id == bindparam("key"))
_POSITION_BY_PATH = select(images.c.seq).where(
    images.c.present, images.c.relpath == bindparam("key")
)
_LABELLED_BY = and_(
    labels.c.image_id == images.c.id,
    labels.c.annotator_id == bindparam("annotator_id"),
    labels.c.frame == 0,
)
_SECONDS = (
    select(func.sum(events.c.active_ms))
    .where(events.c.image_id == images.c.id, events.c.actor == bindparam("annotator"))
    .scalar_subquery()
)
_QUEUE = (
    select(
        images.c.id,
        images.c.seq,
        images.c.relpath,
        images.c.case_name,
        images.c.visit,
        images.c.folder,
        images.c.file,
        images.c.kind,
        labels.c.label,
        labels.c.comment,
        labels.c.labelled_at,
        _SECONDS,
        images.c.changed,
        labels.c.event_id,
    )
    .select_from(images.outerjoin(labels, _LABELLED_BY))
    .where(images.c.seq >= bindparam("first"), images.c.seq <= bindparam("last"))
    .order_by(images.c.seq)
)
_VIEW_BY_ID = _QUEUE.where(images.c.id == bindparam("image_id"))


def record_hash(conn: Connection, image_id: int, sha256: str, *, changed: bool = False) -> None:
    """The bytes labelled now are the image's reference bytes; `changed` flags that they differ
    from those an earlier label was given to (found at the save, not by a rescan)."""
    conn.execute(_RECORD_HASH, {"b_id": image_id, "sha256": sha256, "changed": changed})


def mark_changed(conn: Connection, image_id: int) -> None:
    conn.execute(_MARK_CHANGED, {"b_id": image_id})


@dataclass(frozen=True, slots=True)
class FileInfo:
    relpath: str
    sha256: str | None
    kind: str
    position: int | None
    """Queue position; None once the file has gone from the batch."""
    changed: bool = False
    """The bytes differ from those hashed at the first label (flagged by a rescan)."""


def image_file_info(conn: Connection, image_id: int) -> FileInfo | None:
    """Where an image's file is and what is known of it, or None if there is no such image."""
    row = conn.execute(_FILE_INFO, {"image_id": image_id}).first()
    return None if row is None else FileInfo(str(row[0]), row[1], str(row[2]), row[3], bool(row[4]))


_QUEUE_LENGTH = select(func.coalesce(func.max(images.c.seq), 0))


def queue_length(conn: Connection) -> int:
    """How many images are in the queue: present images hold positions 1..N without gaps and
    the others none (`sync_scan`), so it is the last position, one index probe."""
    return int(conn.execute(_QUEUE_LENGTH).scalar_one())


def count_present(conn: Connection) -> int:
    """Images present in the batch: those with a position, 1..N without gaps, so the queue's
    length (one index probe). Counting `present` read the whole table: the session's start
    (before the launch's first image) and every navigation paid it (issue 14)."""
    return queue_length(conn)


def count_changed(conn: Connection) -> int:
    return int(conn.execute(_COUNT_CHANGED).scalar_one())


def queue_views(
    conn: Connection, *, annotator_id: int | None, annotator: str | None, first: int, last: int
) -> list[ImageView]:
    """Images at queue positions first..last with this annotator's whole-file label."""
    params = {
        "annotator_id": -1 if annotator_id is None else annotator_id,
        "annotator": annotator or "",
        "first": first,
        "last": last,
    }
    return _views(conn, conn.execute(_QUEUE, params).all(), annotator, annotator_id)


def _views(
    conn: Connection, rows: Sequence[Any], annotator: str | None, annotator_id: int | None
) -> list[ImageView]:
    frames = frame_labels_of(conn, image_ids=[int(r[0]) for r in rows], annotator_id=annotator_id)
    return [
        ImageView(
            id=int(r[0]),
            position=int(r[1]),
            relpath=r[2],
            case=r[3],
            visit=r[4],
            folder=r[5],
            file=r[6],
            kind=r[7],
            label=r[8],
            comment=r[9] or "",
            labelled_at=r[10],
            seconds=None if r[11] is None else int(r[11]) / 1000.0,
            annotator=annotator if r[8] is not None else None,
            changed=bool(r[12]),
            frame_labels=frames.get(int(r[0]), ()),
            version=0 if r[13] is None else int(r[13]),
        )
        for r in rows
    ]


def view_of(
    conn: Connection, *, image_id: int, annotator_id: int | None, annotator: str | None
) -> ImageView | None:
    """One image with this annotator's whole-file label, by id; None if not in the queue."""
    params = {
        "annotator_id": -1 if annotator_id is None else annotator_id,
        "annotator": annotator or "",
        "first": 1,
        "last": 2**31 - 1,
        "image_id": image_id,
    }
    rows = conn.execute(_VIEW_BY_ID, params).all()
    return _views(conn, rows, annotator, annotator_id)[0] if rows else None


def position_of(
    conn: Connection, *, image_id: int | None = None, relpath: str | None = None
) -> int | None:
    if image_id is not None:
        found = conn.execute(_POSITION_BY_ID, {"key": image_id}).scalar()
    else:
        found = conn.execute(_POSITION_BY_PATH, {"key": relpath}).scalar()
    return None if found is None else int(found)


_UNLABELLED = ~exists().where(_LABELLED_BY)
_NEXT_UNLABELLED_AFTER = select(func.min(images.c.seq)).where(
    images.c.seq > bindparam("after"), _UNLABELLED
)
_NEXT_UNLABELLED_FROM_START = select(func.min(images.c.seq)).where(images.c.seq >= 1, _UNLABELLED)


def next_unlabelled(conn: Connection, *, annotator_id: int, after: int) -> int | None:
    """Queue position of the first image after `after` without a label, wrapping round once."""
    for statement in (_NEXT_UNLABELLED_AFTER, _NEXT_UNLABELLED_FROM_START):
        found = conn.execute(statement, {"annotator_id": annotator_id, "after": after}).scalar()
        if found is not None:
            return int(found)
    return None


def case_visits(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(case, visit, first position, images) of every visit in the queue, in queue order: read
    from the visits kept by the scan (store.case_counts), not counted over the images."""
    return visit_totals(conn)


def progress(conn: Connection, *, annotator_id: int | None) -> Progress:
    """Constant time: every save answers with it, whatever the size of the project."""
    total = queue_length(conn)
    labelled = 0
    if annotator_id is not None:
        labelled = labelled_count(conn, annotator_id=annotator_id)
    percent = round(100.0 * labelled / total, 1) if total else 0.0
    return Progress(total=total, labelled=labelled, remaining=total - labelled, percent=percent)


def case_progress(conn: Connection, *, annotator_id: int | None) -> list[CaseProgress]:
    """Each case's images and this annotator's labelled ones, from the kept counts."""
    return [
        CaseProgress(case=case, total=total, labelled=labelled, first_position=first)
        for case, total, labelled, first in case_totals(conn, annotator_id=annotator_id)
    ]


def all_images(conn: Connection) -> Iterator[tuple[int, str, str, str, str]]:
    """(id, relpath, case, visit, file) of every present image in queue order."""
    query = (
        select(images.c.id, images.c.relpath, images.c.case_name, images.c.visit, images.c.file)
        .where(images.c.present)
        .order_by(images.c.seq)
    )
    for row in conn.execute(query):
        yield (int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))


_IN_CHUNK = 400  # pairs per statement: well under every driver's limit on bound values


def cases_known(conn: Connection, names: Collection[str]) -> set[str]:
    """Which of these case names have images in the queue."""
    wanted = sorted(names)
    found: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        query = (
            select(images.c.case_name)
            .where(
                images.c.case_name.in_(wanted[start : start + _IN_CHUNK]), images.c.seq.is_not(None)
            )
            .distinct()
        )
        found.update(str(r[0]) for r in conn.execute(query))
    return found


def hashed_images(conn: Connection) -> list[tuple[int, str, str | None]]:
    """(id, relpath, sha256) of every present image whose bytes were hashed (labelled ones)."""
    query = (
        select(images.c.id, images.c.relpath, images.c.sha256)
        .where(images.c.present, images.c.sha256.is_not(None))
        .order_by(images.c.seq)
    )
    return [(int(r[0]), str(r[1]), r[2]) for r in conn.execute(query)]
