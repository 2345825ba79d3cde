"""Annotators and their labelling sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import annotators, sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    annotator: str
    started_at: str
    ended_at: str | None
    tz_offset_min: int
    interface: str


def annotator_id(conn: Connection, name: str, *, now: str) -> int:
    """The id of the annotator called `name`, created on first use."""
    found = conn.execute(select(annotators.c.id).where(annotators.c.name == name)).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(
        annotators.insert().values(name=name, created_at=now).returning(annotators.c.id)
    )
    return int(result.scalar_one())


def find_annotator(conn: Connection, name: str) -> int | None:
    found = conn.execute(select(annotators.c.id).where(annotators.c.name == name)).scalar()
    return None if found is None else int(found)


def annotator_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(annotators.c.name).order_by(annotators.c.id)).scalars())


def open_session(
    conn: Connection,
    *,
    annotator_id: int,
    started_at: str,
    tz_offset_min: int,
    app_version: str,
    interface: str,
) -> int:
    result = conn.execute(
        sessions.insert()
        .values(
            annotator_id=annotator_id,
            started_at=started_at,
            tz_offset_min=tz_offset_min,
            app_version=app_version,
            interface=interface,
        )
        .returning(sessions.c.id)
    )
    return int(result.scalar_one())


def close_session(conn: Connection, session_id: int, *, ended_at: str) -> None:
    conn.execute(sessions.update().where(sessions.c.id == session_id).values(ended_at=ended_at))


def list_sessions(conn: Connection) -> list[SessionRow]:
    query = (
        select(
            sessions.c.id,
            annotators.c.name,
            sessions.c.started_at,
            sessions.c.ended_at,
            sessions.c.tz_offset_min,
            sessions.c.interface,
        )
        .join(annotators, annotators.c.id == sessions.c.annotator_id)
        .order_by(sessions.c.id)
    )
    return [SessionRow(*row) for row in conn.execute(query)]
