"""Streaming a batch scan into the database, with the walk and the inserts on two cores.

Walking a batch (stat calls, natural sorting) and inserting its rows (SQLite B-tree work) each
take about as long as the other, and both are mostly Python-bound, so threads would take turns
on the GIL. Where the platform can fork, the walk runs in a child process that sends rows in
chunks through a pipe while this process inserts the previous chunk. Elsewhere, or if the
child cannot be started, the scan runs in this process; the result is the same.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Generator, Iterator
from itertools import islice
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from clinlabel.discovery.scan import scan_batch
from clinlabel.domain import ScanResult
from clinlabel.store.images import ScanRow, scan_row

CHUNK = 5000


def _chunks(batch: Path, result: ScanResult, *, verify: bool) -> Iterator[list[ScanRow]]:
    numbered = enumerate(scan_batch(batch, result, verify=verify), start=1)
    while chunk := [scan_row(seq, ref) for seq, ref in islice(numbered, CHUNK)]:
        yield chunk


def _child(sender: Pipe, batch: Path, verify: bool) -> None:
    result = ScanResult()
    try:
        for chunk in _chunks(batch, result, verify=verify):
            sender.send_bytes(pickle.dumps(("rows", chunk), pickle.HIGHEST_PROTOCOL))
        sender.send_bytes(pickle.dumps(("done", result), pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:  # every failure goes to the parent, which raises it there
        sender.send_bytes(pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL))
    finally:
        sender.close()


def scan_rows(
    batch: Path, result: ScanResult, *, verify: bool
) -> Generator[list[ScanRow], None, None]:
    """Chunks of scan rows in queue order; `result` is filled in when the stream ends.

    Raises what the scan raises (a missing batch, no XC folder) from the iteration.
    """
    if "fork" not in multiprocessing.get_all_start_methods() or os.cpu_count() == 1:
        yield from _chunks(batch, result, verify=verify)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, batch, verify), daemon=True)
    try:
        process.start()
    except OSError:
        receiver.close()
        sender.close()
        yield from _chunks(batch, result, verify=verify)
        return
    sender.close()
    try:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError as exc:
                raise RuntimeError("the batch scan stopped unexpectedly") from exc
            if kind == "rows":
                yield payload
            elif kind == "done":
                for name in ("problems", "skipped"):
                    getattr(result, name).extend(getattr(payload, name))
                result.cases, result.visits, result.images = (
                    payload.cases,
                    payload.visits,
                    payload.images,
                )
                return
            else:
                raise payload
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
