"""The server's one labelling session and how the core is called: one writer, many readers.

The concurrency model, stated once (datasette's `execute_write` pattern):
- Every call that changes something (a label saved or cleared, an image shown, which records the
  time on the last one, the session opened or closed, an export) runs on one writer thread, in
  the order the page sent them (a label, then the next `show`); the database sees one writer.
- Reads (the queue window, an image's record and file, progress, the review table) run on a
  small pool of reader threads, each in its own read transaction (SQLite WAL, PostgreSQL MVCC
  snapshots): they never wait behind a write being flushed to disk.
- Decoding (headers, frames, renditions) runs in the viewing service's threads
  (`renditions.AsyncViewer`), never on the writer.
The event loop itself never blocks on the database or the disk.

An existing project opens at once: its batch is rescanned in the background
(`labelling.rescan`), walked on its own thread and, only if something changed, recorded in one
transaction on the writer thread, between two of the page's calls (docs/adr/0010).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from clinlabel.domain.images import ImageKind
from clinlabel.errors import ValidationError
from clinlabel.web.config import WebSettings
from clinlabel.web.errors import NotStartedError
from clinlabel.web.renditions import AsyncViewer
from clinlabel.web.schemas import ImageOut, ShownOut

if TYPE_CHECKING:
    from clinlabel.domain.views import ImageView
    from clinlabel.labelling.outputs import OutputPaths
    from clinlabel.labelling.project import InitReport, Project
    from clinlabel.labelling.rescan import BackgroundRescan, RescanStatus
    from clinlabel.labelling.service import LabellingSession, Shown

T = TypeVar("T")

#: Reader threads: enough for the page's parallel reads (queue window, review table, metadata)
#: on a 2-core laptop; each holds one pooled database connection while it reads.
READERS = 3


class Workbench:
    """Holds the project lock, the open project and the annotator's session while serving."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clinlabel-writer")
        self._readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="clinlabel-read")
        self._stack = contextlib.ExitStack()
        self.project: Project | None = None
        self._session: LabellingSession | None = None
        self.annotator: str | None = None
        self.viewer: AsyncViewer | None = None
        self.last_outputs: OutputPaths | None = None
        self.rescan: BackgroundRescan | None = None
        """This session's background rescan; None for a project created by this server."""
        self._answering = threading.Event()
        self._answering.set()
        """Background work (the rescan's walk) may begin: cleared by `hold_background` until
        the server answers (`answering`)."""

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a core function that changes something on the writer thread, in order."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a core function that only reads on a reader thread (never behind a write)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, functools.partial(fn, *args, **kwargs))

    def call_now(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Synchronous twin of `call`, for the CLI before the server runs and after it stops."""
        return self._executor.submit(fn, *args, **kwargs).result()

    async def image_file(self, image_id: int) -> tuple[Path, ImageKind, str]:
        """The file, decoder kind and relative path of an image, known only by its id.

        Asked of the core every time (a read): the core is the one place that knows which file
        an image is, and checks that it is still there, inside the batch.
        """
        session = self.session

        def lookup() -> tuple[Path, ImageKind, str]:
            view = session.image(image_id)
            return session.image_path(image_id), ImageKind(view.kind), view.relpath

        return await self.read(lookup)

    def image_out(self, view: ImageView) -> ImageOut:
        return ImageOut.of(view)

    def shown_out(self, shown: Shown) -> ShownOut:
        return ShownOut.of(shown, self.image_out(shown.view))

    @property
    def viewing(self) -> AsyncViewer:
        """The open project's viewing service, run in decoding threads."""
        if self.viewer is None:
            raise NotStartedError("Choose an output folder and an annotator name first.")
        return self.viewer

    @property
    def started(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> LabellingSession:
        if self._session is None:
            raise NotStartedError("Choose an output folder and an annotator name first.")
        return self._session

    def open(self, project_dir: Path, annotator: str) -> Shown:
        """Create or rescan the project, lock it, and start (or resume) the annotator's session.

        Must run on the core thread (through `call` or `call_now`).
        """
        from clinlabel.imaging.viewing import ViewingService
        from clinlabel.labelling.project import (
            ProjectLock,
            check_project_target,
            init_project,
            is_project,
            open_project,
            recorded_batch,
        )
        from clinlabel.labelling.rescan import rescan_interrupted
        from clinlabel.labelling.server_access import ServerAccess, save_server_access
        from clinlabel.labelling.service import LabellingSession

        if self._session is not None:
            raise ValidationError("A labelling session is already open in this server.")
        name = annotator.strip()
        if not name:
            raise ValidationError("Type the annotator's name.")
        project_dir = project_dir.expanduser().resolve()
        # An existing project opens at once and is rescanned in the background, once served; a
        # new one (or a new schema) is scanned now: there is nothing to label before that.
        batch, _ = check_project_target(self.settings.batch, project_dir)
        # The same batch as last time: a batch given anew (moved, or another one) is scanned
        # now, as `init` would, so the project never serves the old one's queue.
        background = (
            self.settings.schema_path is None
            and is_project(project_dir)
            and recorded_batch(project_dir) == batch
            # A rescan cut short while recording its changes: recorded in full now, as `init`.
            and not rescan_interrupted(project_dir)
        )
        if not background:
            # init_project refuses a project inside the batch before anything is written there.
            init_project(self.settings.batch, project_dir, schema_path=self.settings.schema_path)
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(ProjectLock(project_dir))
            project = stack.enter_context(open_project(project_dir))
            session = LabellingSession(
                project, annotator=name, idle_threshold_s=self.settings.idle_threshold_s
            )
            shown = session.start()
            # The next server of this project listens on this port with this token, so a page
            # left open across a restart reconnects and sends what it holds (under the lock:
            # one server writes it).
            save_server_access(
                project_dir, ServerAccess(token=self.settings.token, port=self.settings.port)
            )
        except BaseException:
            stack.close()
            raise
        stack.callback(session.close)
        self._stack = stack
        self.project, self._session, self.annotator = project, session, name
        if background:
            self._start_rescan(project)
        # The project's viewing service: every cache of the viewing path, keyed by file identity,
        # dropped with the project on close.
        self.viewer = AsyncViewer(
            ViewingService(
                rendition_folder=project_dir / "cache" / "renditions",
                rendition_bytes=self.settings.rendition_cache_bytes,
                memory_budget=self.settings.memory_budget_bytes,
            )
        )
        return shown

    def hold_background(self) -> None:
        """Hold the background rescan's walk until `answering` (a launch that opens the
        project before serving: the first image comes first, issue 14)."""
        self._answering.clear()

    def answering(self) -> None:
        """The server answers requests: held background work may begin."""
        self._answering.set()

    def _start_rescan(self, project: Project) -> None:
        from clinlabel.labelling.rescan import BackgroundRescan

        self.rescan = BackgroundRescan(
            project, write=self._write_rescan, keep_place=self._keep_place, begin=self._answering
        )
        self.rescan.start()

    def _write_rescan(self, step: Callable[[], T]) -> T:
        """Run one step of a rescan's recording on the writer thread, between label saves."""
        return self._executor.submit(step).result()

    def _keep_place(self) -> Callable[[InitReport], None]:
        """Before a rescan changes the queue (writer thread): the image on screen, and what
        shows it again at its new position once the rescan is recorded."""
        session = self._session
        if session is None:  # closed meanwhile: the rescan is stopped, nothing to follow
            return lambda _report: None
        before = session.current().view

        def follow(report: InitReport) -> None:
            if not report.total:
                return
            # The image on screen keeps its place by identity; if its file is gone, the image
            # now at its old position is shown (the last one past the end).
            try:
                position = session.position_of(before.relpath)
            except ValidationError:
                position = min(before.position, report.total)
            session.show(position)

        return follow

    def rescan_status(self) -> RescanStatus | None:
        return None if self.rescan is None else self.rescan.status

    def close(self) -> None:
        """Record the session's end and release the project (idempotent; core thread)."""
        if self.rescan is not None:
            # Stops the walk. Not waited for here: this runs on the writer thread, where a write
            # the rescan queued may wait behind it (and then finds the rescan stopped).
            self.rescan.stop(wait=False)
        stack, self._stack = self._stack, contextlib.ExitStack()
        self._session = None
        if self.viewer is not None:
            self.viewer.service.clear()
            self.viewer = None
        stack.close()

    def shutdown(self) -> None:
        """Close the session on the core thread, then stop that thread."""
        try:
            self.call_now(self.close)
        finally:
            self._readers.shutdown(wait=True)
            self._executor.shutdown(wait=True)
            if self.rescan is not None:
                self.rescan.stop()
