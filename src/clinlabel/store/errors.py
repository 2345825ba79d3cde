"""What a database error means, from the driver's own error code, never from its message text.

SQLite's extended result codes (`sqlite3.Error.sqlite_errorname`, "Result and Error Codes" in
the SQLite documentation) and PostgreSQL's SQLSTATE (psycopg's `Error.sqlstate`, Appendix A of
the PostgreSQL manual) are stable across versions and locales; message texts are not.
"""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    BUSY = "busy"
    DAMAGED = "damaged"
    FULL = "full"
    REFUSED = "refused"
    """A trigger of ours refused the change (append-only events, fixed image identity)."""
    READ_ONLY = "read_only"
    IO = "io"
    """An I/O error from the operating system (a full disk shows as one on some file systems)."""
    OTHER = "other"


_SQLITE: tuple[tuple[str, Failure], ...] = (
    # Prefixes: extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED...) share them.
    ("SQLITE_BUSY", Failure.BUSY),
    ("SQLITE_LOCKED", Failure.BUSY),
    ("SQLITE_CORRUPT", Failure.DAMAGED),
    ("SQLITE_NOTADB", Failure.DAMAGED),
    ("SQLITE_FULL", Failure.FULL),
    ("SQLITE_CONSTRAINT_TRIGGER", Failure.REFUSED),
    ("SQLITE_READONLY", Failure.READ_ONLY),
    ("SQLITE_CANTOPEN", Failure.READ_ONLY),
    ("SQLITE_PERM", Failure.READ_ONLY),
    ("SQLITE_AUTH", Failure.READ_ONLY),
    ("SQLITE_IOERR", Failure.IO),
)

_POSTGRES: dict[str, Failure] = {
    "55P03": Failure.BUSY,  # lock_not_available (our lock_timeout ran out)
    "40P01": Failure.BUSY,  # deadlock_detected
    "XX001": Failure.DAMAGED,  # data_corrupted
    "XX002": Failure.DAMAGED,  # index_corrupted
    "53100": Failure.FULL,  # disk_full
    "P0001": Failure.REFUSED,  # raise_exception: only our triggers raise
    "25006": Failure.READ_ONLY,  # read_only_sql_transaction
    "42501": Failure.READ_ONLY,  # insufficient_privilege
}


def classify(error: BaseException | None) -> Failure:
    """The kind of a DBAPI error raised by sqlite3 or psycopg."""
    name = getattr(error, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, failure in _SQLITE:
            if name.startswith(prefix):
                return failure
        return Failure.OTHER
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str):
        return _POSTGRES.get(state, Failure.OTHER)
    return Failure.OTHER
