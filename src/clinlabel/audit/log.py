"""Append events in the caller's transaction; verify the chain (from the start or a point)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit import landing
from clinlabel.audit.chain import GENESIS, HASHED_FIELDS, encode_data, event_hash, values_hash
from clinlabel.audit.events import NewEvent
from clinlabel.audit.links import VERIFYING as VERIFYING
from clinlabel.audit.links import check_links
from clinlabel.audit.rows import STORED_FIELDS, event_values
from clinlabel.audit.rows import local_offset_minutes as local_offset_minutes
from clinlabel.audit.rows import utc_now as utc_now
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.domain.regions import geometry_sha256
from clinlabel.store import events as event_rows
from clinlabel.store import regions as region_rows
from clinlabel.store.store import Store


def append_event(conn: Connection, event: NewEvent) -> int:
    """Append `event` inside the caller's write transaction and return its id.

    The caller's transaction is what makes the event and the change it records one unit: both
    are written or neither is. Writers are serialised by the store (SQLite BEGIN IMMEDIATE,
    a PostgreSQL advisory lock), so reading the last link here cannot race another writer.
    """
    last = event_rows.last_link(conn)
    new_id, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    row: dict[str, object] = {
        "id": new_id,
        "ts_utc": event.ts_utc or utc_now(),
        "tz_offset_min": (
            event.tz_offset_min if event.tz_offset_min is not None else local_offset_minutes()
        ),
        "actor": event.actor,
        "session_id": event.session_id,
        "kind": str(event.kind),
        "image_id": event.image_id,
        "image": event.image,
        "frame": event.frame,
        "active_ms": event.active_ms,
        "idle_ms": event.idle_ms,
        "data": encode_data(event.data),
        "app_version": __version__,
        "prev_hash": prev_hash,
    }
    row["hash"] = digest = event_hash(row)
    event_rows.insert_event(conn, row)
    landing.appended(new_id, digest)
    return new_id


def append_events(conn: Connection, new: Sequence[NewEvent]) -> list[int]:
    """Append `new` in order inside the caller's write transaction and return their ids: the
    chain's last link is read once, every hash computed here in one pass, and the rows written
    by one executemany (a bulk import: one event per label, without a statement per event)."""
    if not new:
        return []
    last = event_rows.last_link(conn)
    first, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    offset = local_offset_minutes()
    rows: list[dict[str, object]] = []
    next_id = first
    for event in new:
        # The values in HASHED_FIELDS order, hashed as they are and then stored with the hash:
        # one tuple a row, no dict to look the fields up in again.
        values = event_values(event, next_id, prev_hash, offset)
        prev_hash = values_hash(values)
        rows.append(dict(zip(STORED_FIELDS, (*values, prev_hash), strict=True)))
        next_id += 1
    event_rows.insert_events(conn, rows)
    landing.appended(next_id - 1, prev_hash)
    return list(range(first, next_id))


def verify_chain(conn: Connection, *, progress: ProgressSink = no_progress) -> ChainStatus:
    """Recompute every hash in order; name the first event whose link or content is wrong."""
    return verify_range(conn, first=1, prev_hash=GENESIS, progress=progress)


def verify_store(store: Store) -> ChainStatus:
    """The whole chain, and the current labels and their images against it.

    Exports read the current labels, so an edit there must show even when the trail itself is
    intact: every current label must be the one its newest label event set, with the image,
    time and hash that event recorded (`store.events.first_label_mismatch`).
    """
    with store.read() as conn:
        return with_labels(verify_chain(conn), record_mismatch(conn))


def record_mismatch(conn: Connection, *, after: int | None = None) -> tuple[int, str] | None:
    """The first current label or region that the trail does not account for, with the reason;
    or a kept region geometry whose text no longer has the hash its events recorded. `after`:
    the labels up to that event were shown unchanged since a full check (`audit.label_digest`),
    only the newer ones are compared (regions are, in full)."""
    found = event_rows.first_label_mismatch(conn, after=after) or region_rows.first_region_mismatch(
        conn
    )
    if found is not None:
        return found
    for sha256, text in region_rows.iter_geometries(conn):
        if geometry_sha256(text) != sha256:
            return (
                region_rows.first_event_naming(conn, sha256) or 0,
                "a region's kept geometry does not match the hash its events recorded",
            )
    return None


def with_labels(status: ChainStatus, mismatch: tuple[int, str] | None) -> ChainStatus:
    if not status.ok or mismatch is None:
        return status
    return ChainStatus(False, status.events, status.head_hash, mismatch[0], mismatch[1])


def verify_range(
    conn: Connection,
    *,
    first: int,
    prev_hash: str,
    last: int | None = None,
    progress: ProgressSink = no_progress,
) -> ChainStatus:
    """Verify events first..last (all from `first`), the first linking to `prev_hash`."""
    # Closed here, also when interrupted: the row stream's cursor must not outlive its
    # connection ("Exception ignored ... closed database" after Ctrl+C).
    with contextlib.closing(
        event_rows.iter_chain_rows(conn, HASHED_FIELDS, first=first, last=last)
    ) as rows:
        return check_links(rows, first=first, prev_hash=prev_hash, last=last, progress=progress)
