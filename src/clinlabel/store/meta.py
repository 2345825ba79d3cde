"""Project settings kept in the database (batch root, label schema, last scan summary)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from clinlabel.store.meta_keys import BATCH_ROOT as BATCH_ROOT
from clinlabel.store.meta_keys import CREATED_AT as CREATED_AT
from clinlabel.store.meta_keys import LABEL_SCHEMA as LABEL_SCHEMA
from clinlabel.store.meta_keys import LAST_SCAN as LAST_SCAN
from clinlabel.store.meta_keys import VERIFIED_HEAD as VERIFIED_HEAD
from clinlabel.store.meta_keys import VERIFIED_LABELS as VERIFIED_LABELS
from clinlabel.store.schema import meta


def get_meta(conn: Connection, key: str) -> str | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(meta.insert().values(key=key, value=value))
