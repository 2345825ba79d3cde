"""Bulk reads and writes through the driver's own cursor.

Scans write, and exports and chain verification read, a million rows; SQLAlchemy's per-row
parameter and row objects cost more than the database's own work then. The statements are still
built with SQLAlchemy Core and compiled for the connection's dialect, then run on the DBAPI
cursor inside the caller's transaction. On PostgreSQL a named (server-side) cursor keeps a large
result out of client memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, literal
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

_names = itertools.count()


def stream_tuples(
    conn: Connection, statement: Select[Any], *, batch: int = 10_000
) -> Iterator[tuple[Any, ...]]:
    """Yield the statement's rows as plain tuples, `batch` at a time from the driver."""
    for rows in stream_batches(conn, statement, batch=batch):
        yield from rows


def stream_batches(
    conn: Connection, statement: Select[Any], *, batch: int = 10_000
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the statement's rows in lists of up to `batch` plain tuples."""
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
            yield rows
    finally:
        cursor.close()


def _insert_sql(
    conn: Connection, table: Table, columns: Sequence[str], constants: Mapping[str, Any]
) -> str:
    """INSERT with positional markers in `columns` order (rows need no reordering), and the
    same literal value in every row for each of `constants`."""
    prepare = conn.dialect.identifier_preparer
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = [prepare.quote(name) for name in (*columns, *constants)]
    values = [marker for _ in columns]
    for name, value in constants.items():
        bound = literal(value, table.c[name].type)
        values.append(
            str(bound.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        )
    return (
        f"INSERT INTO {prepare.format_table(table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(values)})"
    )


def insert_chunks(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    chunks: Iterable[Sequence[Sequence[Any]]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """INSERT chunks of rows (values in `columns` order) with one executemany per chunk.

    Returns the number of rows. `constants` are columns with one value for every row.
    """
    sql = _insert_sql(conn, table, columns, constants or {})
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    total = 0
    try:
        for chunk in chunks:
            cursor.executemany(sql, chunk)
            total += len(chunk)
    finally:
        cursor.close()
    return total
