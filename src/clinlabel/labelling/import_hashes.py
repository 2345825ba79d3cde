"""SHA-256 of many image files at once, under the rules `project.confined_path` keeps.

An import hashes every image it labels first (a label points at exact bytes). Resolving each
file's whole path through `confined_path` (a realpath of the batch and of every folder, in
Python, holding the GIL) cost more than hashing a small image. Here a folder is resolved once
and checked to be inside the batch; each file is then opened without following a link
(`O_NOFOLLOW`) nor waiting on a pipe (`O_NONBLOCK`), and must be a regular file. A file that is
a link is resolved and checked in full by `confined_path`, as a label save does.

`FileHashing` runs that hashing beside the import's database work: in threads for a few files,
in a pool of worker processes once an import has thousands to hash (issue 12). A thread reading
a small file holds the interpreter's lock between its system calls, so hashing 100,000 files
in threads slowed the thread that builds and writes the rows; a process hashes on another core.
This module imports nothing heavy: a worker process starts from it alone.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import queue
import stat
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from clinlabel.errors import ImageFileError

_CHUNK = 1 << 20
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_BY_FOLDER = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
"""Files opened relative to their open folder: the kernel then walks one name, not the whole
path (a third of the cost of hashing a small image). Not on Windows: whole paths there."""
_FOLDERS_OPEN = 32
"""Folders kept open at once (rows come in queue order: a folder's files together)."""


class BatchHasher:
    """Hashes files of one batch, from one thread at a time (it keeps the folders it resolved
    and a few of them open: `close` them, or they close with the hasher)."""

    def __init__(self, batch: Path) -> None:
        self.batch = batch
        self.root = os.path.realpath(batch)
        self._folders: dict[str, str | None] = {}
        self._open: OrderedDict[str, int] = OrderedDict()

    def _folder(self, below: str) -> str | None:
        """The real path of a folder of the batch, or None if it resolves outside it."""
        if below not in self._folders:
            real = os.path.realpath(os.path.join(self.root, *below.split("/")))
            inside = real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)
            self._folders[below] = real if inside else None
        return self._folders[below]

    def _open_file(self, folder: str, below: str, name: str) -> int:
        """The file, opened for reading without following a link (OSError: gone, a link)."""
        if not _BY_FOLDER:
            return os.open(os.path.join(folder, name), _FLAGS)
        held = self._open.get(below)
        if held is None:
            # The folder's real path, opened as a folder and not through a link: a folder
            # turned into a link since it was resolved fails here, and is checked in full.
            held = os.open(folder, _DIR_FLAGS)
            self._open[below] = held
            if len(self._open) > _FOLDERS_OPEN:
                os.close(self._open.popitem(last=False)[1])
        else:
            self._open.move_to_end(below)
        return os.open(name, _FLAGS, dir_fd=held)

    def close(self) -> None:
        while self._open:
            os.close(self._open.popitem()[1])

    def __del__(self) -> None:
        with suppress(Exception):
            self.close()

    def sha256(self, relpath: str) -> str | None:
        """The file's SHA-256, or None if it is gone, not a regular file, or outside the batch
        (never read then)."""
        below, _, name = relpath.rpartition("/")
        folder = self._folder(below)
        if folder is None:
            return None
        try:
            fd = self._open_file(folder, below, name)
        except OSError:
            return self._through_links(relpath)  # a link (ELOOP), or gone
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        try:
            if not regular:  # a folder, a named pipe or a device in the image's place
                return None
            # Read on the descriptor itself: a file object and its buffer cost more than the
            # read of a small image.
            digest = hashlib.sha256()
            try:
                while chunk := os.read(fd, _CHUNK):
                    digest.update(chunk)
            except OSError:
                return None
            return digest.hexdigest()
        finally:
            os.close(fd)

    def _through_links(self, relpath: str) -> str | None:
        # Imported here: the project module (and the database layer it loads) is not needed by
        # a worker process unless it meets a link.
        from clinlabel.labelling.project import confined_path, file_sha256

        try:
            return file_sha256(confined_path(self.batch, relpath))
        except ImageFileError:
            return None


HASH_THREADS = 4
"""Threads hashing a chunk's files when they are few (reading and SHA-256 of a large image
release the interpreter's lock)."""
PROCESSES_AFTER = 20_000
"""Files an import is expected to hash before worker processes are worth their start (a
twentieth of a second of a core each, against some 7 microseconds a small file)."""
MAX_PROCESSES = 4


def process_count() -> int:
    """Worker processes for a large import: every core but the one writing the rows, at least
    one (the writer waits on the database and the disk part of the time)."""
    return max(1, min(MAX_PROCESSES, (os.cpu_count() or 1) - 1))


