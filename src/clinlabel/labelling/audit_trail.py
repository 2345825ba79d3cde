"""Reading and verifying a project's audit trail (for `clinlabel audit`)."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from clinlabel.audit.log import verify_store
from clinlabel.audit.status import ChainStatus
from clinlabel.labelling.project import open_project
from clinlabel.store import events as event_rows


def verify_project(project_dir: Path) -> ChainStatus:
    with open_project(project_dir) as project:
        return verify_store(project.store)


def read_events(project_dir: Path, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` events in order (all of them for 0)."""
    with open_project(project_dir) as project, project.store.read() as conn:
        rows = event_rows.iter_events(conn)
        if limit <= 0:
            return list(rows)
        return list(deque(rows, maxlen=limit))
