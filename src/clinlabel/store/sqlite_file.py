"""The SQLite file of a project and the settings every connection to it takes.

Kept apart from `store.engine` (SQLAlchemy) so that a command reading an SQLite project with
the standard library alone (`store.csv_export`) opens it exactly as the engine does.
"""

from __future__ import annotations

import sqlite3

DATABASE_FILE = "clinlabel.db"

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's transaction before "project is in use"."""

AUTOCHECKPOINT_PAGES = 10_000


def set_pragmas(dbapi_conn: sqlite3.Connection, *, read_only: bool) -> None:
    """Take transaction control away from the sqlite3 module (BEGIN is the caller's to emit)
    and set the pragmas this project relies on: WAL, synchronous=FULL, foreign keys."""
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if read_only:  # the journal mode and checkpoints are the writer's business
        cur.close()
        return
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")
    cur.execute("PRAGMA foreign_keys = ON")
    # Checkpoints are run by the store's background checkpointer, off the labelling path;
    # this larger automatic threshold is only the safety net (about 40 MB of WAL).
    cur.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    cur.close()
