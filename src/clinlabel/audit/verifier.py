"""Verifying one open project's chain again and again, checking only what is new each time.

A labelling server writes the summary report on every "Save progress"; recomputing a
million-event chain each time would take seconds, and doing it on other cores meant forking a
process that runs threads (docs/adr/0007). Instead the open project remembers, in this process's
memory only, the newest event it verified (id, hash and count) and, next time, checks that this
event is still there with that hash and content, that no event below it was added or removed,
and then only the events after it. `clinlabel audit verify` never uses this: it always
recomputes the whole chain.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from sqlalchemy.engine import Connection

from clinlabel.audit.chain import HASHED_FIELDS, values_hash
from clinlabel.audit.log import verify_chain, verify_range, with_labels
from clinlabel.audit.status import ChainStatus
from clinlabel.store import events as event_rows
from clinlabel.store.store import Store


@dataclass(frozen=True, slots=True)
class VerifiedHead:
    """The newest event of a chain found intact (events 1..event_id, contiguous)."""

    event_id: int
    hash: str


class ChainVerifier:
    """The chain of one open project, verified in full once, then incrementally."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._head: VerifiedHead | None = None
        self._lock = threading.Lock()

    @property
    def head(self) -> VerifiedHead | None:
        return self._head

    def verify(self) -> ChainStatus:
        """The chain and the current labels, as `audit.log.verify_store` finds them."""
        with self._lock, self._store.read() as conn:
            head = self._head
            if head is not None and not _head_unchanged(conn, head):
                head = None  # the remembered part changed under us: check all of it again
            if head is None:
                status = verify_chain(conn)
            else:
                newer = verify_range(conn, first=head.event_id + 1, prev_hash=head.hash)
                status = replace(newer, events=head.event_id + newer.events)
            status = with_labels(status, event_rows.first_label_mismatch(conn))
            # Ids run 1..n without gaps in an intact chain, so the count is the newest id.
            self._head = VerifiedHead(status.events, status.head_hash) if status.ok else None
            return status


def _head_unchanged(conn: Connection, head: VerifiedHead) -> bool:
    """The remembered head event still has its hash, its content still hashes to it, and
    exactly `event_id` events lead up to it (none inserted or removed below)."""
    row = event_rows.chain_row(conn, HASHED_FIELDS, head.event_id)
    if row is None or row[-1] != head.hash or values_hash(row[:-1]) != head.hash:
        return False
    return event_rows.count_up_to(conn, head.event_id) == head.event_id
