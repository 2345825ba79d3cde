"""`clinlabel export --csv` of an SQLite project without SQLAlchemy (issue 12: within 3x of a
bare sqlite3 + csv.writer process).

The same file, the same event and the same checks as `labelling.outputs.export_csvs` with the
verifier of an open project (`audit.verifier.ChainVerifier(remember=True)`): the trail from the
head an earlier export kept (checked first: still there, same hash, same content, exactly that
many events up to it), every current label against the trail (in full, or, when the labels an
earlier full check passed still have the digest kept with that head, only those with newer
events: `audit.label_digest`), the CSV staged and put in place with its `export_written` event
in one write transaction, the new head and digest kept only once the export is published (so
Ctrl+C leaves the project as it was). The queries are the store's own (`store.csv_export`), run
with the standard library's sqlite3.

It takes only the plain case, which is the one a user repeats: the seed's five columns, one
reader, no frame labels, no regions, no study repeat still to be read (a first read may be
sealed: `labelling.worklist.check_terminal_export`). Anything else (`--detailed`,
`--readers`, `--report`, a team or a PostgreSQL project) goes through `labelling.outputs` as
before: `plan` says None. A first export (no head kept) checks the whole trail here, on one
thread, as the full path's plain export does (`chain_status_meanwhile` never spawns).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinlabel.atomic import pending_path, publish
from clinlabel.audit.chain import (
    GENESIS,
    HASHED_FIELDS,
    VerifiedHead,
    values_hash,
)
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.label_digest import KeptLabels, digest_to_keep, unchanged_up_to
from clinlabel.audit.landing import Landing
from clinlabel.audit.links import check_links, text_or_values_hash
from clinlabel.audit.rows import event_values, local_offset_minutes
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.errors import SavedThenInterrupted, StoreError
from clinlabel.exports.csv import write_labels_csv_batches
from clinlabel.labelling.overwrite import check_output_target, is_clinlabel_output
from clinlabel.labelling.project_basics import SETTINGS_FILE, file_sha256
from clinlabel.labelling.project_basics import system_user as system_user
from clinlabel.store import csv_export as rows
from clinlabel.store.csv_export import Database
from clinlabel.store.meta_keys import BATCH_ROOT, VERIFIED_HEAD, VERIFIED_LABELS

CSV_NAME = "clinical_labels.csv"
FRAME_CSV_NAME = "clinical_frame_labels.csv"
WRITING_CSV = "Writing the labels CSV"


@dataclass(frozen=True, slots=True)
class Plan:
    """An export this module can write: where, and from which head the trail is checked."""

    database: Database
    target: Path
    kept: VerifiedHead | None
    """The head an earlier export kept (None: the first export checks the whole trail)."""
    kept_labels: KeptLabels | None = None
    """The digest of the labels kept with a head (None: every label is checked)."""


def plan(project_dir: Path, csv_path: Path | None, *, force: bool) -> Plan | None:
    """The export of `project_dir`'s labels to `csv_path` (default: the project's
    clinical_labels.csv) if it is the plain case (see the module), with the target checked as
    `clinlabel export` checks it (`OutputError`); None: export through `labelling.outputs`."""
    project_dir = project_dir.expanduser().resolve()
    if (project_dir / SETTINGS_FILE).exists():
        return None  # its settings may name a PostgreSQL database
    database = rows.open_database(project_dir)
    if database is None:
        return None
    conn = database.connect()
    try:
        with database.read(conn):
            batch = rows.get_meta(conn, BATCH_ROOT)
            kept = VerifiedHead.from_kept_text(rows.get_meta(conn, VERIFIED_HEAD))
            kept_labels = KeptLabels.from_kept_text(rows.get_meta(conn, VERIFIED_LABELS))
            if (
                batch is None
                or rows.has_frame_labels(conn)
                or rows.reader_count(conn) >= 2
                or rows.has_regions(conn)
                or rows.has_repeat_to_read(conn)
            ):
                return None
    finally:
        conn.close()
    target = csv_path or project_dir / CSV_NAME
    frame_file = target.parent / FRAME_CSV_NAME
    if frame_file.is_file() and is_clinlabel_output(frame_file, "csv"):
        return None  # an earlier frame file gets its header-only successor there
    target = check_output_target(target, "csv", force=force, batch=Path(batch))
    return Plan(database, target, kept, kept_labels)


def export(
    planned: Plan, *, actor: str, progress: ProgressSink = no_progress
) -> tuple[int, ChainStatus]:
    """Write the labels CSV and record it; returns its rows and the trail as checked (up to
    this export's own event). A broken trail still writes the file, as `labelling.outputs`
    does: the caller says so and exits 1."""
    checked = _check_meanwhile(planned)
    database, target = planned.database, planned.target
    conn = database.connect()
    try:
        pending = pending_path(target)
        try:
            with database.read(conn):
                total = None if progress is no_progress else rows.count_image_labels(conn)
                progress(WRITING_CSV, 0, total)
                # Closed inside the transaction, also when interrupted: the row stream's cursor
                # must not outlive its connection.
                with contextlib.closing(rows.label_batches(conn)) as batches:
                    written = write_labels_csv_batches(
                        batches, pending, written=batch_reporter(progress, total)
                    )
            data: dict[str, object] = {
                "output": "labels_csv",
                "path": str(target),
                "sha256": file_sha256(pending),
                "rows": written,
                "detailed": False,
            }
            # Interrupted as the commit returns (SQLite commits in C), the event says whether
            # it landed: then the file is in place and recorded.
            landing = Landing(lambda event_id: rows.committed_hash(database, event_id))
            try:
                with database.write(conn):
                    last = rows.last_link(conn)
                    new_id, prev_hash = (1, GENESIS) if last is None else (last[0] + 1, last[1])
                    event = NewEvent(EventKind.EXPORT_WRITTEN, actor, data)
                    values = event_values(event, new_id, prev_hash, local_offset_minutes())
                    event_hash = values_hash(values)
                    rows.insert_event(conn, (*values, event_hash))
                    landing.appended(new_id, event_hash)
                    publish(pending, target)  # renamed last: the transaction commits right after
            except KeyboardInterrupt:
                if not landing.landed():
                    raise
                raise SavedThenInterrupted(
                    f"the labels CSV at {target}", unfinished=CHECK_UNFINISHED
                ) from None
        finally:
            pending.unlink(missing_ok=True)  # interrupted (Ctrl+C) or failed: no half file
        try:
            status, head, digest = checked()
            if head is not None and (head != planned.kept or digest != planned.kept_labels):
                _keep(database, conn, head, digest)
        except KeyboardInterrupt:
            # The file is in place and its event committed: "nothing was changed" would be
            # wrong. The check of the trail is what did not finish.
            raise SavedThenInterrupted(
                f"the labels CSV at {target}", unfinished=CHECK_UNFINISHED
            ) from None
    finally:
        conn.close()
    return written, status


CHECK_UNFINISHED = (
    "the check of the audit trail that runs beside the export did not finish "
    "(`clinlabel audit verify` runs it)"
)


def batch_reporter(progress: ProgressSink, total: int | None) -> Callable[[int], None] | None:
    """Tells `progress` the rows written so far after each batch (None without a bar)."""
    if progress is no_progress:
        return None
    return lambda done: progress(
        WRITING_CSV, done, total if total is not None and total >= done else None
    )


Checked = tuple[ChainStatus, VerifiedHead | None, KeptLabels | None]
"""The trail as checked, the head to keep and the labels' digest to keep with it."""


def _check_meanwhile(planned: Plan) -> Callable[[], Checked]:
    """The trail and the current labels checked on a thread while the CSV is written (the check
    is SQL, outside Python's lock); the returned function waits for it. A daemon thread, so
    Ctrl+C is not kept waiting by it."""
    done: list[Checked] = []
    failed: list[BaseException] = []

    def check() -> None:
        try:
            conn = planned.database.connect()
            try:
                with planned.database.read(conn):
                    done.append(_check(conn, planned.kept, planned.kept_labels))
            finally:
                conn.close()
        except BaseException as exc:  # handed to the caller, who raises it
            failed.append(exc)

    worker = threading.Thread(target=check, name="clinlabel-chain-check", daemon=True)
    worker.start()

    def result() -> Checked:
        worker.join()
        if failed:
            raise failed[0]
        return done[0]

    return result


def _check(
    conn: sqlite3.Connection, kept: VerifiedHead | None, kept_labels: KeptLabels | None = None
) -> Checked:
    """`ChainVerifier._verify_here` from the kept head: the events after it if it is intact,
    else the whole chain; then the current labels, those shown unchanged since the kept head
    left out (`audit.label_digest`). Returns the status, the head and the digest to keep."""
    if kept is not None and _head_unchanged(conn, kept):
        first, prev_hash = kept.event_id + 1, kept.hash
    else:  # none kept, or the kept part changed under us: all of it
        first, prev_hash = 1, GENESIS

    def values_of(event_id: int) -> tuple[Any, ...] | None:
        found = rows.chain_row(conn, HASHED_FIELDS, event_id)
        return None if found is None else found[:-1]

    try:
        with contextlib.closing(rows.iter_chain_texts(conn, HASHED_FIELDS, first=first)) as texts:
            newer = check_links(
                texts,
                first=first,
                prev_hash=prev_hash,
                positions=(0, 1),
                content_hash=text_or_values_hash(values_of),
            )
    except sqlite3.OperationalError:  # a BLOB in the trail (an edited database): no JSON text
        with contextlib.closing(rows.iter_chain_rows(conn, HASHED_FIELDS, first=first)) as values:
            newer = check_links(values, first=first, prev_hash=prev_hash)
    status = ChainStatus(
        newer.ok, first - 1 + newer.events, newer.head_hash, newer.first_broken_event, newer.reason
    )
    if not status.ok:  # reported as it stands; nothing is kept
        return status, None, None
    reads = _LabelReads(conn)
    unchanged_to = unchanged_up_to(kept_labels, status.events, reads)
    mismatch = rows.label_mismatch(conn, after=unchanged_to)
    if mismatch is not None:
        status = ChainStatus(False, status.events, status.head_hash, mismatch[0], mismatch[1])
        return status, None, None
    # Ids run 1..n without gaps in an intact chain, so the count is the newest id.
    head = VerifiedHead(status.events, status.head_hash)
    return status, head, digest_to_keep(head, kept_labels, unchanged_to, reads)


class _LabelReads:
    """`audit.label_digest.LabelReads` with sqlite3, in the check's read transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def counts(self, after: int) -> tuple[int, int]:
        return rows.label_counts(self._conn, after)

    def digest(self, after: int | None) -> str | None:
        return rows.labels_digest(self._conn, after=after)

    def head_unchanged(self, head: VerifiedHead) -> bool:
        return _head_unchanged(self._conn, head)


def _head_unchanged(conn: sqlite3.Connection, head: VerifiedHead) -> bool:
    return head.unchanged(
        rows.chain_row(conn, HASHED_FIELDS, head.event_id),
        lambda: rows.count_up_to(conn, head.event_id),
    )


def _keep(
    database: Database, conn: sqlite3.Connection, head: VerifiedHead, digest: KeptLabels | None
) -> None:
    """Keep the head for the next export (`ChainVerifier.keep`), with the labels' digest taken
    at it; a busy project keeps the old ones, and the next export checks a little more."""
    try:
        with database.write(conn):
            rows.set_meta(conn, VERIFIED_HEAD, head.kept_text())
            if digest is not None:
                rows.set_meta(conn, VERIFIED_LABELS, digest.kept_text())
    except StoreError:
        return
