"""The image each annotator last had on screen, so reopening a project resumes there.

Kept in the `meta` table (one row per annotator, overwritten on every show): the audit trail
already records time spent per image, and an event per glance would only grow it.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from clinlabel.store.meta import get_meta, set_meta


def _key(annotator_id: int) -> str:
    return f"last_shown:{annotator_id}"


def last_shown(conn: Connection, *, annotator_id: int) -> str | None:
    """The relative path of the image this annotator last had on screen, if any."""
    return get_meta(conn, _key(annotator_id))


def set_last_shown(conn: Connection, *, annotator_id: int, relpath: str) -> None:
    set_meta(conn, _key(annotator_id), relpath)
