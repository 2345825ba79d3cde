"""Engines for the project database: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with `synchronous=FULL` (a label acknowledged is on disk), a busy timeout
so a second process waits rather than fails, and writes that start with `BEGIN IMMEDIATE` so two
writers queue up at the start of a transaction instead of deadlocking half-way (the recipe in
SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" notes for pysqlite).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

from clinlabel.store.sqlite_file import (
    AUTOCHECKPOINT_PAGES,
    BUSY_TIMEOUT_MS,
    DATABASE_FILE,
    set_pragmas,
)

__all__ = ["AUTOCHECKPOINT_PAGES", "BUSY_TIMEOUT_MS", "DATABASE_FILE", "make_engine", "sqlite_url"]


def sqlite_url(project_dir: Path, *, read_only: bool = False) -> str:
    path = (project_dir / DATABASE_FILE).as_posix()
    if not read_only:
        return f"sqlite:///{path}"
    # SQLite URI filenames ("Uniform Resource Identifiers" in its documentation): mode=ro never
    # writes the database; immutable=1 also skips the -shm file, which a folder that cannot be
    # written cannot hold. Immutable is only safe when nobody can be writing, which a folder
    # we cannot write to (read-only media) guarantees as far as this machine can tell.
    # A write-ahead log with content holds committed changes that an immutable open would not
    # see, so it is read through SQLite's own read-only WAL support instead.
    wal = project_dir / f"{DATABASE_FILE}-wal"
    pending = wal.is_file() and wal.stat().st_size > 0
    immutable = not pending and not os.access(project_dir, os.W_OK)
    options = "mode=ro&immutable=1" if immutable else "mode=ro"
    return f"sqlite:///file:{quote(path)}?{options}&uri=true"


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """Create an engine with the pragmas and transaction behaviour this project relies on."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, read_only=read_only)
    if read_only:
        # Added to the URL's own libpq options (a search_path naming the project's schema).
        given = make_url(url).query.get("options") or ""
        given = given if isinstance(given, str) else " ".join(given)
        options = f"{given} -c default_transaction_read_only=on".strip()
        return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
    return create_engine(url, pool_pre_ping=True, future=True)


def _sqlite_engine(url: str, *, read_only: bool) -> Engine:
    # A pool of connections, each used by one thread at a time (check_same_thread is off
    # because the pool hands a connection to whichever thread checks it out): opening a
    # connection and setting its pragmas costs more than a label write.
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=8,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        set_pragmas(dbapi_conn, read_only=read_only)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("clinlabel_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
