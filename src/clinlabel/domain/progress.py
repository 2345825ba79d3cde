"""How a long operation tells whoever started it how far it got: one plain callback.

The core (scanning, verifying, exporting) calls a `ProgressSink` now and then; the command line
turns the calls into a bar on a terminal (`cli.progress`), the labelling server into the page's
status line (`web.routes.rescan`). The core never knows which: it imports no terminal or web
library, and a caller that wants nothing passes `no_progress`.
"""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    def __call__(self, stage: str, done: int, total: int | None) -> None:
        """`stage` is a short phrase ("Scanning the batch"); `done` of `total` items so far,
        `total` None when it is not known in advance. A new `stage` ends the previous one."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The sink for callers that show nothing."""


REPORT_EVERY = 1000
"""Items between two reports in a loop over items: often enough for a bar that moves, rare
enough that reporting costs nothing next to the work."""
