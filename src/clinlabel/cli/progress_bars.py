"""The rich progress bars of `cli.progress`, in their own module: rich is imported only when
stderr is a terminal, so a command in a script or a pipe does not pay for it."""

from __future__ import annotations

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

from clinlabel.domain.progress import ProgressSink


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


@contextmanager
def rich_progress() -> Iterator[ProgressSink]:
    """Bars on stderr, drawn transient (gone when the block ends)."""
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
