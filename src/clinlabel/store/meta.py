"""Project settings kept in the database (batch root, label schema, last scan summary)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import meta

BATCH_ROOT = "batch_root"
LABEL_SCHEMA = "label_schema"
CREATED_AT = "created_at"
LAST_SCAN = "last_scan"
VERIFIED_HEAD = "verified_head"
"""The newest event found intact by the last check of the chain (`audit.verifier`)."""


def get_meta(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(meta.insert().values(key=key, value=value))
