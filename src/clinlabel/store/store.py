"""`Store`: one project database, migrated on open, with read and write transactions.

All SQL of the application lives in this package. Callers get a `Connection` inside a
transaction and pass it to the query modules beside this one (`images`, `labels`, `events`,
`people`, `meta`, `reporting`); a use case that changes something does all of it, audit event
included, in one `write()` block.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from clinlabel.errors import SchemaTooNewError, StoreError
from clinlabel.store.engine import BUSY_TIMEOUT_MS, make_engine, sqlite_url
from clinlabel.store.failures import translate_failure
from clinlabel.store.migrations import head_revision
from clinlabel.store.urls import masked_url

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"


def _alembic_config() -> Config:
    # Alembic is imported only when a schema is not at head: loading its script directory
    # imports every migration, which a project already at head never needs.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "clinlabel.store:migrations")
    return config


class _Checkpointer:
    """Copies the SQLite write-ahead log into the database file in the background.

    SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, so one
    label save in a few hundred would wait for the copy and its fsync. A PASSIVE checkpoint on
    this thread never blocks writers (SQLite, "Write-Ahead Logging", section 3).
    """

    def __init__(self, engine: Engine, *, interval_s: float = 2.0) -> None:
        self._engine = engine
        self._interval = interval_s
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clinlabel-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        self._dirty.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            if not self._dirty.is_set():
                continue
            self._dirty.clear()
            try:
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


READABLE_REVISIONS = frozenset({"0002", "0003", "0014"})
"""Schema revisions that this version can read without migrating them (0003 only added a
trigger; 0015 only dropped two indexes that another one covers), so that a project on read-only
media can still be verified and reported on."""


class Store:
    """A migrated project database. Create with `Store.open_dir` or `Store.open_url`.

    `read_only` opens it without writing anything: no migration, no checkpoints, and SQLite
    opened with `mode=ro` (`immutable=1` when the folder itself cannot be written, as on a
    write-protected disk or a burnt DVD, where SQLite could not even create its shared-memory
    file); `write()` then fails with the database's own read-only error.
    """

    def __init__(
        self, engine: Engine, *, where: str, read_only: bool = False, reader_url: str = ""
    ) -> None:
        self.engine = engine
        self.where = where
        self.read_only = read_only
        self.reader_url = reader_url or engine.url.render_as_string(hide_password=False)
        """The URL another process opens (read-only) to read this project, e.g. to verify."""
        self._lock_key: int | None = None
        self._checkpointer = (
            _Checkpointer(engine) if engine.dialect.name == "sqlite" and not read_only else None
        )

    @classmethod
    def open_dir(cls, project_dir: Path, *, read_only: bool = False) -> Store:
        return cls.open_url(
            sqlite_url(project_dir, read_only=read_only),
            where=str(project_dir),
            read_only=read_only,
            reader_url=sqlite_url(project_dir, read_only=True),
        )

    @classmethod
    def open_url(
        cls, url: str, *, where: str | None = None, read_only: bool = False, reader_url: str = ""
    ) -> Store:
        try:
            engine = make_engine(url, read_only=read_only)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            # Never the URL as given, nor SQLAlchemy's message, which repeats it: it may hold
            # the password.
            why = "it cannot be read" if isinstance(exc, ArgumentError) else str(exc)
            raise StoreError(
                f"Cannot use the database URL {masked_url(url)!r}: {why}.",
                hint="Use postgresql+psycopg://USER@HOST/DATABASE, or leave it out for an "
                "SQLite file in the project folder.",
            ) from exc
        where = where or masked_url(url)
        store = cls(engine, where=where, read_only=read_only, reader_url=reader_url or url)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest revision this version knows; refuse a newer one.

        Read-only: check that the schema is one this version can read, change nothing.
        A project already at head (every open but the first after an upgrade) costs one query.
        """
        with self._translate_errors(), self.engine.connect() as probe:
            current = _current_revision(probe)
            probe.rollback()
        if current == head_revision():
            return
        if self.read_only and current in READABLE_REVISIONS:
            return
        self._migrate_slowly()

    def _migrate_slowly(self) -> None:
        """`migrate` by Alembic itself: its script directory is loaded only here."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = _alembic_config()
        script = ScriptDirectory.from_config(config)
        head = script.get_current_head()
        known = {rev.revision for rev in script.walk_revisions()}
        with self._translate_errors(), self.engine.connect() as probe:
            current = MigrationContext.configure(probe).get_current_revision()
            probe.rollback()
        if current is not None and current not in known:
            raise SchemaTooNewError(
                f"The project at {self.where} was written by a newer clinlabel "
                f"(schema {current}; this version knows up to {head}).",
                hint="Upgrade clinlabel (pip install -U clinlabel); nothing was changed.",
            )
        if current == head:
            return
        if self.read_only:
            if current in READABLE_REVISIONS:
                return
            raise StoreError(
                f"The project at {self.where} was written by an older clinlabel and must be "
                "upgraded before it can be read.",
                hint="Run a command that writes (clinlabel export, say) once where the project "
                "can be written; that upgrades it.",
            )
        with self.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE), committed when the block ends."""
        with self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(clinlabel_write=True)
            with conn.begin():
                if self.dialect == "postgresql":
                    # Serialise this project's writers like SQLite does, so the audit chain has
                    # one order; wait as long as SQLite would, then say the project is in use.
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({self._pg_lock(conn)})")
                yield conn
        if self._checkpointer is not None:
            self._checkpointer.wrote()

    def _pg_lock(self, conn: Connection) -> int:
        """The advisory-lock key of this project: its database and schema, hashed.

        PostgreSQL scopes advisory locks to a database, but one database may hold several
        projects in their own schemas (search_path in the URL); one constant key would make
        unrelated projects wait for each other.
        """
        if self._lock_key is None:
            row = conn.exec_driver_sql("SELECT current_database(), current_schema()").one()
            digest = hashlib.sha256(f"clinlabel/{row[0]}/{row[1]}".encode()).digest()
            self._lock_key = int.from_bytes(digest[:8], "big", signed=True)
        return self._lock_key

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot for the block."""
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            raise _translate(exc, self.where) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"The project database at {self.where} failed: {exc}") from exc


def _current_revision(conn: Connection) -> str | None:
    """The one schema revision the database records (Alembic's version table), or None: a new
    database, or a table that is not one row (which `_migrate_slowly` leaves to Alembic)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    found = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
    return str(found[0][0]) if len(found) == 1 else None


def _translate(exc: DBAPIError, where: str) -> StoreError:
    return translate_failure(exc.orig, where)
