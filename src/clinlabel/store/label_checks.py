"""What the checks of the current labels against the trail say, shared by the two ways they
run: SQLAlchemy's (`store.events.first_label_mismatch`) and the standard library's for an
SQLite project's CSV export (`store.csv_export`), which runs the same queries as text."""

from __future__ import annotations

NAMED_LABEL_MISMATCH = (
    "a current label, or the image row it belongs to, differs from the event it names "
    "(image path, case, visit, file, label, comment, annotator, frame, time or SHA-256)"
)
STALE_LABEL_MISMATCH = "the current labels do not match the newest label event here"
DIGEST_SEPARATOR = "\n"
"""Between two labels' texts in `store.events.label_digest_query`'s one value (SQLite's JSON
arrays escape a new line inside a value, so the texts cannot run into each other)."""


def queue_mismatch(scan_id: int, scanned: int, present: int, last: int) -> tuple[int, str] | None:
    """The queue's break, if the newest scan event `scan_id` left `scanned` images in it."""
    if present != scanned or last != scanned:
        return scan_id, (
            f"the queue holds {present} images (last position {last}), but the last "
            f"scan left {scanned}"
        )
    return None
