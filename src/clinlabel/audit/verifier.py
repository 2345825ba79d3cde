"""Verifying one open project's chain again and again, checking only what is new each time.

A labelling server writes the summary report on every "Save progress"; recomputing a
million-event chain each time would take seconds, and doing it on other cores meant forking a
process that runs threads (docs/adr/0009). Instead the open project remembers, in this process's
memory only, the newest event it verified (id, hash and count) and, next time, checks that this
event is still there with that hash and content, that no event below it was added or removed,
and then only the events after it. `clinlabel audit verify` never uses this: it always
recomputes the whole chain.

An open project (`remember=True`) also keeps that head in the database (`meta`, key
`verified_head`), so the next command (`clinlabel export` run again after a day's labelling)
checks only what was added since: the same checks, starting from a head found intact by an
earlier process. A head that no longer matches its event is forgotten and the whole chain
checked again. The current labels are compared with the trail in full unless those an earlier
full check passed still have the digest kept with the head (`audit.label_digest`, SQLite only):
then only the labels and keys with newer events are. Regions are checked in full every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.engine import Connection

from clinlabel.audit.chain import (
    GENESIS,
    HASHED_FIELDS,
    VerifiedHead,
)
from clinlabel.audit.label_digest import KeptLabels, digest_to_keep, unchanged_up_to
from clinlabel.audit.log import (
    VERIFYING,
    record_mismatch,
    verify_chain,
    verify_range,
    with_labels,
)
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.errors import StoreError
from clinlabel.store import events as event_rows
from clinlabel.store import meta
from clinlabel.store.page_cache import large_cache
from clinlabel.store.store import Store

PARALLEL_FROM = 500_000
"""A full check of a chain at least this long, asked for `parallel`, runs on spawned processes.
Below it, starting three interpreters costs about what they save (measured: `audit verify` of
200,000 events took 3.0 to 3.6 s spawned, 2.5 to 3 s in one process, on two busy cores)."""


class ChainVerifier:
    """The chain of one open project, verified in full once, then incrementally."""

    def __init__(self, store: Store, *, remember: bool = False) -> None:
        self._store = store
        self._head: VerifiedHead | None = None
        self._lock = threading.Lock()
        self._remember = remember
        """Start from the head kept in `meta` by an earlier process, and keep the new one."""
        self._kept: VerifiedHead | None = None
        self._labels: KeptLabels | None = None
        """The digest of the current labels as the check up to `_head` found them."""
        self._kept_labels: KeptLabels | None = None
        self._loaded = False

    @property
    def head(self) -> VerifiedHead | None:
        return self._head

    def verify(self) -> ChainStatus:
        """The chain and the current labels, as `audit.log.verify_store` finds them."""
        return self.start()()

    def start(
        self, *, parallel: bool = False, progress: ProgressSink = no_progress, keep: bool = True
    ) -> Callable[[], ChainStatus]:
        """Start checking; the returned function gives the result.

        `parallel` (command-line processes only, see `clinlabel.spawned`): a full check of a
        long chain runs in three spawned processes, each half of the chain and the current
        labels, while the caller goes on (gathering a report's figures, say). The second half
        starts from the hash stored in the event before it, which the first half checks in
        turn, so every link is checked once. Otherwise the check runs here, now.

        `keep=False`: the verified head is not written to the database now (the caller may be
        interrupted before its own work is done, and must then leave the project as it was):
        `keep()` writes it later.
        """
        self._load_kept()
        if parallel and self._head is None:
            with self._store.read() as conn:
                end = event_rows.last_id(conn)
                boundary = event_rows.hash_of(conn, end // 2) or ""
            if end >= PARALLEL_FROM:
                progress(VERIFYING, 0, None)  # the children report nothing back until done
                return self._start_spawned(end, boundary, keep=keep)
        status = self._verify_here(progress, keep=keep)
        return lambda: status

    def _start_spawned(
        self, end: int, boundary: str, *, keep: bool = True
    ) -> Callable[[], ChainStatus]:
        from clinlabel.spawned import start_spawned

        url, middle = self._store.reader_url, end // 2
        parts: list[tuple[Callable[..., object], tuple[object, ...]]] = [
            (_verify_part, (url, 1, middle, GENESIS)),
            (_verify_part, (url, middle + 1, end, boundary)),
            (_label_part, (url,)),
        ]
        pending = start_spawned(parts)

        def result() -> ChainStatus:
            first, second, labels = pending()
            assert isinstance(first, ChainStatus) and isinstance(second, ChainStatus)
            if not first.ok:
                return first
            if not second.ok:
                return replace(second, events=first.events + second.events)
            assert labels is None or isinstance(labels, tuple)
            whole = ChainStatus(True, first.events + second.events, second.head_hash)
            status = with_labels(whole, labels)
            with self._lock:
                self._head = VerifiedHead(status.events, status.head_hash) if status.ok else None
                self._labels = None  # every label checked, no digest taken
                if keep:
                    self._keep()
            return status

        return result

    def _verify_here(
        self, progress: ProgressSink = no_progress, *, keep: bool = True
    ) -> ChainStatus:
        with self._lock, self._store.read() as conn:
            head = self._head
            if head is not None and not _head_unchanged(conn, head):
                head = None  # the remembered part changed under us: check all of it again
            if head is None:
                status = verify_chain(conn, progress=progress)
            else:
                newer = verify_range(conn, first=head.event_id + 1, prev_hash=head.hash)
                status = replace(newer, events=head.event_id + newer.events)
            reads = _LabelReads(conn)
            unchanged_to = (
                unchanged_up_to(self._labels, status.events, reads) if status.ok else None
            )
            # The chain is one pass in id order; the label check's grouped reads are what a
            # 2 MB cache spilled to disk at a million events.
            with large_cache(conn):
                mismatch = record_mismatch(conn, after=unchanged_to)
            status = with_labels(status, mismatch)
            # Ids run 1..n without gaps in an intact chain, so the count is the newest id.
            self._head = VerifiedHead(status.events, status.head_hash) if status.ok else None
            # Taken by an open project's verifier only, which checks again (`audit verify`, a
            # verifier of its own, checks once).
            self._labels = (
                None
                if self._head is None or not self._remember
                else digest_to_keep(self._head, self._labels, unchanged_to, reads)
            )
        if keep:
            self.keep()
        return status

    def keep(self) -> None:
        """Write the head verified last to the database, for the next process (`remember`)."""
        with self._lock:
            self._keep()

    def _load_kept(self) -> None:
        """The head an earlier process kept, once, before the first check."""
        if not self._remember or self._loaded:
            return
        self._loaded = True
        with self._store.read() as conn:
            text = meta.get_meta(conn, meta.VERIFIED_HEAD)
            labels_text = meta.get_meta(conn, meta.VERIFIED_LABELS)
        kept = VerifiedHead.from_kept_text(text)
        kept_labels = KeptLabels.from_kept_text(labels_text)
        with self._lock:
            self._kept, self._kept_labels = kept, kept_labels
            if self._head is None:
                self._head, self._labels = kept, kept_labels

    def _keep(self) -> None:
        """Keep a newer verified head, and the labels' digest taken at it, for the next process
        (never while reading only)."""
        head, labels = self._head, self._labels
        if not self._remember or self._store.read_only or head is None:
            return
        if head == self._kept and (labels is None or labels == self._kept_labels):
            return
        try:
            with self._store.write() as conn:
                meta.set_meta(conn, meta.VERIFIED_HEAD, head.kept_text())
                if labels is not None:
                    meta.set_meta(conn, meta.VERIFIED_LABELS, labels.kept_text())
        except StoreError:
            return  # busy: the next process checks a little more, nothing is wrong
        self._kept = head
        if labels is not None:
            self._kept_labels = labels


def _head_unchanged(conn: Connection, head: VerifiedHead) -> bool:
    return head.unchanged(
        event_rows.chain_row(conn, HASHED_FIELDS, head.event_id),
        lambda: event_rows.count_up_to(conn, head.event_id),
    )


class _LabelReads:
    """`audit.label_digest.LabelReads` with SQLAlchemy, in the check's read transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def counts(self, after: int) -> tuple[int, int]:
        return event_rows.label_counts(self._conn, after)

    def digest(self, after: int | None) -> str | None:
        return event_rows.labels_digest(self._conn, after=after)

    def head_unchanged(self, head: VerifiedHead) -> bool:
        return _head_unchanged(self._conn, head)


def _verify_part(url: str, first: int, last: int, prev_hash: str) -> ChainStatus:
    """Events first..last, in a spawned process that opens the project read-only itself."""
    store = Store.open_url(url, read_only=True)
    try:
        with store.read() as conn:
            return verify_range(conn, first=first, last=last, prev_hash=prev_hash)
    finally:
        store.close()


def _label_part(url: str) -> tuple[int, str] | None:
    store = Store.open_url(url, read_only=True)
    try:
        with store.read() as conn, large_cache(conn):
            return record_mismatch(conn)
    finally:
        store.close()
