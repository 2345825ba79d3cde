"""Progress bars on a terminal (rich), nothing at all when stderr is not one.

A command wraps its long call in `terminal_progress()` and passes the sink it gets to the core
(`domain.progress.ProgressSink`). On a terminal each stage the core reports becomes one line
of the bar: what, a bar (moving back and forth when the total is not known), the counts, the
rate and the time so far, drawn on stderr so that stdout stays the command's answer (a pipe,
`--json`). When stderr is a file or a pipe (a script, a test, a CI log) the sink does nothing,
so no control characters end up in a log.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from clinlabel.domain.progress import ProgressSink, no_progress


class _CountColumn(ProgressColumn):
    """'12,000 of 100,000', or '12,000' while the total is not known."""

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        if task.total is None:
            return Text(f"{done:,}")
        return Text(f"{done:,} of {int(task.total):,}")


class _RateColumn(ProgressColumn):
    """Items per second: over rich's recent window, or since the stage began until it has one."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


class _Bars:
    """The sink: one rich task per stage, the previous one completed when the next starts."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._stage: str | None = None
        self._task: TaskID | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self._stage or self._task is None:
            self._finish()
            self._stage = stage
            self._task = self._progress.add_task(stage, total=total)
        self._progress.update(self._task, completed=done, total=total)

    def _finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, total=task.completed or task.total or 1)


def wants_bar() -> bool:
    """A bar only where someone watches: stderr is a terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


@contextmanager
def terminal_progress() -> Iterator[ProgressSink]:
    """A progress sink for the core: rich bars on a terminal's stderr, else nothing.

    The bars are drawn transient (gone when the block ends), so the command's own summary
    lines are what stays on the screen.
    """
    if not wants_bar():
        yield no_progress
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        _CountColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        yield _Bars(progress)
