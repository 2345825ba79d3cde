"""Streaming large results through the driver's own cursor.

Exports and chain verification read a million rows; SQLAlchemy's row objects cost more per row
than writing the CSV does. The statement is still built with SQLAlchemy Core and compiled for
the connection's dialect, then run on the DBAPI cursor inside the caller's transaction. On
PostgreSQL a named (server-side) cursor keeps the result out of client memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

_names = itertools.count()


def stream_tuples(
    conn: Connection, statement: Select[Any], *, batch: int = 10_000
) -> Iterator[tuple[Any, ...]]:
    """Yield the statement's rows as plain tuples, `batch` at a time from the driver."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"clinlabel_stream_{next(_names)}")
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()
