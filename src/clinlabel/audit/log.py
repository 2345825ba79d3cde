"""Append events in the caller's transaction; verify the whole chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit.chain import GENESIS, HASHED_FIELDS, encode_data, event_hash, values_hash
from clinlabel.audit.events import NewEvent
from clinlabel.store import events as event_rows


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


@dataclass(frozen=True, slots=True)
class ChainStatus:
    ok: bool
    events: int
    head_hash: str
    first_broken_event: int | None = None
    reason: str | None = None


def verify_chain(conn: Connection) -> ChainStatus:
    """Recompute every hash in order; name the first event whose link or content is wrong."""
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    id_at, prev_at = HASHED_FIELDS.index("id"), HASHED_FIELDS.index("prev_hash")
    for row in event_rows.iter_chain_rows(conn, HASHED_FIELDS):
        count += 1
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
    return ChainStatus(True, count, prev_hash)
