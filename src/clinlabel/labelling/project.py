"""Projects: create or rescan one for a batch, open it, and hold it against a second server.

A project is a folder the user chose, holding the database and every output. Nothing is ever
written inside the batch folder, and the originals are only ever opened for reading.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import Connection

from clinlabel.atomic import atomic_writer
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.audit.verifier import ChainVerifier
from clinlabel.discovery.batch_root import check_batch_root
from clinlabel.domain import DEFAULT_SCHEMA, LabelSchema, ScanResult
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.errors import (
    ImageFileError,
    OutputError,
    ProjectInUseError,
    SavedThenInterrupted,
    StoreError,
    ValidationError,
)
from clinlabel.labelling.project_basics import LOCK_FILE as LOCK_FILE
from clinlabel.labelling.project_basics import SERVER_FILE as SERVER_FILE
from clinlabel.labelling.project_basics import SETTINGS_FILE as SETTINGS_FILE
from clinlabel.labelling.project_basics import file_sha256 as file_sha256
from clinlabel.labelling.project_basics import system_user as system_user
from clinlabel.labelling.saving import Saving
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store import rescan as rescan_rows
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.images import ScanRow
from clinlabel.store.store import Store
from clinlabel.store.urls import url_has_password


def confined_path(batch: Path, relpath: str) -> Path:
    """`relpath` below `batch`, resolved through any links; `ImageFileError` if it is gone, if it
    resolves to a place outside the batch folder, or if it is not a regular file (a named pipe
    there would block whoever opens it to hash or decode it: every save behind it)."""
    root = batch.resolve()
    try:
        path = root.joinpath(*relpath.split("/")).resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise ImageFileError(
            f"The file {relpath} is no longer in the batch (it was moved or deleted since the "
            "scan); nothing was saved for it.",
            hint="Put the file back, or run `clinlabel init` again to rescan the batch.",
        ) from exc
    if not path.is_relative_to(root) or path == root:
        raise ImageFileError(
            f"The file {relpath} is now a link to {path}, outside the batch {root}; clinlabel "
            "does not read files outside the batch.",
            hint="Replace the link with the image itself, then try again.",
        )
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = False
    if not regular:
        raise ImageFileError(
            f"{relpath} is no longer a regular file (a folder, a named pipe or a device is in its "
            "place); nothing was saved for it.",
            hint="Put the image back, or run `clinlabel init` again to rescan the batch.",
        )
    return path


@dataclass(frozen=True, slots=True)
class InitReport:
    project_dir: Path
    batch: Path
    created: bool
    scan: ScanResult
    total: int
    new: int
    removed: int
    returned: int
    changed: list[str]
    """Images whose bytes changed under an existing label (the label is kept, and flagged)."""


class Project:
    """An open project: its folder, batch, label schema and store."""

    def __init__(self, project_dir: Path, store: Store) -> None:
        self.dir = project_dir
        self.store = store
        # Incremental across processes too: `clinlabel export` again checks only what is new.
        self.chain = ChainVerifier(store, remember=True)
        """This project's audit chain, verified in full once, then only what is new."""
        with store.read() as conn:
            batch = meta.get_meta(conn, meta.BATCH_ROOT)
            schema = meta.get_meta(conn, meta.LABEL_SCHEMA)
        if batch is None:
            raise StoreError(
                f"{project_dir} has a database but no batch recorded.",
                hint=f"Run: clinlabel init BATCH --out {project_dir}",
            )
        self.batch = Path(batch)
        self.schema = LabelSchema.from_json(schema) if schema else DEFAULT_SCHEMA

    def image_path(self, relpath: str) -> Path:
        """The real path of an image's file, resolved now and confined to the batch.

        Relpaths come from the database, never from a request; but the file may have changed
        since the scan: deleted, or replaced by a symbolic link to somewhere else. Either way an
        `ImageFileError` says so, and nothing outside the batch is ever served or hashed.
        """
        return confined_path(self.batch, relpath)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check_batch(batch: Path) -> Path:
    return Path(check_batch_root(str(batch.expanduser())))


def _check_outside(batch: Path, project_dir: Path) -> Path:
    project_dir = project_dir.expanduser().resolve()
    if project_dir == batch or project_dir.is_relative_to(batch):
        raise OutputError(
            f"The output folder {project_dir} is inside the batch folder {batch}; clinlabel "
            "never writes inside a batch.",
            hint=f"Choose a folder outside it, e.g. {batch.parent / (batch.name + '-clinlabel')}.",
        )
    return project_dir


