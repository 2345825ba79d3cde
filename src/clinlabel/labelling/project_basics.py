"""What a command needs of a project before its database: the names of the files kept beside
it, who runs the command, a file's SHA-256.

Apart from `labelling.project` (which brings the database layer) so that `clinlabel export
--csv` of an SQLite project (`labelling.csv_export`) runs without SQLAlchemy.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

LOCK_FILE = "clinlabel.lock"
SERVER_FILE = "server.json"
"""The labelling server's token and port (owner-only, 0600): `labelling.server_access`."""
SETTINGS_FILE = "project.toml"
"""Optional; `database_url = "postgresql+psycopg://..."` keeps the records on a server."""
_HASH_CHUNK = 1 << 20


def system_user() -> str:
    """Who ran a command that has no annotator (init, export): the operating-system user."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None if it cannot be read now."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
