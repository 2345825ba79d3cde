"""How a labelling server is reached: its token and port, kept in the project folder.

A page left open across a server restart keeps working only if the new server listens on the
same port (the page's address, and the name of its cookie) and accepts the same token (the
cookie's value). Both are kept in `PROJECT/server.json`, readable by its owner only (0600): the
token is the key to the project's labels. It is written atomically, never inside a batch (only
into a folder that is already a project), and replaced by `clinlabel label --new-token`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from clinlabel.atomic import atomic_writer
from clinlabel.labelling.project import SERVER_FILE


@dataclass(frozen=True, slots=True)
class ServerAccess:
    token: str
    port: int


def load_server_access(project_dir: Path) -> ServerAccess | None:
    """The token and port the last server of this project used, or None.

    None too when the file cannot be trusted: unreadable, not ours, or readable by others (a
    token others could read is replaced, as with `--new-token`).
    """
    path = project_dir / SERVER_FILE
    try:
        with path.open(encoding="utf-8") as handle:
            info = os.fstat(handle.fileno())
            text = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    if os.name == "posix" and (info.st_mode & 0o077 or info.st_uid != os.getuid()):
        return None
    try:
        data = json.loads(text)
        token, port = data["token"], data["port"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(token, str) or len(token) < 32 or not token.isascii():
        return None
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        return None
    return ServerAccess(token=token, port=port)


def save_server_access(project_dir: Path, access: ServerAccess) -> None:
    """Remember `access` for the next server of this project (owner-only, atomic)."""
    if load_server_access(project_dir) == access:
        return
    with atomic_writer(project_dir / SERVER_FILE, private=True) as handle:
        handle.write(json.dumps({"token": access.token, "port": access.port}) + "\n")
