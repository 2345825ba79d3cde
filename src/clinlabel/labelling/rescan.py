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
3. Otherwise record the scan (`project.record_scan`: one write transaction) through the
   server's one writer thread, between two label saves, never beside them; then the session
   follows the image on screen to its new position (`on_applied`), and the page, told by the
   status, reloads its view of the queue.

A stop (the server closing) is seen between two chunks of the walk; the write step, once
begun, completes or rolls back as one transaction.
"""

from __future__ import annotations

import json
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import chain, zip_longest
from typing import IO

from clinlabel.domain import ScanResult
from clinlabel.errors import ClinlabelError
from clinlabel.labelling.project import InitReport, Project, record_scan
from clinlabel.labelling.scanning import scan_rows
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store.images import ScanRow
from clinlabel.store.rescan import recorded_scan_rows

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
        write: Callable[[Callable[[], InitReport]], InitReport],
    ) -> None:
        """`write(record)` runs `record` on the server's writer thread and returns its result
        (the server moves its session to the image on screen's new position meanwhile)."""
        self._project = project
        self._write = write
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
            self._rescan()
        except _Stopped:
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

        def record() -> InitReport:
            if self._stop.is_set():  # the server closed while this waited for the writer
                raise _Stopped
            chunks = _spooled(spool)
            return record_scan(project.store, project.dir, project.batch, chunks, result)

        report = self._write(record)
        self._set(
            state=DONE,
            added=report.new,
            missing=report.removed,
            returned=report.returned,
            changed=len(report.changed),
            applied=True,
            message=_described(report),
        )

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
