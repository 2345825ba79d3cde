"""Appending many image events of one actor and one time at once (a bulk import's labels).

`log.append_events` takes typed `NewEvent`s with their data as dictionaries and encodes each
generically: for an import of 100,000 rows that encoding (a JSON encoder per event, then the
array of every field through it again) cost more than writing the rows. Here the caller hands
over each event's data already as canonical JSON text (`chain.encode_data`'s form) and only the
fields that vary per event; the array that is hashed is written from a template whose fixed
parts (time, offset, actor, version) are encoded once. The bytes hashed, the hash and the row
stored are the ones `append_events` makes for the same events (checked by the tests against
it), so `audit verify` cannot tell the two apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from json.encoder import encode_basestring

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit import landing
from clinlabel.audit.chain import GENESIS
from clinlabel.audit.events import EventKind
from clinlabel.audit.log import local_offset_minutes
from clinlabel.store import events as event_rows

ImageEvent = tuple[EventKind, int, str, int, str]
"""kind, image id, image (relpath), frame, data: canonical JSON text (`chain.encode_data`)."""

_VARYING = ("id", "actor", "kind", "image_id", "image", "frame", "data", "prev_hash", "hash")
"""The stored fields bound in each row; the others are the statement's constants."""


def append_image_events(
    conn: Connection, *, actor: str, ts_utc: str, new: Sequence[ImageEvent]
) -> list[int]:
    """Append `new` in order inside the caller's write transaction and return their ids; each
    event has no session and no active or idle time (none accrues to the image's sums)."""
    if not new:
        return []
    last = event_rows.last_link(conn)
    first, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    offset = local_offset_minutes()
    # The array `chain.canonical_values` hashes, for HASHED_FIELDS in order: JSON of ints is
    # their decimal text, of strings `encode_basestring` (the encoder `ensure_ascii=False`
    # uses), of None `null`. The per-event parts are id, kind, image id, image, frame, data
    # and the previous hash (hexadecimal: its JSON is itself in quotes).
    fixed = f"{encode_basestring(ts_utc)},{int(offset)},{encode_basestring(actor)},null,"
    version = encode_basestring(__version__)
    kinds = {kind: encode_basestring(str(kind)) for kind in {event[0] for event in new}}
    sha256 = hashlib.sha256
    rows: list[tuple[object, ...]] = []
    event_id = first
    for kind, image_id, image, frame, data in new:
        text = (
            f"[{int(event_id)},{fixed}{kinds[kind]},{int(image_id)},{encode_basestring(image)},"
            f'{int(frame)},null,null,{encode_basestring(data)},{version},"{prev_hash}"]'
        )
        digest = sha256(text.encode()).hexdigest()
        rows.append((event_id, actor, str(kind), image_id, image, frame, data, prev_hash, digest))
        prev_hash = digest
        event_id += 1
    # The fields every event shares are written as constants of the statement, not bound in
    # each row: six values fewer to bind a row took a third off the events' insert.
    constants = {
        "ts_utc": ts_utc,
        "tz_offset_min": offset,
        "session_id": None,
        "active_ms": None,
        "idle_ms": None,
        "app_version": __version__,
    }
    event_rows.insert_event_values(conn, _VARYING, rows, constants=constants)
    landing.appended(event_id - 1, prev_hash)
    return list(range(first, event_id))
