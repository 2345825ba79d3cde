"""Streaming a batch scan into the database, with the work spread over two cores if asked.

Walking a batch (stat calls, natural sorting) and inserting its rows (SQLite B-trees) are both
mostly Python, so threads would take turns on the GIL. With `parallel` (the `init` command
asks for it), two child processes each walk half of the cases (`scan_batch(part=...)`): the
first sends its rows through a pipe while this process inserts them; the second spools its rows
to a temporary file, read once the first half is in, so that the queue order holds. Children
are *spawned* (a fresh interpreter), never forked: a fork copies whatever locks the parent's
other threads held at that instant, and a labelling server (which also rescans) runs several
threads. Without `parallel`, on one core, or where processes cannot be started, the scan runs
in this process; the rows and the result are the same either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
from collections.abc import Generator, Iterator
from itertools import islice
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from pathlib import Path

from clinlabel.discovery.scan import scan_batch
from clinlabel.domain import ScanResult
from clinlabel.store.images import ScanRow, scan_row

CHUNK = 2000
"""Rows per chunk: what goes through the pipe, into one INSERT, and into one progress report."""
PARTS = 2
PARALLEL_FROM_CASES = 100
"""Fewer case folders than this are walked in this process: starting two interpreters costs
more than it saves on a small batch."""


def _chunks(
    batch: Path, result: ScanResult, *, verify: bool, part: tuple[int, int] | None = None
) -> Iterator[list[ScanRow]]:
    numbered = enumerate(scan_batch(batch, result, verify=verify, part=part), start=1)
    while chunk := [scan_row(seq, ref) for seq, ref in islice(numbered, CHUNK)]:
        yield chunk


def _send(sender: Pipe, message: object) -> None:
    try:
        sender.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
    except BrokenPipeError as exc:
        # The parent stopped reading (the scan was closed early): nothing more to say.
        raise SystemExit(0) from exc


def _ignore_interrupts() -> None:
    """Ctrl+C on a terminal reaches the whole process group: the parent alone decides, and
    stops its children (`scan_rows`), so a child never prints a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _streaming_child(sender: Pipe, batch: Path, verify: bool) -> None:
    """Part 0: rows go straight to the parent, which inserts them as they come."""
    _ignore_interrupts()
    result = ScanResult()
    try:
        for chunk in _chunks(batch, result, verify=verify, part=(0, PARTS)):
            _send(sender, ("rows", chunk))
        _send(sender, ("done", result))
    except SystemExit:
        pass
    except BaseException as exc:  # every failure goes to the parent, which raises it there
        _send(sender, ("error", exc))
    finally:
        sender.close()


def _spooling_child(sender: Pipe, batch: Path, verify: bool, spool_path: str) -> None:
    """Part 1: rows go to a temporary file while part 0 is being inserted."""
    _ignore_interrupts()
    result = ScanResult()
    try:
        with open(spool_path, "wb") as spool:
            for chunk in _chunks(batch, result, verify=verify, part=(1, PARTS)):
                pickle.dump(chunk, spool, pickle.HIGHEST_PROTOCOL)
        _send(sender, ("done", result))
    except SystemExit:
        pass
    except BaseException as exc:
        _send(sender, ("error", exc))
    finally:
        sender.close()


def _receive(receiver: Pipe) -> tuple[str, object]:
    try:
        kind, payload = pickle.loads(receiver.recv_bytes())
    except EOFError as exc:
        raise RuntimeError("the batch scan stopped unexpectedly") from exc
    if kind == "error":
        raise payload
    return str(kind), payload


def _spooled(path: str, offset: int) -> Iterator[list[ScanRow]]:
    """The spooled chunks, their queue positions moved past the rows before them."""
    with open(path, "rb") as spool:
        while True:
            try:
                chunk: list[ScanRow] = pickle.load(spool)
            except EOFError:
                return
            yield [(row[0] + offset, *row[1:]) for row in chunk]


def _folders(batch: Path) -> int:
    """How many folders (cases, at most) the batch folder holds; 0 if it cannot be read."""
    try:
        with os.scandir(batch) as entries:
            return sum(1 for entry in entries if entry.is_dir())
    except OSError:
        return 0  # the scan itself says what is wrong with the batch


def scan_rows(
    batch: Path, result: ScanResult, *, verify: bool, parallel: bool = False
) -> Generator[list[ScanRow], None, None]:
    """Chunks of scan rows in queue order; `result` is filled in when the stream ends.

    `parallel` walks the batch in two spawned processes; only a command-line process, which
    runs no other threads of ours, should ask for it. Raises what the scan raises (a missing
    batch, no XC folder) from the iteration.
    """
    if not parallel or (os.cpu_count() or 1) < 2 or _folders(batch) < PARALLEL_FROM_CASES:
        yield from _chunks(batch, result, verify=verify)
        return
    scan_batch(batch, ScanResult())  # checks the batch folder here, before starting children
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    pipes: list[Pipe] = []
    # The parent owns the spool's folder, so it is removed however the scan ends.
    spool_dir = tempfile.mkdtemp(prefix="clinlabel-scan-")
    spool = os.path.join(spool_dir, "rows.pickle")
    finished = False
    try:
        for target, args in (
            (_streaming_child, (batch, verify)),
            (_spooling_child, (batch, verify, spool)),
        ):
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=target, args=(sender, *args), daemon=True)
            child.start()
            sender.close()
            processes.append(child)
            pipes.append(receiver)
        first = ScanResult()
        count = 0
        while True:
            kind, payload = _receive(pipes[0])
            if kind == "done":
                assert isinstance(payload, ScanResult)
                first = payload
                break
            assert isinstance(payload, list)
            count += len(payload)
            yield payload
        _, second = _receive(pipes[1])
        assert isinstance(second, ScanResult)
        yield from _spooled(spool, count)
        result.add(first)
        result.add(second)
        finished = True
    finally:
        for receiver in pipes:
            receiver.close()
        for process in processes:
            if not finished:
                # Interrupted (Ctrl+C) or failed: the children's work is wanted no more. Stop
                # them now rather than let the spooling one walk on (a second per 10,000 files).
                process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        shutil.rmtree(spool_dir, ignore_errors=True)
    if not result.clinical_folders:
        with contextlib.suppress(StopIteration):
            next(iter(scan_batch(batch, ScanResult())))  # raises the whole batch's own error
