"""The project database: migrations, append-only events, clear errors for bad databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_chain
from clinlabel.errors import ProjectInUseError, SchemaTooNewError, StoreError
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.migrations import head_revision
from clinlabel.store.store import Store


def _open(tmp_path: Path, url: str | None) -> Store:
    return Store.open_dir(tmp_path) if url is None else Store.open_url(url)


def test_events_cannot_be_updated_or_deleted(tmp_path: Path, database_url: str | None) -> None:
    store = _open(tmp_path, database_url)
    with store.write() as conn:
        append_event(
            conn, NewEvent(EventKind.LABEL_SAVED, "dr a", {"new": "NA"}, image="c/v/x/1.jpg")
        )
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        with pytest.raises(StoreError, match="append-only"), store.write() as conn:
            conn.exec_driver_sql(statement)
    with store.read() as conn:
        status = verify_chain(conn)
    assert status.ok and status.events == 1
    store.close()


def test_wal_and_full_synchronous_on_sqlite(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def test_damaged_database_is_reported_not_overwritten(tmp_path: Path) -> None:
    db = tmp_path / DATABASE_FILE
    junk = b"this is not an sqlite database" * 200
    db.write_bytes(junk)
    with pytest.raises(StoreError, match="damaged"):
        Store.open_dir(tmp_path)
    assert db.read_bytes() == junk


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open_dir(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(SchemaTooNewError, match="newer clinlabel"):
        Store.open_dir(tmp_path)


def test_second_writer_gets_project_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinlabel.store import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    first = Store.open_dir(tmp_path)
    second = Store.open_dir(tmp_path)
    with first.write() as conn:
        append_event(conn, NewEvent(EventKind.LABEL_SAVED, "a", {}))
        with pytest.raises(ProjectInUseError, match="in use"), second.write() as other:
            append_event(other, NewEvent(EventKind.LABEL_SAVED, "b", {}))
    with second.read() as conn:
        assert verify_chain(conn).events == 1
    first.close()
    second.close()


def test_an_older_project_is_migrated_on_open_and_keeps_its_data(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from clinlabel.store.engine import make_engine, sqlite_url
    from clinlabel.store.store import _alembic_config

    engine = make_engine(sqlite_url(tmp_path))
    config = _alembic_config()
    with engine.connect().execution_options(clinlabel_write=True) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        append_event(conn, NewEvent(EventKind.PROJECT_CREATED, "old version", {"batch": "/b"}))
    engine.dispose()

    store = Store.open_dir(tmp_path)
    with store.read() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("labels")}
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        status = verify_chain(conn)
    store.close()
    assert "geometry" in columns and version == head_revision()
    assert status.ok and status.events == 1
