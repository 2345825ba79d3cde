"""Whether a write landed: its own last event, noted before the commit, looked for after it.

SQLite and psycopg commit in C, so a Ctrl+C pressed during a commit is raised only once the
commit has returned: the KeyboardInterrupt alone cannot say whether the write is saved. A
`Landing` notes the last event a write appends (id and hash: an id alone may be taken again by
a later write if this one rolled back), and after the interruption looks for it through a new
transaction. Every use case that appends events through `append_event(s)` is noted without
being told, while a `watching` block is open on this thread (or task).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from clinlabel.errors import ClinlabelError

if TYPE_CHECKING:
    # Not imported to run: the quick CSV export, which reads its project by sqlite3 alone,
    # uses a `Landing` without loading SQLAlchemy.
    from clinlabel.store.store import Store

_WATCHED: ContextVar[tuple[Landing, ...]] = ContextVar("clinlabel_landing", default=())


class Landing:
    """The last event appended while it was watched, and whether the project holds it now."""

    def __init__(self, read_hash: Callable[[int], str | None]) -> None:
        self._read_hash = read_hash
        self.event: tuple[int, str] | None = None
        """(id, hash) of the last event appended, in a transaction that may not have committed."""

    @classmethod
    def of(cls, store: Store) -> Landing:
        from clinlabel.store import events as event_rows

        def read_hash(event_id: int) -> str | None:
            with store.read() as conn:  # a new transaction: it sees what was committed
                return event_rows.hash_of(conn, event_id)

        return cls(read_hash)

    def appended(self, event_id: int, event_hash: str) -> None:
        self.event = (event_id, event_hash)

    def landed(self) -> bool:
        """Whether the noted event is committed (False: none noted, or not known)."""
        if self.event is None:
            return False
        event_id, event_hash = self.event
        try:
            return self._read_hash(event_id) == event_hash
        except ClinlabelError:
            return False  # the project cannot be read now: the interruption goes on as it came


@contextlib.contextmanager
def watching(store: Store) -> Iterator[Landing]:
    """Note the events appended in this block (on this thread) in the `Landing` it yields
    (and in those of the blocks around it)."""
    landing = Landing.of(store)
    token = _WATCHED.set((*_WATCHED.get(), landing))
    try:
        yield landing
    finally:
        _WATCHED.reset(token)


def appended(event_id: int, event_hash: str) -> None:
    """Called by `append_event(s)` for the last event it appended: noted if watched."""
    for landing in _WATCHED.get():
        landing.appended(event_id, event_hash)
