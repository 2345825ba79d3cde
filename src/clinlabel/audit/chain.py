"""The hash chain: each event's SHA-256 covers its own fields and its predecessor's hash.

Changing, inserting or deleting any event changes every later hash, so recomputing the chain
from the first event finds the first broken link (the construction of a hash chain as in
Haber & Stornetta 1991, "How to time-stamp a digital document").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS = "0" * 64
"""The predecessor hash of the first event."""

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


# One encoder for every event: building a JSONEncoder per call would dominate verification.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def canonical_values(values: Sequence[Any]) -> bytes:
    """The bytes that are hashed: the values of HASHED_FIELDS, in that order, as a JSON array."""
    return _ENCODE(list(values)).encode()


def values_hash(values: Sequence[Any]) -> str:
    return hashlib.sha256(canonical_values(values)).hexdigest()


def event_hash(row: Mapping[str, Any]) -> str:
    return values_hash([row.get(name) for name in HASHED_FIELDS])


def encode_data(data: Mapping[str, Any]) -> str:
    """The `data` column: canonical JSON so that the stored text is what was hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