class Pending:
    """The hashes of one submitted list of files, in its order, once `result` is called."""

    def __init__(self, parts: list[Future[list[str | None]]]) -> None:
        self._parts = parts

    def result(self) -> list[str | None]:
        return [sha for part in self._parts for sha in part.result()]


_WORKER = (
    "import json, sys; sys.path[:] = json.loads(sys.argv.pop(1)); "
    "from clinlabel.labelling.hash_worker import main; main()"
)
"""`python -m clinlabel.labelling.hash_worker BATCH`, on this process's module path."""


class _Worker:
    """A `hash_worker` process: a list of relpaths in on its stdin, their hashes out on its
    stdout (marshal: plain lists of strings), one request at a time."""

    def __init__(self, batch: str) -> None:
        # The worker's modules are found where this process found its own (its path as it is
        # now, as multiprocessing gives a spawned process).
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, json.dumps(sys.path), batch],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Nothing to say: a worker that cannot start or dies leaves its files to this
            # process, whose messages are the import's own.
            stderr=subprocess.DEVNULL,
            # Its own process group: Ctrl+C in a terminal reaches the import alone, which ends
            # the workers (a worker's own KeyboardInterrupt would print a traceback).
            start_new_session=True,
        )

    def hash(self, relpaths: Sequence[str]) -> list[str | None]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        marshal.dump(list(relpaths), stdin)
        stdin.flush()
        found: list[str | None] = marshal.load(stdout)
        return found

    def end(self, *, kill: bool) -> None:
        if kill:
            self.process.kill()
        with suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()  # end of requests: the worker exits
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class FileHashing:
    """Hashes the files of one batch in the background for an import of `rows` labels.

    Threads hash in this process first; once the files submitted, for the rows submitted, say
    that the whole import will hash at least `processes_after` files, `processes` worker
    processes are started and take the next submissions (the current one stays here while they
    start). A worker that fails leaves its files to be hashed here. Leaving the block on an
    error (Ctrl+C included) drops what is queued and kills the workers at once: they only read.
    """

    def __init__(
        self,
        batch: Path,
        *,
        rows: int,
        processes_after: int | None = None,
        processes: int | None = None,
    ) -> None:
        self.batch = batch
        self.rows = rows
        self.processes_after = PROCESSES_AFTER if processes_after is None else processes_after
        self.processes = process_count() if processes is None else processes
        self._threads: ThreadPoolExecutor | None = None
        self._workers: list[_Worker] = []
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._files = 0
        self._rows_seen = 0
        self._closing = False

    def __enter__(self) -> FileHashing:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close(failed=kind is not None)

    @property
    def uses_processes(self) -> bool:
        return bool(self._workers)

    def submit(self, relpaths: list[str], *, rows: int) -> Pending:
        """Start hashing `relpaths`, the files of `rows` rows of the import."""
        self._files += len(relpaths)
        self._rows_seen += rows
        if not relpaths:
            return Pending([])
        threads = self._threads
        if threads is None:
            threads = self._threads = ThreadPoolExecutor(
                max_workers=max(HASH_THREADS, self.processes),
                thread_name_prefix="clinlabel-hash",
            )
        if self._workers:
            task, parts = self._in_worker, self.processes
        else:
            task, parts = self._here, HASH_THREADS
            if self._files * self.rows >= self.processes_after * self._rows_seen:
                self._start_workers()
        step = -(-len(relpaths) // parts)
        return Pending(
            [threads.submit(task, relpaths[k : k + step]) for k in range(0, len(relpaths), step)]
        )

    def _here(self, relpaths: Sequence[str]) -> list[str | None]:
        # A hasher per task: one keeps folders open, for one thread at a time.
        hasher = BatchHasher(self.batch)
        found: list[str | None] = []
        try:
            for relpath in relpaths:
                if self._closing:  # the import failed or was interrupted: nobody waits
                    break
                found.append(hasher.sha256(relpath))
        finally:
            hasher.close()
        return found

    def _in_worker(self, relpaths: Sequence[str]) -> list[str | None]:
        worker = self._idle.get()  # as many threads as workers: one is always free
        try:
            found = worker.hash(relpaths)
        except (OSError, EOFError, ValueError, TypeError):
            if self._closing:
                raise
            return self._here(relpaths)  # the worker died: its files are hashed here
        finally:
            self._idle.put(worker)
        if len(found) != len(relpaths):
            return self._here(relpaths)
        return found

    def _start_workers(self) -> None:
        try:
            for _ in range(self.processes):
                worker = _Worker(str(self.batch))
                self._workers.append(worker)
                self._idle.put(worker)
        except OSError:  # no process can be started: the threads go on alone
            for worker in self._workers:
                worker.end(kill=True)
            self._workers = []
            self._idle = queue.SimpleQueue()

    def close(self, *, failed: bool = False) -> None:
        self._closing = True
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.end(kill=failed)
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=not failed, cancel_futures=failed)
