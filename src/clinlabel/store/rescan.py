"""A labelling server's rescan: what the last scan recorded (read back in the form a new scan
produces, for comparing), and the short steps that record a changed batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, exists, func, literal, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.case_counts import replace_visits, shift_counts
from clinlabel.store.driver import insert_chunks
from clinlabel.store.images import SCAN_COLUMNS, ScanRow
from clinlabel.store.meta import get_meta, set_meta
from clinlabel.store.schema import images, scan_staging
from clinlabel.store.schema import meta as meta_table
from clinlabel.store.seconds import shift_timed

_PRESENT_ROWS = (
    select(
        images.c.seq,
        images.c.relpath,
        images.c.case_name,
        images.c.visit,
        images.c.folder,
        images.c.file,
        images.c.kind,
        images.c.size,
        images.c.mtime_ns,
        images.c.case_key,
        images.c.visit_key,
        images.c.file_key,
    )
    .where(images.c.seq.is_not(None))
    .order_by(images.c.seq)
)


def recorded_scan_rows(conn: Connection) -> Iterator[ScanRow]:
    """The present images as `ScanRow`s in queue order: equal to a new scan's rows, row for
    row, exactly when nothing in the batch changed (files, sizes, times, order)."""
    for row in conn.execute(_PRESENT_ROWS):
        # The natural-order keys are stored bytes (a driver may hand back a memoryview).
        yield (int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]),
               str(row[6]), int(row[7]), int(row[8]), bytes(row[9]), bytes(row[10]),
               bytes(row[11]))  # fmt: skip


# --- A rescan recorded in short steps (labelling.rescan, a labelling server's background rescan).
# Each function below is one short write transaction of the caller's, or a read: a label save
# waits at most one step, not the whole rescan (issue 14: 1.2 s at 100,000 images). What a reader
# sees between steps, and what is deferred to the last step so that an interrupted rescan is
# found again in full by the next one, is said in labelling.rescan.

APPLYING = "rescan_applying"
"""Meta key set from the first step that changes the images until the last: present while a
rescan's changes are partly recorded (the next open rescans in full before serving)."""

STEP = 4000
"""Rows per step: about 50 ms of writing at 100,000 images on a laptop."""


@dataclass(frozen=True, slots=True)
class PlannedScan:
    """What recording the staged scan will change, found by reading before anything is written."""

    total: int
    new: int
    removed: int
    returned: int
    touched: list[tuple[int, str, str | None, int, int, bool]]
    """(id, relpath, recorded sha256, new size, new mtime, present before) of images whose size
    or time moved, or that come back: their new figures and presence are written by the last step
    only, with the re-hash, so that a rescan cut short finds them again."""
    visits: list[tuple[str, str, int, int]]
    """The new queue's visits: (case, visit, first position, images)."""
    last_id: int
    """The highest image id before recording (the removal steps walk ids up to it)."""


def clear_staging_step(conn: Connection) -> int:
    """Remove up to STEP rows of an earlier scan's staging; the number removed (0: empty)."""
    first = select(scan_staging.c.seq).order_by(scan_staging.c.seq).offset(STEP - 1).limit(1)
    bound = conn.execute(first).scalar()
    statement = scan_staging.delete()
    if bound is not None:
        statement = statement.where(scan_staging.c.seq <= bound)
    return int(conn.execute(statement).rowcount)


def stage_step(conn: Connection, rows: Sequence[ScanRow]) -> None:
    """Add rows of the new scan to the staging table (nobody else reads it)."""
    insert_chunks(conn, scan_staging, SCAN_COLUMNS, [rows])


