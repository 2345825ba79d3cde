"""Each annotator's active time per image, kept with the events that record it.

The review table sorts by the time an annotator spent on each image: the sum of `active_ms`
over their events on it. Summed per window, that was an aggregate over the events of every
image of the queue, ordered in SQL (1.1 s at 100,000 images; issue 14). The sum is now kept in
`image_seconds` (actor, image, ms), added to in the same transaction as every event that carries
active time (`store.events`), and indexed (actor, ms, image): the seconds order is a range of
that index. Events are append-only, so the kept sum only ever grows; `recount_seconds` rebuilds
it from the trail (migration 0012, and writers that bypass `store.events`, such as benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.schema import events, image_seconds

_ADD = (
    update(image_seconds)
    .where(
        image_seconds.c.actor == bindparam("s_actor"),
        image_seconds.c.image_id == bindparam("s_image"),
    )
    .values(active_ms=image_seconds.c.active_ms + bindparam("s_ms"))
)
_INSERT = image_seconds.insert()

_SUMS = (
    select(events.c.actor, events.c.image_id, func.sum(events.c.active_ms))
    .where(events.c.image_id.is_not(None), events.c.active_ms.is_not(None))
    .group_by(events.c.actor, events.c.image_id)
)


def add_event_time(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add the active time of these new event rows to their (actor, image) sums.

    Rows without an image or without active time change nothing (most events of a bulk import):
    they cost a dictionary look-up, not a statement.
    """
    sums: dict[tuple[str, int], int] = {}
    for row in rows:
        image_id, active_ms = row.get("image_id"), row.get("active_ms")
        if image_id is None or active_ms is None:
            continue
        key = (str(row["actor"]), int(image_id))
        sums[key] = sums.get(key, 0) + int(active_ms)
    for (actor, image_id), ms in sums.items():
        added = conn.execute(_ADD, {"s_actor": actor, "s_image": image_id, "s_ms": ms}).rowcount
        if not added:
            conn.execute(_INSERT, {"actor": actor, "image_id": image_id, "active_ms": ms})


def recount_seconds(conn: Connection) -> None:
    """Sum every (actor, image) active time from the events again."""
    conn.execute(image_seconds.delete())
    conn.execute(image_seconds.insert().from_select(["actor", "image_id", "active_ms"], _SUMS))
