"""The reads and the one write of `clinlabel export --csv` on an SQLite project, with the
standard library's sqlite3 alone.

Importing SQLAlchemy costs a bulk export about 0.2 s of CPU, as much as reading and checking
100,000 labels (issue 12: the export within 3x of a bare sqlite3 + csv.writer process). The
queries that carry the guarantees (the current labels against the trail, the rows written) are
the store's own, compiled as text in `store.csv_export_sql`; the rest are one-line reads of
single rows. Any project this module cannot read exactly as `Store` would (a database on a
server, a schema not at head) is left to `Store`: `connect` says None.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from clinlabel.errors import StoreError
from clinlabel.store import csv_export_sql as sql
from clinlabel.store.failures import translate_failure
from clinlabel.store.label_checks import (
    NAMED_LABEL_MISMATCH,
    STALE_LABEL_MISMATCH,
    label_id_ranges,
    queue_mismatch,
    texts_digest,
)
from clinlabel.store.migrations import head_revision
from clinlabel.store.sqlite_file import BUSY_TIMEOUT_MS, DATABASE_FILE, set_pragmas

#: The columns of the events table, in the order `audit.rows.event_values` gives them.
_EVENT_COLUMNS = (
    "id", "ts_utc", "tz_offset_min", "actor", "session_id", "kind", "image_id", "image",
    "frame", "active_ms", "idle_ms", "data", "app_version", "prev_hash", "hash",
)  # fmt: skip
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)
_REGION_KINDS = ("region_created", "region_changed", "region_deleted")


class Database:
    """One project's SQLite file opened by sqlite3, as `Store` opens it (same pragmas, writes
    that start with BEGIN IMMEDIATE), with its errors said as `Store` says them."""

    def __init__(self, path: Path, where: str) -> None:
        self.path = path
        self.where = where

    def connect(self) -> sqlite3.Connection:
        """A new connection (one per thread: the check of the trail runs on its own)."""
        with self.failures():
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            set_pragmas(conn, read_only=False)
        return conn

    @contextlib.contextmanager
    def failures(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate_failure(exc, self.where) from exc

    @contextlib.contextmanager
    def read(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A read transaction: one snapshot for the block."""
        with self.failures():
            conn.execute("BEGIN DEFERRED")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE), committed when the block ends."""
        with self.failures():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def open_database(project_dir: Path) -> Database | None:
    """The project's SQLite database if this module reads it as `Store` would: its file is
    there and its schema is at head (a first open after an upgrade migrates it, which is
    `Store`'s). None otherwise. (A project whose settings name a server is the caller's to
    leave to `Store`.)"""
    path = project_dir / DATABASE_FILE
    if not path.is_file():
        return None
    database = Database(path, str(project_dir))
    conn = database.connect()
    try:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None  # no version table: not ours to read here
    finally:
        conn.close()
    head = head_revision()
    return database if head and found == [(head,)] else None


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    found = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if found is None or found[0] is None else str(found[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    if not conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key)).rowcount:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))


def has_frame_labels(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM labels WHERE frame != 0 LIMIT 1").fetchone() is not None


def reader_count(conn: sqlite3.Connection) -> int:
    """How many people gave a whole-image label (`store.adjudication.reader_count`)."""
    query = "SELECT count(DISTINCT annotator_id) FROM labels WHERE frame = 0"
    return int(conn.execute(query).fetchone()[0])


def has_repeat_to_read(conn: sqlite3.Connection) -> bool:
    """Whether a reading study's repeat is still to be read (a first read may be sealed): the
    seal is checked by `Store`'s queries (`labelling.worklist.check_terminal_export`), so such
    a project is exported through it."""
    query = (
        "SELECT EXISTS (SELECT 1 FROM assignments a WHERE a.repeat_of IS NOT NULL AND NOT "
        "EXISTS (SELECT 1 FROM repeat_reads r WHERE r.assignment_id = a.id))"
    )
    return bool(conn.execute(query).fetchone()[0])


def has_regions(conn: sqlite3.Connection) -> bool:
    """Whether the project holds regions, kept geometries or region events: their checks
    against the trail are `Store`'s (`store.regions.first_region_mismatch`), so such a project
    is exported through it."""
    marks = ", ".join("?" for _ in _REGION_KINDS)
    query = (
        "SELECT EXISTS (SELECT 1 FROM regions) OR EXISTS (SELECT 1 FROM region_geometries) "
        f"OR EXISTS (SELECT 1 FROM events WHERE kind IN ({marks}))"
    )
    return bool(conn.execute(query, _REGION_KINDS).fetchone()[0])


def count_image_labels(conn: sqlite3.Connection) -> int:
    """`store.exports.count_image_label_rows`: the progress bar's total."""
    return int(conn.execute("SELECT count(*) FROM labels WHERE frame = 0").fetchone()[0])


def label_batches(
    conn: sqlite3.Connection, *, batch: int = 10_000
) -> Generator[list[Any], None, None]:
    """`store.exports.iter_image_label_batches`: (case, visit, file, label, comment) of the
    whole-file labels, present images in queue order then gone ones, `batch` rows a list."""
    for query in (sql.PRESENT_LABELS, sql.GONE_LABELS):
        cursor = conn.execute(query.sql, query.params)
        try:
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()