def _database_url(project_dir: Path) -> str | None:
    settings = project_dir / SETTINGS_FILE
    if not settings.is_file():
        return None
    try:
        data = tomllib.loads(settings.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"Cannot read {settings}: {exc}.") from exc
    url = data.get("database_url")
    return str(url) if url else None


def is_project(project_dir: Path) -> bool:
    """The folder holds a project already (its database, or settings naming a server)."""
    return project_dir.is_dir() and _is_project(project_dir)


def check_project_target(batch: Path, project_dir: Path) -> tuple[Path, Path]:
    """The batch checked (its real path) and the project folder resolved, refused inside it."""
    batch = _check_batch(batch)
    return batch, _check_outside(batch, project_dir)


def recorded_batch(project_dir: Path) -> Path | None:
    """The batch an existing project was last scanned from (None if it has none yet)."""
    with open_project(project_dir) as project:
        return project.batch


def _is_project(project_dir: Path) -> bool:
    return (project_dir / DATABASE_FILE).is_file() or _database_url(project_dir) is not None


def _open_store(project_dir: Path, *, read_only: bool = False) -> Store:
    url = _database_url(project_dir)
    if url is None:
        return Store.open_dir(project_dir, read_only=read_only)
    return Store.open_url(url, read_only=read_only)


def open_project(project_dir: Path, *, read_only: bool = False) -> Project:
    """Open an existing project folder (migrating its database if this version is newer).

    `read_only` writes nothing at all (see `Store`): for reading and verifying a project on
    read-only media, or one that someone else is labelling.
    """
    project_dir = project_dir.expanduser()
    if not project_dir.is_dir() or not _is_project(project_dir):
        raise StoreError(
            f"{project_dir} is not a clinlabel project (no {DATABASE_FILE} in it).",
            hint=f"Create one with: clinlabel init BATCH --out {project_dir}",
        )
    store = _open_store(project_dir.resolve(), read_only=read_only)
    try:
        return Project(project_dir.resolve(), store)
    except BaseException:
        store.close()
        raise


def init_project(
    batch: Path,
    project_dir: Path,
    *,
    schema_path: Path | None = None,
    verify: bool = False,
    database_url: str | None = None,
    parallel: bool = False,
    progress: ProgressSink = no_progress,
    new_batch: bool = False,
) -> InitReport:
    """Create a project for `batch` in `project_dir`, or rescan the batch of an existing one.

    An existing project is rescanned from another folder than its own only if its own batch is
    gone from disk (the batch was moved) or `new_batch` says so: a mistyped `--out` must not
    mark every labelled image of the project's batch missing.

    `database_url` (PostgreSQL for a team) is remembered in the project folder's settings file;
    without it the project keeps its records in an SQLite file in the folder. `parallel`
    walks the batch in two spawned processes (`labelling.scanning`): for the command line.
    All or nothing: a failure or an interruption (KeyboardInterrupt) leaves a project as it was
    (one write transaction) and a first one not made at all (its files and folder removed).
    """
    if database_url is not None and url_has_password(database_url):
        # The URL is remembered in project.toml, a plain file that travels with the project.
        raise ValidationError(
            "The database URL holds a password, which would be kept in project.toml in plain "
            "text; nothing was made.",
            hint="Give the URL without it and keep the password in ~/.pgpass (or PGPASSWORD), "
            "which PostgreSQL's client reads.",
        )
    batch = _check_batch(batch)
    project_dir = _check_outside(batch, project_dir)
    schema = LabelSchema.load(schema_path) if schema_path is not None else None
    folder_existed = project_dir.exists()
    lock_existed = (project_dir / LOCK_FILE).exists()
    try:
        project_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot create the project folder {project_dir}: {exc.strerror}."
        ) from exc
    fresh = False
    # Once the scan is committed, a Ctrl+C (during the commit, the store's closing, the lock's
    # release) says so: "nothing was changed" would be a lie for a rescan.
    saving = Saving()
    try:
        # A rescan renumbers the queue: never under a labelling server that holds the project.
        with saving, ProjectLock(project_dir):
            if database_url is not None:
                Store.open_url(database_url).close()  # a URL is remembered only once it works
                with atomic_writer(project_dir / SETTINGS_FILE) as handle:
                    handle.write(f"database_url = {json.dumps(database_url)}\n")
            fresh = not _is_project(project_dir)
            if not fresh and not new_batch:
                _check_same_batch(batch, project_dir)
            try:
                return _scan_into(
                    batch,
                    project_dir,
                    schema,
                    verify=verify,
                    parallel=parallel,
                    progress=progress,
                    saving=saving,
                )
            except BaseException:
                if fresh:  # a first scan that failed leaves no half-made project behind
                    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
                        (project_dir / name).unlink(missing_ok=True)
                raise
    except BaseException as exc:
        if fresh or not folder_existed:
            _remove_made(project_dir, folder_existed=folder_existed, lock_existed=lock_existed)
        if fresh and isinstance(exc, SavedThenInterrupted):
            # The first scan had committed, but its database is removed above: no project.
            raise KeyboardInterrupt from None
        raise


