"""The event table: append in the caller's transaction, read in order. Hashing is `audit`'s."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import events

EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.columns)


def last_link(conn: Connection) -> tuple[int, str] | None:
    """Id and hash of the newest event, or None for an empty trail."""
    row = conn.execute(select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1))
    found = row.first()
    return None if found is None else (int(found[0]), str(found[1]))


def insert_event(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(events.insert().values(**row))


def iter_events(conn: Connection, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event in id order, streamed (a long trail never sits in memory whole)."""
    result = conn.execution_options(yield_per=batch).execute(select(events).order_by(events.c.id))
    for row in result:
        yield dict(row._mapping)


def count_events(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
