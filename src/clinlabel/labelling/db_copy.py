"""`clinlabel db copy`: move a project's records from its SQLite file to PostgreSQL.

All or nothing, and checked: the copy is one transaction on the target, made while the project
is locked (no labelling server writes meanwhile), and before it commits the target's chain is
verified in full and must end in the same event, with the same hash, as the original's, and
every table must hold as many rows; a failure or Ctrl+C anywhere before rolls it all back.
Only then does the project folder's settings file name the new database.
The SQLite file is left where it was, untouched (a backup of the moment of the move).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from clinlabel.atomic import atomic_writer
from clinlabel.audit.log import record_mismatch, verify_chain, verify_store, with_labels
from clinlabel.audit.status import ChainStatus
from clinlabel.errors import AuditError, StoreError, ValidationError
from clinlabel.labelling.project import SETTINGS_FILE, Project, ProjectLock, open_project
from clinlabel.labelling.saving import Saving
from clinlabel.store import copy as copy_rows
from clinlabel.store import events as event_rows
from clinlabel.store.store import Store
from clinlabel.store.urls import masked_url as masked


@dataclass(frozen=True, slots=True)
class CopyReport:
    events: int
    head_hash: str
    rows: dict[str, int]
    switched: bool


NOT_SWITCHED = (
    "the project still keeps its records in its SQLite file (to move them, run `clinlabel db "
    "copy` again into a new, empty database)"
)


def copy_project(project_dir: Path, url: str, *, switch: bool = True) -> CopyReport:
    """Copy the project's database to `url` (an empty database), verify it, and (`switch`)
    make the project use it from now on."""
    project_dir = project_dir.expanduser().resolve()
    if not url.startswith("postgresql"):
        raise ValidationError(
            f"{masked(url)!r} is not a PostgreSQL URL.",
            hint="Use postgresql+psycopg://USER@HOST/DATABASE.",
        )
    if switch and _has_password(url):
        # The URL is remembered in project.toml, a plain file that travels with the project.
        raise ValidationError(
            "The URL holds a password, which would be kept in project.toml in plain text; "
            "nothing was copied.",
            hint="Give the URL without it and keep the password in ~/.pgpass (or PGPASSWORD), "
            "which PostgreSQL's client reads; or copy only, with --keep-using-sqlite.",
        )
    # A Ctrl+C once the copy is committed (raised as the commit returns, as the project closes)
    # says so: the target holds the verified copy, "nothing was changed" would be a lie.
    with Saving() as saving:
        with open_project(project_dir) as project, ProjectLock(project_dir):
            found, copied = _copy_checked(project, project_dir, url, switch, saving)
        if switch:
            _remember_url(project_dir, url)
            saving.done(f"{saving.saved}, and the project now uses it")
    return CopyReport(copied.events, copied.head_hash, found, switch)


def _copy_checked(
    project: Project, project_dir: Path, url: str, switch: bool, saving: Saving
) -> tuple[dict[str, int], ChainStatus]:
    """Copy the project's records into the empty database at `url` in one transaction, checked
    before it commits; the rows copied per table and the copy's chain status."""
    source = project.store
    if source.dialect != "sqlite":
        raise ValidationError(
            f"The project {project_dir} keeps its records on a server already "
            f"({source.where}); `db copy` moves a project's SQLite file."
        )
    original = verify_store(source)
    if not original.ok:
        raise AuditError(
            f"The project's own audit trail is broken at event "
            f"{original.first_broken_event} ({original.reason}); nothing was copied.",
            hint=f"Run `clinlabel audit verify {project_dir}` for the details.",
        )
    target = Store.open_url(url)
    try:
        with target.read() as conn:
            used = copy_rows.non_empty(conn)
        if used:
            raise ValidationError(
                f"The database at {target.where} already holds records "
                f"({', '.join(used[:5])}); nothing was copied.",
                hint="Copy into a new, empty database (createdb NAME).",
            )
        # One transaction, checked before it commits: interrupted (Ctrl+C) or refused
        # anywhere in it, the target is rolled back to empty and a second run can use it.
        # Interrupted as the commit returns (psycopg commits in C), the copy's last event says
        # whether it landed.
        with (
            saving.commit(
                target,
                f"the verified copy of the project's records into {target.where}",
                unfinished=NOT_SWITCHED if switch else None,
            ) as landing,
            source.read() as src,
            target.write() as dst,
        ):
            for table in copy_rows.tables():
                copy_rows.copy_table(src, dst, table)
            copy_rows.reset_sequences(dst)
            expected = copy_rows.row_counts(src)
            found = copy_rows.row_counts(dst)
            if found != expected:
                differ = sorted(name for name in expected if expected[name] != found.get(name))
                raise StoreError(
                    f"The copy differs from the original in {', '.join(differ)}; nothing "
                    "was copied."
                )
            copied = with_labels(verify_chain(dst), record_mismatch(dst))
            if not copied.ok or (copied.events, copied.head_hash) != (
                original.events,
                original.head_hash,
            ):
                raise AuditError(
                    f"The copy's audit trail does not verify as the original's "
                    f"({copied.reason or 'another head'}); nothing was copied, the project "
                    "still uses its SQLite file."
                )
            head = event_rows.last_link(dst)
            if head is not None:
                landing.appended(*head)
    finally:
        target.close()
    return found, copied


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValidationError(f"{masked(url)!r} is not a database URL.") from exc
    return bool(parsed.password) or "password" in parsed.query


def _remember_url(project_dir: Path, url: str) -> None:
    settings = project_dir / SETTINGS_FILE
    kept: list[str] = []
    if settings.is_file():
        text = settings.read_text(encoding="utf-8")
        tomllib.loads(text)  # a damaged file is reported, not overwritten
        kept = [line for line in text.splitlines() if not line.startswith("database_url")]
    with atomic_writer(settings) as handle:
        for line in kept:
            handle.write(line + "\n")
        handle.write(f"database_url = {json.dumps(url)}\n")