def plan_scan(conn: Connection) -> PlannedScan:
    """Read what the staged scan changes (no write: runs beside label saves)."""
    staged = scan_staging.alias("s")
    in_scan = exists().where(staged.c.relpath == images.c.relpath)
    known = select(images.c.relpath).where(images.c.relpath == staged.c.relpath).exists()
    total = conn.execute(select(func.count()).select_from(staged)).scalar_one()
    removed = conn.execute(
        select(func.count()).select_from(images).where(images.c.present, ~in_scan)
    ).scalar_one()
    returned = conn.execute(
        select(func.count()).select_from(images).where(~images.c.present, in_scan)
    ).scalar_one()
    new = conn.execute(select(func.count()).select_from(staged).where(~known)).scalar_one()
    touched = [
        (int(r[0]), str(r[1]), r[2], int(r[3]), int(r[4]), bool(r[5]))
        for r in conn.execute(
            select(
                images.c.id,
                images.c.relpath,
                images.c.sha256,
                staged.c.size,
                staged.c.mtime_ns,
                images.c.present,
            )
            .join(staged, staged.c.relpath == images.c.relpath)
            .where(
                ~images.c.present
                | (staged.c.size != images.c.size)
                | (staged.c.mtime_ns != images.c.mtime_ns)
            )
        )
    ]
    visits = [
        (str(r[0]), str(r[1]), int(r[2]), int(r[3]))
        for r in conn.execute(
            select(staged.c.case_name, staged.c.visit, func.min(staged.c.seq), func.count())
            .group_by(staged.c.case_name, staged.c.visit)
            .order_by(func.min(staged.c.seq))
        )
    ]
    last_id = conn.execute(select(func.coalesce(func.max(images.c.id), 0))).scalar_one()
    return PlannedScan(
        total=int(total),
        new=int(new),
        removed=int(removed),
        returned=int(returned),
        touched=touched,
        visits=visits,
        last_id=int(last_id),
    )


def mark_applying(conn: Connection) -> None:
    set_meta(conn, APPLYING, "1")


def is_applying(conn: Connection) -> bool:
    """A rescan's changes were being recorded when its server stopped."""
    return bool(get_meta(conn, APPLYING))


def remove_step(conn: Connection, first_id: int, last_id: int) -> int:
    """Images with ids in [first_id, last_id] gone from the scan leave the queue (their labels
    stay, no longer counted as progress). Returns how many left."""
    staged = scan_staging.alias("s")
    gone = [
        int(r[0])
        for r in conn.execute(
            select(images.c.id).where(
                images.c.id >= first_id,
                images.c.id <= last_id,
                images.c.present,
                ~exists().where(staged.c.relpath == images.c.relpath),
            )
        )
    ]
    if not gone:
        return 0
    shift_counts(conn, gone, delta=-1)
    shift_timed(conn, gone, delta=-1)
    conn.execute(update(images).where(images.c.id.in_(gone)).values(present=False, seq=None))
    return len(gone)


def place_step(conn: Connection, first_seq: int, last_seq: int, *, now: str) -> None:
    """The staged rows at positions [first_seq, last_seq]: known images take their new position
    (only that: size, time and presence of changed or returning ones wait for the last step),
    new ones are added."""
    staged = scan_staging.alias("s")
    in_range = and_(staged.c.seq >= first_seq, staged.c.seq <= last_seq)
    conn.execute(
        update(images)
        .where(
            images.c.relpath == staged.c.relpath,
            in_range,
            images.c.seq.is_distinct_from(staged.c.seq),
        )
        .values(seq=staged.c.seq)
    )
    known = select(images.c.relpath).where(images.c.relpath == staged.c.relpath).exists()
    conn.execute(
        images.insert().from_select(
            [*SCAN_COLUMNS, "present", "changed", "first_seen_at"],
            select(
                *(staged.c[name] for name in SCAN_COLUMNS),
                literal(True),
                literal(False),
                literal(now),
            ).where(in_range, ~known),
        )
    )


def finish_places(conn: Connection, planned: PlannedScan) -> None:
    """The last step's share of the images: changed and returning images get their new size and
    time and are present again (their labels counted as progress again), and the visits are the
    new queue's. Clears the mark of a rescan being recorded."""
    if planned.touched:
        returning = [t[0] for t in planned.touched if not t[5]]
        conn.execute(
            update(images)
            .where(images.c.id == bindparam("t_id"))
            .values(size=bindparam("t_size"), mtime_ns=bindparam("t_mtime"), present=True),
            [{"t_id": t[0], "t_size": t[3], "t_mtime": t[4]} for t in planned.touched],
        )
        shift_counts(conn, returning, delta=1)
        shift_timed(conn, returning, delta=1)
    replace_visits(conn, planned.visits)
    clear_applying(conn)


def clear_applying(conn: Connection) -> None:
    conn.execute(delete(meta_table).where(meta_table.c.key == APPLYING))
