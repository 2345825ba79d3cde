"""The store's inner workings (issue 9, part 5): errors told apart by the driver's code, one
advisory lock per project on PostgreSQL, read-only opens, and projects of the previous schema
opening and verifying after the upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_chain
from clinlabel.errors import ProjectInUseError, StoreError
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.errors import Failure, classify
from clinlabel.store.migrations import head_revision
from clinlabel.store.store import Store


def _sqlite_error(name: str, text: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorname = name
    return error


class _PgError(Exception):
    def __init__(self, sqlstate: str, text: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (_sqlite_error("SQLITE_BUSY", "la base est verrouillée"), Failure.BUSY),
        (_sqlite_error("SQLITE_BUSY_SNAPSHOT", ""), Failure.BUSY),
        (_sqlite_error("SQLITE_NOTADB", "file is not a database"), Failure.DAMAGED),
        (_sqlite_error("SQLITE_CORRUPT_INDEX", ""), Failure.DAMAGED),
        (_sqlite_error("SQLITE_FULL", ""), Failure.FULL),
        (_sqlite_error("SQLITE_CONSTRAINT_TRIGGER", ""), Failure.REFUSED),
        (_sqlite_error("SQLITE_READONLY_DBMOVED", ""), Failure.READ_ONLY),
        # Words in a message mean nothing: a column called "locked", a path with "busy" in it.
        (
            _sqlite_error("SQLITE_ERROR", "no such column: locked (database is locked)"),
            Failure.OTHER,
        ),
        (_PgError("55P03", "Sperre nicht verfügbar"), Failure.BUSY),
        (_PgError("53100", "could not extend file"), Failure.FULL),
        (_PgError("P0001", "the audit trail is append-only"), Failure.REFUSED),
        (_PgError("42703", 'column "busy" is locked'), Failure.OTHER),
        (ValueError("database is locked"), Failure.OTHER),
    ],
)
def test_errors_are_told_apart_by_code_not_by_message(error: Exception, failure: Failure) -> None:
    assert classify(error) is failure


def test_a_real_lock_and_a_real_trigger_are_classified(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    with store.write() as conn:
        append_event(conn, NewEvent(EventKind.SESSION_OPENED, "a", {}))
    refused = pytest.raises(StoreError, match="Refused by the database: the audit trail")
    with refused, store.write() as conn:
        conn.exec_driver_sql("DELETE FROM events")
    with sqlite3.connect(tmp_path / DATABASE_FILE, timeout=0.1) as raw:
        raw.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            sqlite3.connect(tmp_path / DATABASE_FILE, timeout=0.1).execute("BEGIN IMMEDIATE")
        assert classify(caught.value) is Failure.BUSY
        raw.rollback()
    store.close()


def _on_schema(url: str, schema: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = dict(parsed.query)
    dsn = f"host={query['host']} port={query['port']} user=clinlabel dbname={parsed.database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{url}&options=-csearch_path%3D{schema}"


@pytest.mark.postgres
def test_two_projects_in_one_postgres_database_do_not_wait_for_each_other(
    postgres_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinlabel.store import store as store_module

    url = postgres_server.create_database()  # type: ignore[attr-defined]
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 300)
    first = Store.open_url(_on_schema(url, "ward_a"))
    second = Store.open_url(_on_schema(url, "ward_b"))
    again = Store.open_url(f"{url}&options=-csearch_path%3Dward_a")
    with first.write() as conn:
        append_event(conn, NewEvent(EventKind.SESSION_OPENED, "a", {}))
        with second.write() as other:  # another project: no wait
            append_event(other, NewEvent(EventKind.SESSION_OPENED, "b", {}))
        with pytest.raises(ProjectInUseError), again.write() as same:  # the same project waits
            append_event(same, NewEvent(EventKind.SESSION_OPENED, "c", {}))
    for store in (first, second, again):
        with store.read() as conn:
            assert verify_chain(conn).events == 1
        store.close()


def test_a_read_only_store_reads_and_refuses_writes(
    tmp_path: Path, database_url: str | None
) -> None:
    if database_url is not None:  # a project in its own schema: the URL's options are kept
        database_url = _on_schema(database_url, "ward_ro")
    writable = Store.open_dir(tmp_path) if database_url is None else Store.open_url(database_url)
    with writable.write() as conn:
        append_event(conn, NewEvent(EventKind.SESSION_OPENED, "a", {}))
    writable.close()
    if database_url is None:
        store = Store.open_dir(tmp_path, read_only=True)
    else:
        store = Store.open_url(database_url, read_only=True)
    with store.read() as conn:
        assert verify_chain(conn).events == 1
    with pytest.raises(StoreError, match="Cannot write"), store.write() as conn:
        append_event(conn, NewEvent(EventKind.SESSION_OPENED, "b", {}))
    store.close()


def _as_previous_schema(tmp_path: Path) -> None:
    """A project as the previous version left it: schema 0002, without the identity trigger
    (0003), the staging table's path index (0004), the progress counts (0005), the natural-order
    keys (0006), the regions (0007), the team server's users (0008), the reading study (0009) or
    the comment keys and sidebar counts (0010)."""
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        for key in ("case_key", "visit_key", "file_key"):
            raw.execute(f"DROP INDEX ix_images_{key}")
            raw.execute(f"ALTER TABLE images DROP COLUMN {key}")
            raw.execute(f"ALTER TABLE scan_staging DROP COLUMN {key}")
        raw.execute("DROP TRIGGER images_identity_fixed")
        raw.execute("DROP INDEX ix_scan_staging_relpath")
        raw.execute("DROP TABLE annotator_progress")
        raw.execute("DROP TABLE regions")
        raw.execute("DROP TABLE region_geometries")
        for table in ("adjudications", "case_diagnoses", "repeat_reads", "assignments"):
            raw.execute(f"DROP TABLE {table}")
        raw.execute("DROP TABLE study_readers")
        raw.execute("DROP TABLE study")
        for table in ("web_sessions", "login_failures", "users"):  # the team server's (0008)
            raw.execute(f"DROP TABLE {table}")
        raw.execute("DROP INDEX ix_labels_annotator_comment")
        raw.execute("ALTER TABLE labels DROP COLUMN comment_key")
        raw.execute("DROP TABLE queue_visits")
        raw.execute("DROP TABLE case_labelled")
        raw.execute("DROP TABLE image_seconds")  # and what 0012 adds
        raw.execute("DROP TABLE case_timed")
        raw.execute("DROP TABLE case_label_counts")  # and what 0013 adds
        for key in ("case_key", "visit_key", "file_key"):  # and what 0014 adds
            raw.execute(f"DROP INDEX ix_labels_annotator_label_{key}")
            raw.execute(f"ALTER TABLE labels DROP COLUMN {key}")
        raw.execute("UPDATE alembic_version SET version_num = '0002'")


def test_a_project_of_the_previous_schema_is_upgraded_and_verifies(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    with store.write() as conn:
        append_event(conn, NewEvent(EventKind.PROJECT_CREATED, "old", {"batch": "/b"}))
    store.close()
    _as_previous_schema(tmp_path)
    # Read-only: read as it is, nothing migrated.
    readonly = Store.open_dir(tmp_path, read_only=True)
    with readonly.read() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
        assert verify_chain(conn).ok
    readonly.close()
    upgraded = Store.open_dir(tmp_path)
    with upgraded.read() as conn:
        assert (
            conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            == head_revision()
        )
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'ix_scan_staging_relpath'"
        ).scalar()
        assert verify_chain(conn).ok
    with upgraded.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO images (relpath, case_name, visit, folder, file, kind, size, mtime_ns,"
            " present, changed, first_seen_at) VALUES ('C/V/XC/a.png', 'C', 'V', 'XC',"
            " 'XC/a.png', 'raster', 1, 1, 1, 0, 'now')"
        )
    with pytest.raises(StoreError, match="identity of an image"), upgraded.write() as conn:
        conn.exec_driver_sql("UPDATE images SET relpath = 'C/V/XC/b.png'")
    upgraded.close()


def test_an_io_error_on_a_full_disk_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full tmpfs or quota gives SQLITE_IOERR_*, not SQLITE_FULL (found by the adversarial
    review: "failed: disk I/O error"); with no room left on the project's disk, say so."""
    import os
    from types import SimpleNamespace

    from sqlalchemy.exc import OperationalError

    from clinlabel.store import store as store_module

    raw = sqlite3.OperationalError("disk I/O error")
    raw.sqlite_errorname = "SQLITE_IOERR_WRITE"  # type: ignore[attr-defined]
    error = OperationalError("INSERT ...", {}, raw)
    roomy = SimpleNamespace(f_bavail=10**6, f_frsize=4096)
    monkeypatch.setattr(os, "statvfs", lambda _: roomy)
    assert "disk I/O error" in str(store_module._translate(error, str(tmp_path)))
    full = SimpleNamespace(f_bavail=3, f_frsize=4096)
    monkeypatch.setattr(os, "statvfs", lambda _: full)
    message = str(store_module._translate(error, str(tmp_path)))
    assert "is full" in message and "Free some space" in message