def _check_same_batch(batch: Path, project_dir: Path) -> None:
    """Refuse to rescan a project from another batch while its own batch is still on disk."""
    store = _open_store(project_dir)
    try:
        with store.read() as conn:
            recorded = meta.get_meta(conn, meta.BATCH_ROOT)
    finally:
        store.close()
    own = Path(recorded) if recorded is not None else None  # None: a first scan never finished
    if own is None or own == batch or not own.is_dir():
        return
    raise ValidationError(
        f"The project {project_dir} belongs to the batch {own}, which is still there; "
        f"{batch} is another folder.",
        hint=f"Choose another --out for {batch}, or, to point this project at {batch} "
        f"(images of {own} not found there are then marked missing), run: "
        f"clinlabel init {batch} --out {project_dir} --new-batch",
    )


def _remove_made(project_dir: Path, *, folder_existed: bool, lock_existed: bool) -> None:
    """Undo what a failed first `init` made: its lock file, and its folder if it made it and it
    is empty now (never anything the user put there)."""
    if not lock_existed:
        (project_dir / LOCK_FILE).unlink(missing_ok=True)
    if not folder_existed:
        with suppress(OSError):  # not empty: something else is in it, and it stays
            project_dir.rmdir()


def _counted(
    chunks: Iterator[list[ScanRow]], progress: ProgressSink, expected: int | None
) -> Iterator[list[ScanRow]]:
    """The chunks, each reported as scanned; `expected` (the images the last scan found) is the
    total shown until the scan passes it."""
    done = 0
    progress(SCANNING, 0, expected)
    for chunk in chunks:
        done += len(chunk)
        progress(SCANNING, done, expected if expected is not None and expected >= done else None)
        yield chunk


SCANNING = "Scanning the batch"
UPDATING = "Updating the project"


def _scan_into(
    batch: Path,
    project_dir: Path,
    schema: LabelSchema | None,
    *,
    verify: bool,
    parallel: bool,
    progress: ProgressSink = no_progress,
    saving: Saving,
) -> InitReport:
    # Imported here: the scanner (and its process pool) is not needed to open a project.
    from clinlabel.labelling.scanning import scan_rows

    store = _open_store(project_dir)
    try:
        result = ScanResult()
        with store.read() as conn:
            expected = image_rows.queue_length(conn) or None
        # closing(): the scan's child process is stopped now if the inserts fail (or Ctrl+C
        # interrupts them), not whenever the generator happens to be collected.
        with (
            closing(scan_rows(batch, result, verify=verify, parallel=parallel)) as chunks,
            saving.commit(store, f"the scan of the batch {batch} into the project {project_dir}"),
        ):
            return record_scan(
                store,
                project_dir,
                batch,
                _counted(chunks, progress, expected),
                result,
                schema=schema,
                verify=verify,
                progress=progress,
            )
    finally:
        store.close()  # SQLite's last WAL checkpoint: a Ctrl+C here is after the commit