def chain_row(
    conn: sqlite3.Connection, fields: Sequence[str], event_id: int
) -> tuple[Any, ...] | None:
    """(fields..., hash) of one event (`store.events.chain_row`)."""
    columns = ", ".join((*fields, "hash"))
    found = conn.execute(f"SELECT {columns} FROM events WHERE id = ?", (event_id,)).fetchone()
    return None if found is None else tuple(found)


def count_up_to(conn: sqlite3.Connection, event_id: int) -> int:
    return int(conn.execute("SELECT count(*) FROM events WHERE id <= ?", (event_id,)).fetchone()[0])


def iter_chain_rows(
    conn: sqlite3.Connection, fields: Sequence[str], *, first: int
) -> Generator[tuple[Any, ...], None, None]:
    """(fields..., hash) of the events from `first` on, in id order."""
    columns = ", ".join((*fields, "hash"))
    cursor = conn.execute(f"SELECT {columns} FROM events WHERE id >= ? ORDER BY id", (first,))
    try:
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


def iter_chain_texts(
    conn: sqlite3.Connection, fields: Sequence[str], *, first: int
) -> Generator[tuple[Any, ...], None, None]:
    """(id, prev_hash, SQLite's `json_array` of the fields, hash) of the events from `first`
    on, in id order: the text `audit.links.text_or_values_hash` hashes."""
    query = (
        f"SELECT id, prev_hash, json_array({', '.join(fields)}), hash FROM events "
        "WHERE id >= ? ORDER BY id"
    )
    cursor = conn.execute(query, (first,))
    try:
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


def last_link(conn: sqlite3.Connection) -> tuple[int, str] | None:
    found = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return None if found is None else (int(found[0]), str(found[1]))


def committed_hash(database: Database, event_id: int) -> str | None:
    """The hash of event `event_id` as committed, read through a new connection (None: no such
    event): whether a write that was interrupted as it committed landed."""
    with database.failures():
        conn = database.connect()
        try:
            with database.read(conn):
                found = conn.execute("SELECT hash FROM events WHERE id = ?", (event_id,)).fetchone()
        finally:
            conn.close()
    return None if found is None else str(found[0])


def insert_event(conn: sqlite3.Connection, values: Sequence[object]) -> None:
    """One event row, values in `_EVENT_COLUMNS` order. Only events without an image or
    active time come here (an export's): they move no (actor, image) sum of `store.seconds`."""
    if values[_EVENT_COLUMNS.index("image_id")] is not None:
        raise StoreError("An event about an image is appended through the store.")
    conn.execute(_INSERT_EVENT, tuple(values))


def label_mismatch(conn: sqlite3.Connection, *, after: int | None = None) -> tuple[int, str] | None:
    """`store.events.first_label_mismatch`, the same three checks in the same order (`after`:
    the labels and keys with label events after that event id only)."""
    newest = conn.execute(sql.NEWEST_SCAN.sql, sql.NEWEST_SCAN.params).fetchone()
    if newest is not None and newest[1] is not None:
        present, last = conn.execute(sql.QUEUE.sql, sql.QUEUE.params).fetchone()
        queue = queue_mismatch(int(newest[0]), int(newest[1]), int(present), int(last))
        if queue is not None:
            return queue
    named, stale = (
        (sql.NAMED_LABEL, sql.STALE_LABEL)
        if after is None
        else (sql.NAMED_LABEL_AFTER, sql.STALE_LABEL_AFTER)
    )
    found = conn.execute(named.sql, named.given(after=after or 0)).fetchone()
    # As SQLAlchemy's `scalar()` reads it: a label whose event id was made NULL (an edited
    # schema) is named by the next check instead (its key's newest event is not its event).
    if found is not None and found[0] is not None:
        return int(found[0]), NAMED_LABEL_MISMATCH
    found = conn.execute(stale.sql, stale.given(after=after or 0)).fetchone()
    if found is not None:
        return int(found[0]), STALE_LABEL_MISMATCH
    return None


def labels_digest(conn: sqlite3.Connection, *, after: int | None = None) -> str | None:
    """`store.events.labels_digest`: the digest of the current labels' texts (`after`: as they
    were at that event); None if SQLite cannot give them (a BLOB edited into a column)."""
    query = sql.LABELS_TEXT if after is None else sql.OLDER_LABELS_TEXT
    next_id = sql.NEXT_LABEL_ID

    def found_from(start: int) -> int | None:
        found = conn.execute(next_id.sql, next_id.given(start=start)).fetchone()[0]
        return None if found is None else int(found)

    def parts() -> Iterator[str | None]:
        for first, last in label_id_ranges(found_from):
            given = query.given(after=after or 0, first=first, last=last)
            yield conn.execute(query.sql, given).fetchone()[0]

    try:
        return texts_digest(parts())
    except sqlite3.OperationalError:
        return None


def label_counts(conn: sqlite3.Connection, after: int) -> tuple[int, int]:
    """`store.events.label_counts`: (all current labels, those naming an event after
    `after`)."""
    query = sql.LABEL_COUNTS
    found = conn.execute(query.sql, query.given(after=after)).fetchone()
    return int(found[0]), int(found[1])
