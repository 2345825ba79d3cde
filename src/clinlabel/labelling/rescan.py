"""A labelling server's rescan of its batch, in the background, while the annotator works.

`clinlabel label` on an existing project serves the first image at once; this finds the files
added to or gone from the batch meanwhile. It runs in three steps, so labelling is never held
up for long:

1. Walk the batch on a background thread (stat calls only; no database writes, no child
   processes: a server runs threads, and spawning from one is what `labelling.scanning` avoids).
   The rows go to a temporary spool file, not memory (a million rows would hold ~300 MB).
   The page polls how far it got: `done` of `total`, the images the last scan found.
2. Compare the rows with what the last scan recorded (one read). Nothing changed, the usual
   case: nothing is written at all, and the status says "no changes".
3. Otherwise record it in short steps through the server's one writer thread, each its own
   write transaction of a few thousand rows (`store.rescan.STEP`), so a label save waits for one
   step, never the whole rescan (a single transaction held saves 1.2 s at 100,000 images):
   stage the rows; read what changes (a read, beside the saves); mark the project; take the
   gone images out of the queue and give the others their new positions, in steps; then one
   last short step writes what must come together (the changed and returning images' new size,
   time and presence, their re-hash, the visits, the summary and its `batch_scanned` event) and
   clears the mark. The session then follows the image on screen to its new position, and the
   page, told by the status, reloads its view of the queue.

What the user sees stays whole: positions read between two steps may be half renumbered, but
the page shows "applying" and reloads when it is done; the report comes at the end. A stop (the
server closing) is seen between two chunks of the walk or two steps; stopped while recording,
the project stays marked and the next open scans it in full before serving (as `init` does),
and the status says so. That scan finds everything again: the steps before the last never
write a changed or returning image's size, time or presence, and progress counts are moved
with each step's images, so they are right at every commit.
"""

from __future__ import annotations

import json
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain, zip_longest
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy.engine import Connection

from clinlabel.audit.log import utc_now
from clinlabel.domain import ScanResult
from clinlabel.errors import ClinlabelError
from clinlabel.labelling.project import (
    InitReport,
    Project,
    open_project,
    record_scan_summary,
    rehash_touched,
    system_user,
)
from clinlabel.labelling.scanning import scan_rows
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store import rescan as rescan_rows
from clinlabel.store.images import ScanRow
from clinlabel.store.rescan import recorded_scan_rows

_T = TypeVar("_T")

WAITING, RUNNING, APPLYING, DONE, FAILED, STOPPED = (
    "waiting",
    "running",
    "applying",
    "done",
    "failed",
    "stopped",
)


@dataclass(frozen=True, slots=True)
class RescanStatus:
    """What the page's status line says about the background rescan."""

    state: str
    done: int = 0
    """Images walked so far."""
    total: int | None = None
    """The images the last scan found: the expected total while walking (None if passed)."""
    added: int = 0
    missing: int = 0
    returned: int = 0
    changed: int = 0
    """Labelled images whose bytes changed on disk (flagged, labels kept)."""
    applied: bool = False
    """The queue changed (positions moved): a page showing it must reload its view."""
    message: str = ""


class _Stopped(Exception):
    """The server is closing: the walk ends between two chunks."""