def record_scan(
    store: Store,
    project_dir: Path,
    batch: Path,
    chunks: Iterable[list[ScanRow]],
    result: ScanResult,
    *,
    schema: LabelSchema | None = None,
    verify: bool = False,
    progress: ProgressSink = no_progress,
) -> InitReport:
    """Make the project's images match a scan of `batch` (its rows in queue order), in one
    write transaction: the images, the last scan's summary and its `batch_scanned` event.

    `result` is filled in by the scan as `chunks` is consumed. Used by `init` (streaming the
    scan) and by a labelling server's background rescan (rows walked beforehand, written on
    its writer thread under the project lock it holds).
    """
    actor = system_user()
    with store.write() as conn:
        now = utc_now()
        previous_batch = meta.get_meta(conn, meta.BATCH_ROOT)
        created = previous_batch is None
        if created:
            meta.set_meta(conn, meta.CREATED_AT, now)
            meta.set_meta(conn, meta.LABEL_SCHEMA, (schema or DEFAULT_SCHEMA).to_json())
            append_event(
                conn,
                NewEvent(
                    EventKind.PROJECT_CREATED,
                    actor,
                    {
                        "batch": str(batch),
                        "schema": json.loads((schema or DEFAULT_SCHEMA).to_json()),
                    },
                ),
            )
        elif schema is not None:
            meta.set_meta(conn, meta.LABEL_SCHEMA, schema.to_json())
        meta.set_meta(conn, meta.BATCH_ROOT, str(batch))
        counts = image_rows.sync_scan(conn, chunks, now=now)
        # A background rescan cut short while recording is now recorded in full.
        rescan_rows.clear_applying(conn)
        progress(UPDATING, 0, None)
        to_check = counts.touched
        if verify:
            # --verify hashes every labelled image: bytes can change with size and
            # modification time kept (a copy tool, a restore, someone covering tracks).
            known = {image_id for image_id, _, _ in to_check}
            to_check = to_check + [
                row for row in image_rows.hashed_images(conn) if row[0] not in known
            ]
        changed = rehash_touched(conn, batch, to_check, actor=actor)
        record_scan_summary(conn, batch, previous_batch, counts, len(changed), result, actor=actor)

    return InitReport(
        project_dir=project_dir,
        batch=batch,
        created=created,
        scan=result,
        total=counts.total,
        new=counts.new,
        removed=counts.removed,
        returned=counts.returned,
        changed=changed,
    )


def record_scan_summary(
    conn: Connection,
    batch: Path,
    previous_batch: str | None,
    counts: image_rows.SyncCounts,
    changed: int,
    result: ScanResult,
    *,
    actor: str,
) -> None:
    """The last scan's summary (meta) and its `batch_scanned` event, in the caller's write."""
    summary = {
        "batch": str(batch),
        "previous_batch": previous_batch if previous_batch != str(batch) else None,
        "images": counts.total,
        "new": counts.new,
        "removed": counts.removed,
        "returned": counts.returned,
        "changed": changed,
        "problems": len(result.problems),
        "skipped": len(result.skipped),
    }
    meta.set_meta(
        conn,
        meta.LAST_SCAN,
        json.dumps(
            {
                **summary,
                "problem_list": [asdict(p) for p in result.problems[:10_000]],
                "skipped_list": [asdict(s) for s in result.skipped[:10_000]],
            }
        ),
    )
    append_event(conn, NewEvent(EventKind.BATCH_SCANNED, actor, summary))


def rehash_touched(
    conn: Connection, batch: Path, touched: list[tuple[int, str, str | None]], *, actor: str
) -> list[str]:
    """Images whose size or time changed: labelled ones are re-hashed and flagged if different."""
    changed: list[str] = []
    for image_id, relpath, recorded in touched:
        if recorded is None:
            continue  # never labelled: the new size and time are all there is to know
        try:
            current = file_sha256(confined_path(batch, relpath))
        except ImageFileError:
            current = None  # gone or now a link out of the batch: not these bytes any more
        if current == recorded:
            continue
        image_rows.mark_changed(conn, image_id)
        append_event(
            conn,
            NewEvent(
                EventKind.IMAGE_CHANGED,
                actor,
                {"old_sha256": recorded, "new_sha256": current},
                image_id=image_id,
                image=relpath,
            ),
        )
        changed.append(relpath)
    return changed


class ProjectLock:
    """Held by a labelling server so that a second one on the same project is told at once.

    SQLite alone would let two servers interleave labels for one annotator; the lock makes the
    second one stop with a clear message instead. Advisory (fcntl), released by the OS if the
    process dies, so a crash never leaves a stale lock.
    """

    def __init__(self, project_dir: Path) -> None:
        self.path = project_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> ProjectLock:
        try:
            import fcntl
        except ImportError:  # Windows: the database's own locking is all there is.
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"Cannot write in the project folder {self.path.parent}: {exc.strerror or exc}.",
                hint="Choose a folder you can write to.",
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise ProjectInUseError(
                f"The project {self.path.parent} is in use by {holder}.",
                hint="Close the other clinlabel window (or stop that server) and try again.",
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"clinlabel process {os.getpid()}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
