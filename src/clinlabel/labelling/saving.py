"""What a command has saved, so that a Ctrl+C after it says so.

A command's writes are all or nothing, so a Ctrl+C before its commit changes nothing and the
interface says so. After the commit it is a lie: the commit itself (SQLite and psycopg commit
in C, and a Ctrl+C pressed meanwhile is raised once it has returned), and whatever the command
does after it (checks, printing, closing the project and its last WAL checkpoint), may still be
interrupted. `Saving` turns such a KeyboardInterrupt into `SavedThenInterrupted`, naming what
was saved; the interface says it in its one place for messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from clinlabel.audit.landing import Landing, watching
from clinlabel.errors import SavedThenInterrupted

if TYPE_CHECKING:
    from clinlabel.store.store import Store  # not loaded to run: the quick CSV export


class Saving:
    """Around a whole command: once `done` (or a `commit` block) has named what is saved, a
    Ctrl+C up to the end of the block is a `SavedThenInterrupted` naming it."""

    def __init__(self) -> None:
        self.saved: str | None = None
        self.unfinished: str | None = None

    def __enter__(self) -> Saving:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if (
            isinstance(exc, KeyboardInterrupt)
            and not isinstance(exc, SavedThenInterrupted)
            and self.saved is not None
        ):
            raise SavedThenInterrupted(self.saved, unfinished=self.unfinished) from None

    def done(self, saved: str, *, unfinished: str | None = None) -> None:
        """`saved` is committed; `unfinished`: what is left to do that matters to the user."""
        self.saved, self.unfinished = saved, unfinished

    @contextlib.contextmanager
    def commit(
        self, store: Store, saved: str, *, unfinished: str | None = None
    ) -> Iterator[Landing]:
        """Around a use case that commits its writes to `store` (with their events): a Ctrl+C
        in the block says `saved` if the last event appended in it has landed (the commit
        returned); once the block is done, `saved` is what the command has saved, if the block
        appended an event (a change that changed nothing saved nothing)."""
        with watching(store) as landing:
            try:
                yield landing
            except KeyboardInterrupt as exc:
                if isinstance(exc, SavedThenInterrupted) or not landing.landed():
                    raise
                raise SavedThenInterrupted(saved, unfinished=unfinished) from None
        if landing.event is not None:
            self.done(saved, unfinished=unfinished)
