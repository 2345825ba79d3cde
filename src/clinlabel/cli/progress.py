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

from clinlabel.domain.progress import ProgressSink, no_progress


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
    # Imported here: rich costs a noticeable part of a short command's start-up.
    from clinlabel.cli.progress_bars import rich_progress

    with rich_progress() as bars:
        yield bars
