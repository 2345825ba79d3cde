"""Per-visit totals and per-case labelled counts kept with the data, for the sidebar.

`/api/cases` counted every image of the queue, and this annotator's labels, per case on each
request: 68 ms at 100,000 images, linear (issue 14). Now:
- `queue_visits` holds each visit of the queue (case, visit, first position, images). It only
  changes when the queue does, so every scan rebuilds it (one grouped statement, beside the
  rescan's own set operations); the sidebar reads a few thousand rows, not a million.
- `case_labelled` holds how many present images of each case each annotator labelled (whole
  file), kept in the same transaction as every label change, like `annotator_progress`, and
  recounted with it when a rescan moves images in or out.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.label_counts import recount_label_counts, shift_label_counts
from clinlabel.store.schema import annotator_progress, case_labelled, images, labels, queue_visits
from clinlabel.store.seconds import recount_timed

_VISITS_NOW = (
    select(images.c.case_name, images.c.visit, func.min(images.c.seq), func.count())
    .where(images.c.seq.is_not(None))
    .group_by(images.c.case_name, images.c.visit)
)


def rebuild_visits(conn: Connection) -> None:
    """Make `queue_visits` match the queue (after a scan changed it)."""
    conn.execute(queue_visits.delete())
    conn.execute(
        queue_visits.insert().from_select(["case_name", "visit", "first_seq", "total"], _VISITS_NOW)
    )


_CASE_OF = select(images.c.case_name).where(images.c.id == bindparam("c_image"))
_BUMP = (
    update(case_labelled)
    .where(
        case_labelled.c.annotator_id == bindparam("c_annotator"),
        case_labelled.c.case_name == bindparam("c_case"),
    )
    .values(labelled=case_labelled.c.labelled + bindparam("c_delta"))
)
_LABELLED_NOW = (
    select(labels.c.annotator_id, images.c.case_name, func.count())
    .select_from(labels.join(images, images.c.id == labels.c.image_id))
    .where(labels.c.frame == 0, images.c.seq.is_not(None))
    .group_by(labels.c.annotator_id, images.c.case_name)
)


def bump_case(conn: Connection, *, image_id: int, annotator_id: int, delta: int) -> None:
    """A whole-file label of a present image was added (+1) or removed (-1)."""
    case = conn.execute(_CASE_OF, {"c_image": image_id}).scalar()
    if case is None:
        return
    changed = conn.execute(
        _BUMP, {"c_annotator": annotator_id, "c_case": case, "c_delta": delta}
    ).rowcount
    if not changed:
        # This annotator's first label in the case: counted from the labels themselves, once
        # (the label just written is already among them).
        counted = conn.execute(
            select(func.count())
            .select_from(labels.join(images, images.c.id == labels.c.image_id))
            .where(
                labels.c.annotator_id == annotator_id,
                labels.c.frame == 0,
                images.c.case_name == case,
                images.c.seq.is_not(None),
            )
        ).scalar_one()
        conn.execute(
            case_labelled.insert(),
            {"annotator_id": annotator_id, "case_name": case, "labelled": int(counted)},
        )


def recount_cases(conn: Connection) -> None:
    """Count every annotator's labelled images per case again (after a rescan)."""
    conn.execute(case_labelled.delete())
    conn.execute(
        case_labelled.insert().from_select(["annotator_id", "case_name", "labelled"], _LABELLED_NOW)
    )
    recount_timed(conn)  # and each actor's timed images per case (store.seconds), the same way
    recount_label_counts(conn)  # and per case and label (store.label_counts)


_CASES = (
    select(
        queue_visits.c.case_name,
        func.sum(queue_visits.c.total),
        func.min(queue_visits.c.first_seq),
    )
    .group_by(queue_visits.c.case_name)
    .order_by(func.min(queue_visits.c.first_seq))
)
_LABELLED = select(case_labelled.c.case_name, case_labelled.c.labelled).where(
    case_labelled.c.annotator_id == bindparam("c_annotator")
)
_VISITS = select(
    queue_visits.c.case_name, queue_visits.c.visit, queue_visits.c.first_seq, queue_visits.c.total
).order_by(queue_visits.c.first_seq)


def case_totals(conn: Connection, *, annotator_id: int | None) -> list[tuple[str, int, int, int]]:
    """(case, images, labelled by this annotator, first position) in queue order: reads the
    kept tables only (a row per visit and per case), whatever the number of images."""
    labelled: dict[str, int] = {}
    if annotator_id is not None:
        labelled = {
            str(r[0]): int(r[1]) for r in conn.execute(_LABELLED, {"c_annotator": annotator_id})
        }
    return [
        (str(r[0]), int(r[1]), labelled.get(str(r[0]), 0), int(r[2])) for r in conn.execute(_CASES)
    ]


def visit_totals(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(case, visit, first position, images) of every visit of the queue, in queue order."""
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in conn.execute(_VISITS)]


def replace_visits(conn: Connection, visits: list[tuple[str, str, int, int]]) -> None:
    """Set `queue_visits` to these (case, visit, first position, images) rows, computed by the
    caller from the new scan beforehand (a row per visit: a short write)."""
    conn.execute(queue_visits.delete())
    if visits:
        conn.execute(
            queue_visits.insert(),
            [{"case_name": c, "visit": v, "first_seq": f, "total": n} for c, v, f, n in visits],
        )


_IN = 500  # ids per statement: under every driver's limit on bound values


def shift_counts(conn: Connection, image_ids: list[int], *, delta: int) -> None:
    """These images leave (-1) or rejoin (+1) the queue: their whole-file labels stop or start
    counting in `annotator_progress` and `case_labelled`. Rows not kept yet stay absent: they
    are counted from the labels when first needed."""
    per_annotator: dict[int, int] = {}
    per_case: dict[tuple[int, str], int] = {}
    for start in range(0, len(image_ids), _IN):
        chunk = image_ids[start : start + _IN]
        for annotator_id, case, count in conn.execute(
            select(labels.c.annotator_id, images.c.case_name, func.count())
            .select_from(labels.join(images, images.c.id == labels.c.image_id))
            .where(labels.c.image_id.in_(chunk), labels.c.frame == 0)
            .group_by(labels.c.annotator_id, images.c.case_name)
        ):
            per_annotator[annotator_id] = per_annotator.get(annotator_id, 0) + int(count)
            per_case[(annotator_id, case)] = per_case.get((annotator_id, case), 0) + int(count)
    for annotator_id, count in per_annotator.items():
        conn.execute(
            update(annotator_progress)
            .where(annotator_progress.c.annotator_id == annotator_id)
            .values(labelled=annotator_progress.c.labelled + delta * count)
        )
    for (annotator_id, case), count in per_case.items():
        conn.execute(_BUMP, {"c_annotator": annotator_id, "c_case": case, "c_delta": delta * count})
    shift_label_counts(conn, image_ids, delta=delta)  # and per case and label, the same way
