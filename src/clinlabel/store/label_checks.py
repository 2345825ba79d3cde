"""What the checks of the current labels against the trail say, shared by the two ways they
run: SQLAlchemy's (`store.events.first_label_mismatch`) and the standard library's for an
SQLite project's CSV export (`store.csv_export`), which runs the same queries as text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

NAMED_LABEL_MISMATCH = (
    "a current label, or the image row it belongs to, differs from the event it names "
    "(image path, case, visit, file, label, comment, annotator, frame, time or SHA-256)"
)
STALE_LABEL_MISMATCH = "the current labels do not match the newest label event here"
_DIGEST_SEPARATOR = b"\n"
"""Between two labels' texts (SQLite's JSON arrays escape a new line inside a value, so the
texts cannot run into each other)."""


def texts_digest(batches: Iterable[Sequence[tuple[str | None]]]) -> str:
    """The SHA-256 of the labels' texts (`store.events.label_digest_query`'s rows, in order,
    read in batches so that a million labels never sit in memory as one text), one after the
    other with a new line between; a row without a text (NULL) is left out."""
    digest = hashlib.sha256()
    first = True
    for batch in batches:
        texts = [text for (text,) in batch if text is not None]
        if not texts:
            continue
        if not first:
            digest.update(_DIGEST_SEPARATOR)
        digest.update("\n".join(texts).encode("utf-8", "surrogatepass"))
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
