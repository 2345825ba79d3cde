"""What the last scan recorded, read back in the form a new scan produces, for comparing."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from clinlabel.store.images import ScanRow
from clinlabel.store.schema import images

_PRESENT_ROWS = (
    select(
        images.c.seq,
        images.c.relpath,
        images.c.case_name,
        images.c.visit,
        images.c.folder,
        images.c.file,
        images.c.kind,
        images.c.size,
        images.c.mtime_ns,
        images.c.case_key,
        images.c.visit_key,
        images.c.file_key,
    )
    .where(images.c.seq.is_not(None))
    .order_by(images.c.seq)
)


def recorded_scan_rows(conn: Connection) -> Iterator[ScanRow]:
    """The present images as `ScanRow`s in queue order: equal to a new scan's rows, row for
    row, exactly when nothing in the batch changed (files, sizes, times, order)."""
    for row in conn.execute(_PRESENT_ROWS):
        # The natural-order keys are stored bytes (a driver may hand back a memoryview).
        yield (int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]),
               str(row[6]), int(row[7]), int(row[8]), bytes(row[9]), bytes(row[10]),
               bytes(row[11]))  # fmt: skip
