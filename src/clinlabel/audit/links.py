"""The links of the audit chain checked one after the other, from rows however they were read
(`audit.log.verify_range` reads them with SQLAlchemy; the CSV export of an SQLite project,
`labelling.csv_export`, with the standard library's sqlite3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from clinlabel.audit.chain import HASHED_FIELDS, values_hash
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import REPORT_EVERY, ProgressSink, no_progress

VERIFYING = "Checking the audit trail"


def check_links(
    rows: Iterable[Sequence[Any]],
    *,
    first: int,
    prev_hash: str,
    last: int | None = None,
    progress: ProgressSink = no_progress,
) -> ChainStatus:
    """Verify events first..last (all from `first`), the first linking to `prev_hash`, given
    as `rows` of (HASHED_FIELDS..., hash) in id order."""
    expected_id = first
    count = 0
    id_at, prev_at = HASHED_FIELDS.index("id"), HASHED_FIELDS.index("prev_hash")
    total = None if last is None else last - first + 1
    for row in rows:
        count += 1
        if count % REPORT_EVERY == 0:
            progress(VERIFYING, count, total)
        event_id = int(row[id_at])
        if event_id != expected_id:
            return ChainStatus(
                False,
                count,
                prev_hash,
                expected_id,
                f"event {expected_id} is missing (the next event is {event_id})",
            )
        if row[prev_at] != prev_hash:
            return ChainStatus(
                False,
                count,
                prev_hash,
                event_id,
                "its link to the previous event does not match (an event before it was "
                "changed, inserted or removed)",
            )
        stored = row[-1]
        if values_hash(row[:-1]) != stored:
            return ChainStatus(
                False, count, prev_hash, event_id, "its content does not match its hash"
            )
        prev_hash = str(stored)
        expected_id += 1
    if last is not None and expected_id != last + 1:
        return ChainStatus(False, count, prev_hash, expected_id, f"event {expected_id} is missing")
    return ChainStatus(True, count, prev_hash)
