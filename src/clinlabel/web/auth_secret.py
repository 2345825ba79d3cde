"""The project's cookie-signing secret: made once per project, kept 0600 in its folder.

Every server process of the project (several behind one PostgreSQL) reads the same file, so a
login made on one is accepted by the others; it is never in the code or the database (a copy of
the database cannot forge a login).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from clinlabel.errors import OutputError

SECRET_FILE = "session_secret"
SECRET_BYTES = 32


def project_secret(project_dir: Path) -> bytes:
    """The secret in `project_dir/session_secret`, created (owner-only) if there is none."""
    path = project_dir / SECRET_FILE
    try:
        # O_EXCL: two servers starting at once make one secret, and the loser reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise OutputError(f"Cannot create {path}: {exc.strerror}.") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return _read(path)


def _read(path: Path) -> bytes:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise OutputError(
            f"{path} can be read by other users of this machine.",
            hint=f"Run: chmod 600 {path}  (or delete it: a new one is made, and everyone logs "
            "in again).",
        )
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 2 * SECRET_BYTES:
        raise OutputError(f"{path} is cut short.", hint="Delete it; a new one is made.")
    return bytes.fromhex(text)
