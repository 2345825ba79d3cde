"""Run independent pieces of work in forked processes, one core each.

Verifying a long audit chain is CPU-bound Python: threads would take turns on the GIL, while
forked processes run side by side. Where the platform cannot fork, the calls run one after
another in this process; the results are the same either way.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection as Pipe
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _child(call: Callable[[], object], sender: Pipe) -> None:
    try:
        outcome: tuple[str, object] = ("ok", call())
    except BaseException as exc:  # raised again in the parent
        outcome = ("error", exc)
    sender.send_bytes(pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL))
    sender.close()


def run_forked(calls: Sequence[Callable[[], T]], *, timeout_s: float = 1800.0) -> list[T]:
    """The results of `calls`, in order, each computed in a forked child (in parallel).

    A child that has not answered within `timeout_s` (say, deadlocked on a lock another thread
    held at the fork) is killed, and its call fails.
    """
    return start_forked(calls, timeout_s=timeout_s)()


def start_forked(
    calls: Sequence[Callable[[], T]], *, timeout_s: float = 1800.0
) -> Callable[[], list[T]]:
    """Start `calls` in forked children now; the returned function waits for their results.

    The caller can do other work in between (its own core is free while the children run).
    """
    if len(calls) < 2 or not can_fork():
        return lambda: [call() for call in calls]
    context = multiprocessing.get_context("fork")
    started = []
    for call in calls:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(call, sender), daemon=True)
        process.start()
        sender.close()
        started.append((process, receiver))

    def results() -> list[T]:
        values: list[T] = []
        failure: BaseException | None = None
        for process, receiver in started:
            try:
                if not receiver.poll(timeout_s):
                    raise TimeoutError
                kind, value = pickle.loads(receiver.recv_bytes())
            except EOFError:
                kind, value = "error", RuntimeError("a worker process stopped unexpectedly")
            except TimeoutError:
                kind, value = "error", RuntimeError(f"a worker took over {timeout_s:.0f} s")
            finally:
                receiver.close()
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
            if kind == "error":
                failure = failure or value
            else:
                values.append(value)
        if failure is not None:
            raise failure
        return values

    return results
