"""The hash chain: each event's SHA-256 covers its own fields and its predecessor's hash.

Changing, inserting or deleting any event changes every later hash, so recomputing the chain
from the first event finds the first broken link (the construction of a hash chain as in
Haber & Stornetta 1991, "How to time-stamp a digital document").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json import encoder as json_encoder
from typing import Any

GENESIS = "0" * 64
"""The predecessor hash of the first event."""

MAX_EVENT_ID = 2**63 - 1
"""The largest id an event row can have (SQLite's INTEGER, PostgreSQL's BIGINT): a kept head
past it was edited by hand."""


@dataclass(frozen=True, slots=True)
class VerifiedHead:
    """The newest event of a chain found intact (events 1..event_id, contiguous)."""

    event_id: int
    hash: str

    @classmethod
    def from_kept_text(cls, text: str | None) -> VerifiedHead | None:
        """The head a process kept (in `meta`), or None when there is none or it is not ours to
        trust (garbage, or an id no database row can have: edited by hand); then the whole
        chain is checked."""
        try:
            found = json.loads(text) if text else None
            head = cls(int(found["event_id"]), str(found["hash"])) if found else None
        except (ValueError, TypeError, KeyError, OverflowError):  # 1e400 is infinity
            return None
        return head if head is None or 0 < head.event_id <= MAX_EVENT_ID else None

    def kept_text(self) -> str:
        """The text `from_kept_text` reads back."""
        return json.dumps({"event_id": self.event_id, "hash": self.hash})

    def unchanged(self, row: Sequence[Any] | None, count_up_to: Callable[[], int]) -> bool:
        """The head event (`row`: its HASHED_FIELDS then its stored hash, None if gone) still
        has its hash, its content still hashes to it, and exactly `event_id` events lead up to
        it (none inserted or removed below). The count is asked only of an intact row."""
        if row is None or row[-1] != self.hash or stored_values_hash(row[:-1]) != self.hash:
            return False
        return count_up_to() == self.event_id


HASHED_FIELDS: tuple[str, ...] = (
    "id",
    "ts_utc",
    "tz_offset_min",
    "actor",
    "session_id",
    "kind",
    "image_id",
    "image",
    "frame",
    "active_ms",
    "idle_ms",
    "data",
    "app_version",
    "prev_hash",
)


def _array_encoder() -> Callable[[Sequence[Any]], str]:
    """Compact JSON for a flat array, the same text as `json.dumps(list(values), separators=(",",
    ":"), ensure_ascii=False)`; CPython's C encoder is called directly when it exists, because
    verifying a million events spends most of its time here and the public wrapper doubles it.
    """
    make: Any = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # another Python: the public encoder, same output
        public = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        return lambda values: public(list(values))
    c_encode = make(None, None, json_encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda values: "".join(c_encode(values, 0))


_ENCODE = _array_encoder()


def canonical_values(values: Sequence[Any]) -> bytes:
    """The bytes that are hashed: the values of HASHED_FIELDS, in that order, as a JSON array."""
    return _ENCODE(tuple(values)).encode()


def values_hash(values: Sequence[Any]) -> str:
    return hashlib.sha256(canonical_values(values)).hexdigest()


def _unencodable(value: object) -> str:
    # NUL first: no value an event was written with is encoded as a text starting so.
    return f"\0{type(value).__name__}:{value!r}"


_STORED = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_unencodable).encode


def stored_values_hash(values: Sequence[Any]) -> str:
    """`values_hash` of an event's values as read back from the database, for a verdict on it.
    A value no event is written with (a BLOB put into the trail by hand with sqlite3) is
    hashed as a text no written event was hashed from, so the event does not match its hash,
    where `values_hash` raises (a traceback in `audit verify` and `export`)."""
    try:
        return values_hash(values)
    except TypeError:
        return hashlib.sha256(_STORED(list(values)).encode()).hexdigest()


def event_hash(row: Mapping[str, Any]) -> str:
    return values_hash([row.get(name) for name in HASHED_FIELDS])


def _data_encoder() -> Callable[[Mapping[str, Any]], str]:
    """`json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` without
    building a `JSONEncoder` on every call (which `json.dumps` does when given options: most of
    its cost for an event's small data, which a bulk import encodes once per row). The C
    encoder is made per call, as `json.dumps` makes it, with its own circular-reference
    markers: the same text and the same errors."""
    public = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    make: Any = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # another Python: the public encoder, same output
        return public.encode
    default, text = public.default, json_encoder.encode_basestring

    def encode(data: Mapping[str, Any]) -> str:
        return "".join(make({}, default, text, None, ":", ",", True, False, True)(data, 0))

    return encode


_ENCODE_DATA = _data_encoder()


def encode_data(data: Mapping[str, Any]) -> str:
    """The `data` column: canonical JSON so that the stored text is what was hashed."""
    return _ENCODE_DATA(data)
