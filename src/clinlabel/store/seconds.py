"""Each annotator's active time per image, kept with the events that record it.

The review table sorts by the time an annotator spent on each image: the sum of `active_ms`
over their events on it. Summed per window, that was an aggregate over the events of every
image of the queue, ordered in SQL (1.1 s at 100,000 images; issue 14). The sum is now kept in
`image_seconds` (actor, image, ms), added to in the same transaction as every event that carries
active time (`store.events`), and indexed (actor, ms, image): the seconds order is a range of
that index. Events are append-only, so the kept sum only ever grows; `recount_seconds` rebuilds
it from the trail (migration 0012, and writers that bypass `store.events`, such as benchmarks).

`case_timed` (actor, case, timed) counts the present images of each case with a kept time, kept
here when an image first gets one and moved by the rescans with the queue (`shift_timed`,
`recount_timed`), as `case_labelled` is for labels: the seconds order's images without time
are found by case (`store.review`), not by walking the queue past the timed ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.label_counts import recount_label_counts, time_label
from clinlabel.store.schema import case_timed, events, image_seconds, images

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
            _bump_case(conn, actor, image_id)
            time_label(conn, actor=actor, image_id=image_id)  # the review's kept counts


_CASE_IF_PRESENT = select(images.c.case_name).where(
    images.c.id == bindparam("t_image"), images.c.seq.is_not(None)
)
_BUMP = (
    update(case_timed)
    .where(
        case_timed.c.actor == bindparam("t_actor"), case_timed.c.case_name == bindparam("t_case")
    )
    .values(timed=case_timed.c.timed + bindparam("t_delta"))
)
_TIMED_NOW = (
    select(image_seconds.c.actor, images.c.case_name, func.count())
    .select_from(image_seconds.join(images, images.c.id == image_seconds.c.image_id))
    .where(images.c.seq.is_not(None))
    .group_by(image_seconds.c.actor, images.c.case_name)
)


def _bump_case(conn: Connection, actor: str, image_id: int) -> None:
    """The image (if in the queue) has its first kept time for `actor`: its case counts one more."""
    case = conn.execute(_CASE_IF_PRESENT, {"t_image": image_id}).scalar()
    if case is None:
        return
    if conn.execute(_BUMP, {"t_actor": actor, "t_case": case, "t_delta": 1}).rowcount:
        return
    # The actor's first timed image in the case: counted from the kept times, once (the row
    # just written among them).
    counted = conn.execute(
        select(func.count())
        .select_from(image_seconds.join(images, images.c.id == image_seconds.c.image_id))
        .where(
            image_seconds.c.actor == actor,
            images.c.case_name == case,
            images.c.seq.is_not(None),
        )
    ).scalar_one()
    conn.execute(case_timed.insert(), {"actor": actor, "case_name": case, "timed": int(counted)})


_IN = 500  # ids per statement: under every driver's limit on bound values


def shift_timed(conn: Connection, image_ids: list[int], *, delta: int) -> None:
    """These images leave (-1) or rejoin (+1) the queue (a rescan): their kept times stop or
    start counting in `case_timed`. Rows not kept yet stay absent (counted when first needed)."""
    per_case: dict[tuple[str, str], int] = {}
    for start in range(0, len(image_ids), _IN):
        chunk = image_ids[start : start + _IN]
        for actor, case, count in conn.execute(
            select(image_seconds.c.actor, images.c.case_name, func.count())
            .select_from(image_seconds.join(images, images.c.id == image_seconds.c.image_id))
            .where(image_seconds.c.image_id.in_(chunk))
            .group_by(image_seconds.c.actor, images.c.case_name)
        ):
            key = (str(actor), str(case))
            per_case[key] = per_case.get(key, 0) + int(count)
    for (actor, case), count in per_case.items():
        conn.execute(_BUMP, {"t_actor": actor, "t_case": case, "t_delta": delta * count})


def recount_timed(conn: Connection) -> None:
    """Count every actor's timed present images per case again (after a full scan)."""
    conn.execute(case_timed.delete())
    conn.execute(case_timed.insert().from_select(["actor", "case_name", "timed"], _TIMED_NOW))


def recount_seconds(conn: Connection) -> None:
    """Sum every (actor, image) active time from the events again."""
    conn.execute(image_seconds.delete())
    conn.execute(image_seconds.insert().from_select(["actor", "image_id", "active_ms"], _SUMS))
    recount_timed(conn)
    recount_label_counts(conn)  # their timed images per case and label (store.label_counts)
