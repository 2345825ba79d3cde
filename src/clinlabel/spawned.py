"""Run independent pieces of work in spawned processes, one core each: for commands only.

Verifying a million-event audit chain is CPU-bound Python: threads would take turns on the
GIL, while processes run side by side. The processes are *spawned* (a fresh interpreter that
imports what it needs), never forked: a fork copies the locks other threads of the parent held
at that moment, and a labelling server runs several (docs/adr/0009). Only a command-line
process asks for this; a server checks its chain incrementally in its own process instead.
Each call must be a module-level function with picklable arguments and result.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def start_spawned(
    calls: Sequence[tuple[Callable[..., T], tuple[Any, ...]]],
) -> Callable[[], list[T]]:
    """Start each `(function, args)` in its own spawned process now; the returned function
    waits for the results, in order, and raises the first call's error if any failed."""
    pool = ProcessPoolExecutor(
        max_workers=len(calls), mp_context=multiprocessing.get_context("spawn")
    )
    try:
        futures = [pool.submit(function, *args) for function, args in calls]
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise

    def results() -> list[T]:
        try:
            return [future.result() for future in futures]
        finally:
            pool.shutdown(cancel_futures=True)

    return results
