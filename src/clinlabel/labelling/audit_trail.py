"""Reading and verifying a project's audit trail (for `clinlabel audit`)."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any

from clinlabel.audit.status import ChainStatus
from clinlabel.audit.verifier import ChainVerifier
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.labelling.project import open_project
from clinlabel.store import events as event_rows


def verify_project(
    project_dir: Path, *, expect_head: str | None = None, progress: ProgressSink = no_progress
) -> ChainStatus:
    """Verify the trail and the current labels; with `expect_head`, also that the trail still
    holds the event whose hash a report or an earlier check recorded (so the newest events
    cannot have been cut off unnoticed). Always the whole chain, never incrementally; the
    database is opened read-only, so this works on read-only media and writes nothing."""
    with open_project(project_dir, read_only=True) as project:
        # A fresh verifier: the whole chain, on spawned processes when it is long.
        status = ChainVerifier(project.store).start(parallel=True, progress=progress)()
        if not status.ok or expect_head is None:
            return status
        with project.store.read() as conn:
            found = event_rows.id_of_hash(conn, expect_head.strip().lower())
    if found is None:
        return replace(
            status,
            ok=False,
            first_broken_event=status.events + 1,
            reason=f"no event has the expected head hash {expect_head}: events after "
            f"event {status.events} are missing, or the hash is from another project",
        )
    return status


def read_events(project_dir: Path, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` events in order (all of them for 0)."""
    with open_project(project_dir, read_only=True) as project, project.store.read() as conn:
        rows = event_rows.iter_events(conn)
        if limit <= 0:
            return list(rows)
        return list(deque(rows, maxlen=limit))
