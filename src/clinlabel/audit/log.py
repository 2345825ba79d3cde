"""Append events in the caller's transaction; verify the whole chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit.chain import GENESIS, HASHED_FIELDS, encode_data, event_hash, values_hash
from clinlabel.audit.events import NewEvent
from clinlabel.audit.status import ChainStatus
from clinlabel.forked import can_fork, start_forked
from clinlabel.store import events as event_rows
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


PARALLEL_FROM = 200_000
"""Chains at least this long are verified in two halves on two cores."""


def verify_chain(conn: Connection) -> ChainStatus:
    """Recompute every hash in order; name the first event whose link or content is wrong."""
    return _verify_range(conn, first=1, last=None, prev_hash=GENESIS)


def verify_store(store: Store) -> ChainStatus:
    """The chain, and the current labels against it (see `start_verify_store`)."""
    return start_verify_store(store)()


def start_verify_store(store: Store) -> Callable[[], ChainStatus]:
    """Start verifying the chain and the current labels; the returned function gives the result.

    Exports read the current labels, so an edit there must show even when the trail itself is
    intact: every current label must be the one its newest label event set. A long chain is
    checked in two halves in forked processes, with the labels checked in a third, so that a
    million-event project is verified on both cores: each half checks its own links and
    hashes, the second starting from the hash stored in the event before it, which the first
    half checks in turn, so every link is checked once.
    """
    with store.read() as conn:
        end = event_rows.last_id(conn)
        if end < PARALLEL_FROM or not can_fork():
            status = _with_labels(verify_chain(conn), event_rows.first_label_mismatch(conn))
            return lambda: status
        middle = end // 2
        boundary = event_rows.hash_of(conn, middle) or ""

    def forked(work: Callable[[Connection], object]) -> Callable[[], object]:
        def run() -> object:
            store.engine.dispose(close=False)  # the parent's pooled connections are not ours
            with store.read() as conn:
                return work(conn)

        return run

    pending = start_forked(
        [
            forked(lambda conn: _verify_range(conn, first=1, last=middle, prev_hash=GENESIS)),
            forked(
                lambda conn: _verify_range(conn, first=middle + 1, last=end, prev_hash=boundary)
            ),
            forked(event_rows.first_label_mismatch),
        ]
    )

    def result() -> ChainStatus:
        first, second, labels = pending()
        assert isinstance(first, ChainStatus) and isinstance(second, ChainStatus)
        if not first.ok:
            return first
        if not second.ok:
            return replace(second, events=first.events + second.events)
        whole = ChainStatus(True, first.events + second.events, second.head_hash)
        assert labels is None or isinstance(labels, tuple)
        return _with_labels(whole, labels)

    return result


def _with_labels(status: ChainStatus, mismatch: tuple[int, str] | None) -> ChainStatus:
    if not status.ok or mismatch is None:
        return status
    return ChainStatus(False, status.events, status.head_hash, mismatch[0], mismatch[1])


def _verify_range(conn: Connection, *, first: int, last: int | None, prev_hash: str) -> ChainStatus:
    expected_id = first
    count = 0
    id_at, prev_at = HASHED_FIELDS.index("id"), HASHED_FIELDS.index("prev_hash")
    for row in event_rows.iter_chain_rows(conn, HASHED_FIELDS, first=first, last=last):
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
    if last is not None and expected_id != last + 1:
        return ChainStatus(False, count, prev_hash, expected_id, f"event {expected_id} is missing")
    return ChainStatus(True, count, prev_hash)
