"""The event table: append in the caller's transaction, read in order. Hashing is `audit`'s."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from clinlabel.store.driver import stream_tuples
from clinlabel.store.schema import events

EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.columns)


_LAST = select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1)
_INSERT = events.insert()


def last_link(conn: Connection) -> tuple[int, str] | None:
    """Id and hash of the newest event, or None for an empty trail."""
    found = conn.execute(_LAST).first()
    return None if found is None else (int(found[0]), str(found[1]))


def insert_event(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(_INSERT, dict(row))


def iter_events(conn: Connection, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event in id order, streamed (a long trail never sits in memory whole)."""
    result = conn.execution_options(yield_per=batch).execute(select(events).order_by(events.c.id))
    for row in result:
        yield dict(row._mapping)


def iter_chain_rows(
    conn: Connection, fields: tuple[str, ...], *, first: int = 1, last: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """(fields..., hash) of the events with ids first..last in id order, as plain tuples."""
    columns = [events.c[name] for name in fields]
    query = select(*columns, events.c.hash).where(events.c.id >= first).order_by(events.c.id)
    if last is not None:
        query = query.where(events.c.id <= last)
    yield from stream_tuples(conn, query)


def last_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def hash_of(conn: Connection, event_id: int) -> str | None:
    found = conn.execute(select(events.c.hash).where(events.c.id == event_id)).scalar()
    return None if found is None else str(found)


def count_events(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
