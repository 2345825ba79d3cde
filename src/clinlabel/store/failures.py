"""A database driver's error as the one message a user can act on: the project is in use, its
disk is full, its file is damaged... (classified by `store.errors`, never by message text).

Without SQLAlchemy, so that the standard library's sqlite3 path (`store.csv_export`) says the
same as `Store` does."""

from __future__ import annotations

import os
import tempfile

from clinlabel.errors import ProjectInUseError, StoreError
from clinlabel.store.errors import Failure, classify

#: Free space under which an I/O error on the project's disk is taken for a full disk.
FULL_DISK_BYTES = 1024 * 1024


def translate_failure(error: BaseException | None, where: str) -> StoreError:
    """The driver's `error` (sqlite3's or psycopg's) as the message a user can act on."""
    failure = classify(error)
    if failure is Failure.IO and _disk_nearly_full(where):
        # A full tmpfs or quota makes SQLite report a write or shared-memory I/O error, not
        # SQLITE_FULL; "disk I/O error" alone tells the user nothing they can act on.
        failure = Failure.FULL
    if failure is Failure.BUSY:
        return ProjectInUseError(
            f"The project at {where} is in use by another clinlabel process.",
            hint="Close the other window or command, or wait for it to finish, then try again.",
        )
    if failure is Failure.DAMAGED:
        return StoreError(
            f"The project database at {where} is damaged and cannot be read.",
            hint="Restore it from a backup (the labels CSV you exported is also importable); "
            "clinlabel did not change it.",
        )
    if failure is Failure.FULL and _is_sqlite(error) and _has_room(where):
        # Room on the project's disk: what filled up holds SQLite's temporary files (a sort
        # bigger than the page cache, as an import's index build or recount can be), often a
        # small /tmp. Freeing space beside the project would not help.
        temp = sqlite_temp_folder()
        return StoreError(
            f"The folder for SQLite's temporary files ({temp}) is full: the last change to "
            f"{where} was not saved.",
            hint="Free some space there, or point SQLITE_TMPDIR at a folder with room, and "
            "repeat the last action; everything saved before is intact.",
        )
    if failure is Failure.FULL:
        return StoreError(
            f"The disk holding {where} is full: the last change was not saved.",
            hint="Free some space and repeat the last action; everything saved before is intact.",
        )
    if failure is Failure.REFUSED:
        return StoreError(f"Refused by the database: {_first_line(error)}")
    if failure is Failure.READ_ONLY:
        return StoreError(
            f"Cannot write the project database at {where}: {_first_line(error)}.",
            hint="Check the folder's permissions or choose another output folder.",
        )
    return StoreError(f"The project database at {where} failed: {_first_line(error)}")


def _is_sqlite(error: BaseException | None) -> bool:
    return isinstance(getattr(error, "sqlite_errorname", None), str)


def _has_room(where: str) -> bool:
    """Whether the file system holding `where` (a project folder) has room: False when that
    is not known (a PostgreSQL URL, a folder gone)."""
    try:
        found = os.statvfs(where)
    except (OSError, ValueError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False
    return found.f_bavail * found.f_frsize >= FULL_DISK_BYTES


def sqlite_temp_folder() -> str:
    """The folder where SQLite writes its temporary files on this system: on Unix the first
    usable of SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp and /tmp ("Temporary Files Used By
    SQLite", os_unix.c's unixTempFileDir); elsewhere the system's temporary folder."""
    if os.name != "posix":
        return tempfile.gettempdir()
    for folder in (
        os.environ.get("SQLITE_TMPDIR"),
        os.environ.get("TMPDIR"),
        "/var/tmp",
        "/usr/tmp",
        "/tmp",
    ):
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return "."


def _disk_nearly_full(where: str) -> bool:
    """Whether the file system holding `where` (a project folder) has almost no room left."""
    try:
        found = os.statvfs(where)
    except (OSError, ValueError):  # a PostgreSQL URL, or a folder gone
        return False
    return found.f_bavail * found.f_frsize < FULL_DISK_BYTES


def _first_line(error: BaseException | None) -> str:
    """The driver's message without psycopg's CONTEXT lines (they name our trigger function)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
