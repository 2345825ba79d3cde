"""Copying a project's database to another (SQLite to PostgreSQL), table by table (SQL only).

Every table of `schema.metadata` is copied whole, in dependency order, with its own ids: the
audit chain hashes event ids and values, so the copy verifies exactly as the original does.
The target must be a freshly migrated, empty database: nothing is ever merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Boolean, Integer, Table, func, select
from sqlalchemy.engine import Connection

from clinlabel.store.driver import insert_chunks, stream_batches
from clinlabel.store.schema import metadata

CHUNK = 5000


def tables() -> list[Table]:
    """Every table, parents before the tables that refer to them."""
    return list(metadata.sorted_tables)


def non_empty(conn: Connection) -> list[str]:
    """Tables of a database that hold rows (a target must have none)."""
    found = []
    for table in tables():
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            found.append(table.name)
    return found


def row_counts(conn: Connection) -> dict[str, int]:
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in tables()
    }


def _converted(table: Table, batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[list[Any]]:
    """SQLite keeps booleans as 0 and 1; PostgreSQL wants them as booleans."""
    flags = [i for i, column in enumerate(table.columns) if isinstance(column.type, Boolean)]
    for rows in batches:
        if not flags:
            yield rows
            continue
        converted = []
        for row in rows:
            values = list(row)
            for i in flags:
                if values[i] is not None:
                    values[i] = bool(values[i])
            converted.append(values)
        yield converted


def copy_table(source: Connection, target: Connection, table: Table) -> int:
    """All rows of `table` from `source` into `target` (the caller's transactions)."""
    names = [column.name for column in table.columns]
    ordered = select(*table.columns).order_by(*table.primary_key.columns)
    batches = stream_batches(source, ordered, batch=CHUNK)
    return insert_chunks(target, table, names, _converted(table, batches))


def reset_sequences(target: Connection) -> None:
    """PostgreSQL: each serial id continues after the largest one copied."""
    if target.dialect.name != "postgresql":
        return
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        name = keys[0].name
        sequence = target.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%s, %s)", (table.name, name)
        ).scalar()
        if sequence is None:
            continue
        target.exec_driver_sql(
            f'SELECT setval(%s, coalesce((SELECT max("{name}") FROM "{table.name}"), 0) + 1, '
            "false)",
            (sequence,),
        )
