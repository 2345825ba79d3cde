"""An event as the values it is stored and hashed with, without the database layer.

`audit.log.append_events` builds its rows here, and so does the CSV export of an SQLite project
(`labelling.csv_export`), which writes its event with the standard library's sqlite3: one
definition of what an appended event holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clinlabel import __version__
from clinlabel.audit.chain import HASHED_FIELDS, encode_data
from clinlabel.audit.events import NewEvent


def utc_now() -> str:
    """UTC time in ISO 8601 with microseconds and a Z, the form every stored time uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_offset_minutes() -> int:
    offset = datetime.now().astimezone().utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def event_values(event: NewEvent, event_id: int, prev_hash: str, offset: int) -> tuple[object, ...]:
    """The values of `event` appended as `event_id` after `prev_hash`, in HASHED_FIELDS order
    (hashed as they are, then stored with the hash); `offset`: the local time's, in minutes."""
    return (
        event_id,
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


STORED_FIELDS = (*HASHED_FIELDS, "hash")
assert HASHED_FIELDS == (
    "id", "ts_utc", "tz_offset_min", "actor", "session_id", "kind", "image_id", "image",
    "frame", "active_ms", "idle_ms", "data", "app_version", "prev_hash",
), "event_values builds its values in this order"  # fmt: skip
