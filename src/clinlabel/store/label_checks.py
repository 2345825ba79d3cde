"""What the checks of the current labels against the trail say, shared by the two ways they
run: SQLAlchemy's (`store.events.first_label_mismatch`) and the standard library's for an
SQLite project's CSV export (`store.csv_export`), which runs the same queries as text."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

NAMED_LABEL_MISMATCH = (
    "a current label, or the image row it belongs to, differs from the event it names "
    "(image path, case, visit, file, label, comment, annotator, frame, time or SHA-256)"
)
STALE_LABEL_MISMATCH = "the current labels do not match the newest label event here"
DIGEST_SEPARATOR = "\n"
"""Between two labels' texts (SQLite's JSON arrays escape a new line inside a value, so the
texts cannot run into each other)."""
DIGEST_RANGE = 16_384
"""Label ids read as one text by `store.events.label_digest_query` (a few MB: a million labels
never sit in memory as one text)."""


FIRST_ID = -(2**63)
LAST_ID = 2**63 - 1
"""SQLite's rowids: a label's id can be any of them (sqlite3 sets it to what it is told)."""


def label_id_ranges(next_id: Callable[[int], int | None]) -> Iterator[tuple[int, int]]:
    """The (first, last) ids, both included, of the ranges `store.events.label_digest_query`
    reads, each starting at an id that is there (`next_id(start)`: the smallest label id from
    `start` on, None: none). Every label is in one, whatever its id: ranges counted up from 0
    left out a label given a negative id (a forged label no check compared) and read 2**48
    empty ranges before one moved to a huge id (an export that never finished)."""
    start = FIRST_ID
    while (first := next_id(start)) is not None:
        last = min(first + DIGEST_RANGE - 1, LAST_ID)
        yield first, last
        if last == LAST_ID:
            return
        start = last + 1


def texts_digest(parts: Iterable[str | None]) -> str:
    """The SHA-256 of the labels' texts, range after range (`store.events.label_digest_query`'s
    one value for each), with a new line between; a range without a label is left out."""
    digest = hashlib.sha256()
    first = True
    for part in parts:
        if part is None:
            continue
        if not first:
            digest.update(DIGEST_SEPARATOR.encode())
        digest.update(part.encode("utf-8", "surrogatepass"))
        first = False
    return digest.hexdigest()


def queue_mismatch(scan_id: int, scanned: int, present: int, last: int) -> tuple[int, str] | None:
    """The queue's break, if the newest scan event `scan_id` left `scanned` images in it."""
    if present != scanned or last != scanned:
        return scan_id, (
            f"the queue holds {present} images (last position {last}), but the last "
            f"scan left {scanned}"
        )
    return None
