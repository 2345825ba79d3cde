"""A large SQLite page cache for the statements that read or rewrite a whole table.

SQLite's default cache is 2 MB (`PRAGMA cache_size = -2000`). It also bounds the memory a sort
or a `GROUP BY` keeps before it spills to temporary files. A million-image project's tables
and indexes are hundreds of MB: a grouped read of every label sorted on disk in merge passes,
and a rescan that renumbers the queue rewrote its index pages in an order the cache could not
hold, each page evicted (written to the WAL mid-transaction) and read back. The share of
misses grows with the table, so those operations grew faster than the project (issue 14: a
rescan with 10 % changed took 4.4x the creation of the project by wall clock at a million
images, 1.4x with this cache).

`large_cache` raises the connection's cache for one operation and gives the connection back to
the pool with its own setting. The figure is a ceiling, not an allocation: SQLite takes pages
as it reads them. PostgreSQL sizes its own buffers: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

LARGE_CACHE_KIB = 262_144
"""256 MiB: a million-image project's sorts (every label or label event, tens of MB) stay in
memory, with room for the indexes a rescan rewrites."""


WRITE_CACHE_KIB = 32_768
"""32 MiB, for a bulk write (an import): the pages where its rows go into each index stay in
the cache instead of being written to the WAL and read back mid-transaction (an index on file
names takes rows at a hundred places at once), 15 % of the labels' insert at 100,000 rows.
Not more: the pages a transaction has written stay in the cache until it commits, so this is
also what the import's memory grows by."""


@contextmanager
def large_cache(conn: Connection, kib: int = LARGE_CACHE_KIB) -> Iterator[None]:
    """Run the block with a page cache of `kib` KiB on this SQLite connection."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        # A connection that failed under the block may refuse this too: it is then discarded
        # by the pool, and the error that matters is the one already on its way.
        with suppress(SQLAlchemyError):
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