class BackgroundRescan:
    """One rescan of an open project's batch, on its own thread."""

    def __init__(
        self,
        project: Project,
        *,
        write: Callable[[Callable[[], Any]], Any],
        keep_place: Callable[[], Callable[[InitReport], None]] | None = None,
        begin: threading.Event | None = None,
    ) -> None:
        """`write(step)` runs `step` on the server's writer thread and returns its result;
        `keep_place()`, run there before the queue starts changing, notes the image on screen
        and returns what moves the session to that image's new position once recorded (called
        inside the last step). `begin`, if given, holds the walk until it is set: the server
        sets it once it answers, so the walk and its read of every image never compete with
        the launch for the first image (issue 14)."""
        self._begin = begin
        self._project = project
        self._write = write
        self._keep_place = keep_place or (lambda: lambda _report: None)
        self._marked = False
        """The queue is being changed (the project is marked until the last step)."""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._status = RescanStatus(WAITING)
        self._thread = threading.Thread(target=self._run, name="clinlabel-rescan", daemon=True)

    @property
    def status(self) -> RescanStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop walking and (with `wait`) wait for the thread; a write already begun
        completes first, one not begun yet is skipped."""
        self._stop.set()
        if wait and self._thread.is_alive():
            self._thread.join()

    def wait(self, timeout: float | None = None) -> RescanStatus:
        """For tests and benchmarks: the status once the rescan has ended."""
        self._thread.join(timeout)
        return self.status

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _run(self) -> None:
        try:
            while self._begin is not None and not self._begin.wait(0.1):
                if self._stop.is_set():
                    raise _Stopped
            self._rescan()
        except _Stopped:
            if self._marked:
                self._set(
                    state=STOPPED,
                    message="Stopped while recording the batch's changes: the project is "
                    "checked in full when it is next opened.",
                )
            else:
                self._set(state=STOPPED, message="Stopped before the batch was checked.")
        except ClinlabelError as exc:
            self._set(state=FAILED, message=f"Cannot check the batch: {exc.message}")
        except Exception as exc:  # a thread's error would otherwise vanish into a log
            self._set(state=FAILED, message=f"Cannot check the batch: {exc}")

    def _rescan(self) -> None:
        with tempfile.TemporaryFile(prefix="clinlabel-rescan-") as spool:
            self._rescan_via(spool)

    def _rescan_via(self, spool: IO[bytes]) -> None:
        project = self._project
        with project.store.read() as conn:
            expected = image_rows.queue_length(conn)
        self._set(state=RUNNING, done=0, total=expected)
        result = ScanResult()
        done = 0
        for chunk in scan_rows(project.batch, result, verify=False, parallel=False):
            if self._stop.is_set():
                raise _Stopped
            pickle.dump(chunk, spool, pickle.HIGHEST_PROTOCOL)
            done += len(chunk)
            self._set(done=done, total=expected if expected >= done else None)
        if self._stop.is_set():
            raise _Stopped
        if self._unchanged(_spooled(spool), result):
            self._set(state=DONE, total=done, message="Batch checked: no changes.")
            return
        self._set(state=APPLYING, total=done)
        report = self._record(spool, result)
        self._set(
            state=DONE,
            added=report.new,
            missing=report.removed,
            returned=report.returned,
            changed=len(report.changed),
            applied=True,
            message=_described(report),
        )

    def _step(
        self, action: Callable[[Connection], _T], *, then: Callable[[_T], None] | None = None
    ) -> _T:
        """One short write transaction on the server's writer thread (a label save waits for
        at most one of these), and `then` with its result once committed, in the same turn of
        that thread; refused once the server is closing."""

        def run() -> _T:
            if self._stop.is_set():
                raise _Stopped
            with self._project.store.write() as conn:
                done = action(conn)
            if then is not None:
                then(done)
            return done

        done: _T = self._write(run)
        return done

    def _record(self, spool: IO[bytes], result: ScanResult) -> InitReport:
        """Record the walked scan in steps of a few thousand rows (store.rescan), each its own
        short transaction, then the rest in one last short one."""
        project = self._project
        while self._step(rescan_rows.clear_staging_step):
            pass
        for chunk in _spooled(spool):
            for start in range(0, len(chunk), rescan_rows.STEP):
                part = chunk[start : start + rescan_rows.STEP]
                self._step(partial(rescan_rows.stage_step, rows=part))
        with project.store.read() as conn:
            planned = rescan_rows.plan_scan(conn)
        # From here the queue is being changed: marked so that, cut short, the next open of the
        # project rescans in full before serving (the deferred size, time and presence of
        # changed and returning images let that rescan find them again).
        follow: Callable[[InitReport], None] = self._write(self._keep_place)
        self._step(rescan_rows.mark_applying)
        self._marked = True
        for first in range(1, planned.last_id + 1, rescan_rows.STEP):
            last = first + rescan_rows.STEP - 1
            self._step(partial(rescan_rows.remove_step, first_id=first, last_id=last))
        now = utc_now()
        for first in range(1, planned.total + 1, rescan_rows.STEP):
            last = first + rescan_rows.STEP - 1
            self._step(partial(rescan_rows.place_step, first_seq=first, last_seq=last, now=now))

        def finish(conn: Connection) -> InitReport:
            actor = system_user()
            rescan_rows.finish_places(conn, planned)
            changed = rehash_touched(
                conn, project.batch, [(t[0], t[1], t[2]) for t in planned.touched], actor=actor
            )
            counts = image_rows.SyncCounts(
                total=planned.total,
                new=planned.new,
                removed=planned.removed,
                returned=planned.returned,
                touched=[],
            )
            record_scan_summary(
                conn, project.batch, str(project.batch), counts, len(changed), result, actor=actor
            )
            report = InitReport(
                project_dir=project.dir,
                batch=project.batch,
                created=False,
                scan=result,
                total=planned.total,
                new=planned.new,
                removed=planned.removed,
                returned=planned.returned,
                changed=changed,
            )
            return report

        report: InitReport = self._step(finish, then=follow)
        # The staging rows are nobody's now: removed in steps too.
        while not self._stop.is_set() and self._step(rescan_rows.clear_staging_step):
            pass
        return report

    def _unchanged(self, walked: Iterator[list[ScanRow]], result: ScanResult) -> bool:
        """The walk found what the last scan recorded: the same files, sizes and times in the
        same order, and as many problem files and skipped folders."""
        with self._project.store.read() as conn:
            last = json.loads(meta.get_meta(conn, meta.LAST_SCAN) or "{}")
            if last.get("batch") != str(self._project.batch):
                return False
            if (last.get("problems"), last.get("skipped")) != (
                len(result.problems),
                len(result.skipped),
            ):
                return False
            sentinel = object()
            pairs = zip_longest(
                recorded_scan_rows(conn), chain.from_iterable(walked), fillvalue=sentinel
            )
            return all(old == new for old, new in pairs)


def rescan_interrupted(project_dir: Path) -> bool:
    """A labelling server stopped while its rescan was recording the batch's changes (the queue
    partly renumbered): the project must be scanned in full before it is served again."""
    with open_project(project_dir) as project, project.store.read() as conn:
        return rescan_rows.is_applying(conn)


def _spooled(spool: IO[bytes]) -> Iterator[list[ScanRow]]:
    """The spooled chunks, from the start."""
    spool.seek(0)
    while True:
        try:
            chunk: list[ScanRow] = pickle.load(spool)
        except EOFError:
            return
        yield chunk


def _described(report: InitReport) -> str:
    parts = [f"{report.new:,} new", f"{report.removed:,} missing"]
    if report.returned:
        parts.append(f"{report.returned:,} back")
    if report.changed:
        parts.append(f"{len(report.changed):,} labelled images changed on disk")
    return "Batch checked: " + ", ".join(parts) + "."
