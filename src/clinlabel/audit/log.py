"""Append events in the caller's transaction; verify the chain (from the start or a point)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit.chain import GENESIS, HASHED_FIELDS, encode_data, event_hash, values_hash
from clinlabel.audit.events import NewEvent
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import REPORT_EVERY, ProgressSink, no_progress
from clinlabel.domain.regions import geometry_sha256
from clinlabel.store import events as event_rows
from clinlabel.store import regions as region_rows
from clinlabel.store.store import Store


def utc_now() -> str:
    """UTC time in ISO 8601 with microseconds and a Z, the form every stored time uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_offset_minutes() -> int:
    offset = datetime.now().astimezone().utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


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
    row["hash"] = event_hash(row)
    event_rows.insert_event(conn, row)
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
        values = (
            next_id,
            event.ts_utc or utc_now(),
            event.tz_offset_min if event.tz_offset_min is not None else offset,
            event.actor,
            event.session_id,
            str(event.kind),
            event.image_id,
            event.image,
            event.frame,
            event.active_ms,
            event.idle_ms,
            encode_data(event.data),
            __version__,
            prev_hash,
        )
        prev_hash = values_hash(values)
        rows.append(dict(zip(_STORED_FIELDS, (*values, prev_hash), strict=True)))
        next_id += 1
    event_rows.insert_events(conn, rows)
    return list(range(first, next_id))


_STORED_FIELDS = (*HASHED_FIELDS, "hash")
assert HASHED_FIELDS == (
    "id", "ts_utc", "tz_offset_min", "actor", "session_id", "kind", "image_id", "image",
    "frame", "active_ms", "idle_ms", "data", "app_version", "prev_hash",
), "append_events builds its values in this order"  # fmt: skip


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


def record_mismatch(conn: Connection) -> tuple[int, str] | None:
    """The first current label or region that the trail does not account for, with the reason;
    or a kept region geometry whose text no longer has the hash its events recorded."""
    found = event_rows.first_label_mismatch(conn) or region_rows.first_region_mismatch(conn)
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


VERIFYING = "Checking the audit trail"


def verify_range(
    conn: Connection,
    *,
    first: int,
    prev_hash: str,
    last: int | None = None,
    progress: ProgressSink = no_progress,
) -> ChainStatus:
    """Verify events first..last (all from `first`), the first linking to `prev_hash`."""
    expected_id = first
    count = 0
    id_at, prev_at = HASHED_FIELDS.index("id"), HASHED_FIELDS.index("prev_hash")
    total = None if last is None else last - first + 1
    for row in event_rows.iter_chain_rows(conn, HASHED_FIELDS, first=first, last=last):
        count += 1
        if count % REPORT_EVERY == 0:
            progress(VERIFYING, count, total)
        event_id = int(row[id_at])
        if event_id != expected_id:
            return ChainStatus(
                False,
                count,
                prev_hash,
                expected_id,
                f"event {expected_id} is missing (the next event is {event_id})",
            )
        if row[prev_at] != prev_hash:
            return ChainStatus(
                False,
                count,
                prev_hash,
                event_id,
                "its link to the previous event does not match (an event before it was "
                "changed, inserted or removed)",
            )
        stored = row[-1]
        if values_hash(row[:-1]) != stored:
            return ChainStatus(
                False, count, prev_hash, event_id, "its content does not match its hash"
            )
        prev_hash = str(stored)
        expected_id += 1
    if last is not None and expected_id != last + 1:
        return ChainStatus(False, count, prev_hash, expected_id, f"event {expected_id} is missing")
    return ChainStatus(True, count, prev_hash)
