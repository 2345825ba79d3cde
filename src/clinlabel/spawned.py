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
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _ignore_interrupts() -> None:
    """Ctrl+C on a terminal reaches the whole process group: the parent alone decides, and
    terminates the workers, so none prints a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_spawned(
    calls: Sequence[tuple[Callable[..., T], tuple[Any, ...]]],
) -> Callable[[], list[T]]:
    """Start each `(function, args)` in its own spawned process now; the returned function
    waits for the results, in order, and raises the first call's error if any failed.

    Interrupted (Ctrl+C while waiting) or failed, the workers are terminated at once, not
    waited for: a `multiprocessing` pool, whose `terminate` is public, unlike a process pool
    executor's workers.
    """
    pool = multiprocessing.get_context("spawn").Pool(
        processes=len(calls), initializer=_ignore_interrupts
    )
    try:
        pending = [pool.apply_async(function, args) for function, args in calls]
    except BaseException:
        pool.terminate()
        raise

    def results() -> list[T]:
        done = False
        try:
            values = [result.get() for result in pending]
            done = True
            return values
        finally:
            if done:
                pool.close()
            else:
                pool.terminate()
            pool.join()

    return results
