"""Each annotator's present images per case and whole-file label, kept for the review's jumps.

A jump deep into the review table without a cursor (a scroll-bar drag, "go to row") walked the
queue to its offset, probing each image's label: hundreds of ms at a million images into one
label's images (the label order, the label filter by position), into the images without a
comment (the comment order) or without time (the seconds order with the unlabelled filter).
`case_label_counts` (annotator, case, label: labelled, commented, timed; migration 0013) says how
many present images of each case have the label, how many of those carry a comment and how many
have the annotator's kept active time (`image_seconds`): `store.review` adds a row per case up to
find the case that holds the row, then reads inside that case only.

Kept in the transaction of every change that moves them, like `case_labelled`:
- a whole-file label added, changed or removed (`move_label`, from `store.labels`);
- an image's first kept time (`time_label`, from `store.seconds`);
- images leaving or rejoining the queue in a rescan (`shift_label_counts`);
- bulk writes that bypass those (an import: `recount_label_cases`; a full rescan or a
  rebuild of the kept times: `recount_label_counts`).
A row is absent only when its counts are 0: every path that adds one writes the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from clinlabel.store.schema import annotators, case_label_counts, image_seconds, images, labels

LabelState = tuple[str, bool, bool]
"""A whole-file label as the kept counts see it: its value, whether it has a comment, whether
the image has its annotator's kept time."""

_IN = 500  # ids per statement: under every driver's limit on bound values

_NAME_OF = select(annotators.c.name).where(annotators.c.id == labels.c.annotator_id)
# The label's own annotator, correlated explicitly: inside an EXISTS it would otherwise read
# every label (PostgreSQL refuses the many rows; SQLite would take the first).
_TIMED = and_(
    image_seconds.c.image_id == labels.c.image_id,
    image_seconds.c.actor == _NAME_OF.correlate(labels).scalar_subquery(),
)
_PER_LABEL = (
    select(
        labels.c.annotator_id,
        images.c.case_name,
        labels.c.label,
        func.count(),
        func.count(labels.c.comment_key),
        func.count(image_seconds.c.image_id),
    )
    .select_from(
        labels.join(images, images.c.id == labels.c.image_id).outerjoin(image_seconds, _TIMED)
    )
    .where(labels.c.frame == 0)
    .group_by(labels.c.annotator_id, images.c.case_name, labels.c.label)
)
_PER_LABEL_NOW = _PER_LABEL.where(images.c.seq.is_not(None))


_COLUMNS = ["annotator_id", "case_name", "label", "labelled", "commented", "timed"]
_PRESENT_CASE = select(images.c.case_name).where(
    images.c.id == bindparam("m_image"), images.c.seq.is_not(None)
)
_BUMP = (
    update(case_label_counts)
    .where(
        case_label_counts.c.annotator_id == bindparam("m_annotator"),
        case_label_counts.c.case_name == bindparam("m_case"),
        case_label_counts.c.label == bindparam("m_label"),
    )
    .values(
        labelled=case_label_counts.c.labelled + bindparam("m_labelled"),
        commented=case_label_counts.c.commented + bindparam("m_commented"),
        timed=case_label_counts.c.timed + bindparam("m_timed"),
    )
)


# A new label of a present image whose row exists, in one statement (the case and the time
# probed inside it): the common save adds a label to a case already counted.
_ADD = (
    update(case_label_counts)
    .where(
        case_label_counts.c.annotator_id == bindparam("a_annotator"),
        case_label_counts.c.label == bindparam("a_label"),
        case_label_counts.c.case_name
        == select(images.c.case_name)
        .where(images.c.id == bindparam("a_image"), images.c.seq.is_not(None))
        .scalar_subquery(),
    )
    .values(
        labelled=case_label_counts.c.labelled + 1,
        commented=case_label_counts.c.commented + bindparam("a_commented"),
        timed=case_label_counts.c.timed
        + sql_case(
            (
                select(image_seconds.c.image_id)
                .where(
                    image_seconds.c.image_id == bindparam("a_image"),
                    image_seconds.c.actor
                    == select(annotators.c.name)
                    .where(annotators.c.id == bindparam("a_annotator"))
                    .scalar_subquery(),
                )
                .exists(),
                1,
            ),
            else_=0,
        ),
    )
)


def add_label(
    conn: Connection, *, image_id: int, annotator_id: int, label: str, commented: bool
) -> None:
    """This annotator's new whole-file label of the image is written: counted (one statement
    when the case and label already have a row, as on most saves)."""
    values = {
        "a_annotator": annotator_id,
        "a_label": label,
        "a_image": image_id,
        "a_commented": int(commented),
    }
    if conn.execute(_ADD, values).rowcount:
        return
    # A gone image (nothing to count) or the case's first label of the kind: the long way.
    new = label_state(conn, image_id=image_id, annotator_id=annotator_id)
    move_label(conn, image_id=image_id, annotator_id=annotator_id, old=None, new=new)


def label_state(conn: Connection, *, image_id: int, annotator_id: int) -> LabelState | None:
    """The annotator's whole-file label of the image as the kept counts see it, or None."""
    found = conn.execute(
        select(
            labels.c.label,
            labels.c.comment_key.is_not(None),
            select(image_seconds.c.image_id).where(_TIMED).correlate(labels).exists(),
        ).where(
            labels.c.image_id == image_id,
            labels.c.annotator_id == annotator_id,
            labels.c.frame == 0,
        )
    ).first()
    return None if found is None else (str(found[0]), bool(found[1]), bool(found[2]))


def move_label(
    conn: Connection,
    *,
    image_id: int,
    annotator_id: int,
    old: LabelState | None,
    new: LabelState | None,
) -> None:
    """This annotator's whole-file label of the image went from `old` to `new` (None: none), and
    is already written: the counts follow if the image is in the queue."""
    if old == new:
        return
    case = conn.execute(_PRESENT_CASE, {"m_image": image_id}).scalar()
    if case is None:
        return  # a gone image's label is not counted (a rescan counts it when it returns)
    changes: dict[str, list[int]] = {}
    for state, sign in ((old, -1), (new, 1)):
        if state is not None:
            change = changes.setdefault(state[0], [0, 0, 0])
            change[0] += sign
            change[1] += sign * int(state[1])
            change[2] += sign * int(state[2])
    for label, change in changes.items():
        if any(change):
            _bump(conn, annotator_id, str(case), label, change)


def time_label(conn: Connection, *, actor: str, image_id: int) -> None:
    """The image got its first kept time of `actor`: if the annotator of that name has a
    whole-file label on it (and it is in the queue), that label's timed count is one more."""
    found = conn.execute(
        select(labels.c.annotator_id, labels.c.label, images.c.case_name)
        .select_from(
            labels.join(images, images.c.id == labels.c.image_id).join(
                annotators, annotators.c.id == labels.c.annotator_id
            )
        )
        .where(
            labels.c.image_id == image_id,
            labels.c.frame == 0,
            annotators.c.name == actor,
            images.c.seq.is_not(None),
        )
    ).first()
    if found is not None:
        _bump(conn, int(found[0]), str(found[2]), str(found[1]), [0, 0, 1])


def _in_cases(cases: list[str]) -> ColumnElement[bool]:
    """Labels of these cases' present images, for counting a few cases' labels: driven by the
    cases' images (their index), each label probed by its unique key. On `annotator_id` (and
    the label) the plan walked every such label of the annotator, and a project's first label
    of a kind in a case took 140 ms at a million images (an import's chunks grew with their
    square)."""
    return labels.c.image_id.in_(
        select(images.c.id).where(images.c.case_name.in_(cases), images.c.seq.is_not(None))
    )


def _moved(conn: Connection, annotator_id: int, case: str, label: str, change: list[int]) -> bool:
    """Move the row of (annotator, case, label) by `change`; False when there is no row."""
    values = {
        "m_annotator": annotator_id,
        "m_case": case,
        "m_label": label,
        "m_labelled": change[0],
        "m_commented": change[1],
        "m_timed": change[2],
    }
    return bool(conn.execute(_BUMP, values).rowcount)


def _bump(conn: Connection, annotator_id: int, case: str, label: str, change: list[int]) -> None:
    if _moved(conn, annotator_id, case, label, change):
        return
    # No row yet (all 0 before): counted from the labels, which already hold the change.
    # The case's labels of every kind are counted and this label's row kept: with the label in
    # the WHERE clause, SQLite preferred the (annotator, frame, label) index, every label of
    # the kind in the project.
    found = next(
        (
            row
            for row in conn.execute(
                _PER_LABEL_NOW.where(labels.c.annotator_id == annotator_id, _in_cases([case]))
            )
            if row[2] == label
        ),
        None,
    )
    if found is not None:
        conn.execute(case_label_counts.insert(), dict(zip(_COLUMNS, found, strict=True)))


def shift_label_counts(conn: Connection, image_ids: list[int], *, delta: int) -> None:
    """These images leave (-1) or rejoin (+1) the queue: their whole-file labels stop or start
    counting."""
    per_label: dict[tuple[int, str, str], list[int]] = {}
    for start in range(0, len(image_ids), _IN):
        chunk = image_ids[start : start + _IN]
        for annotator_id, case, label, count, commented, timed in conn.execute(
            _PER_LABEL.where(labels.c.image_id.in_(chunk))
        ):
            kept = per_label.setdefault((int(annotator_id), str(case), str(label)), [0, 0, 0])
            kept[0] += delta * int(count)
            kept[1] += delta * int(commented)
            kept[2] += delta * int(timed)
    for (annotator_id, case, label), change in per_label.items():
        _bump_only(conn, annotator_id, case, label, change)


def _bump_only(
    conn: Connection, annotator_id: int, case: str, label: str, change: list[int]
) -> None:
    """Move a row by `change`; an absent row is all 0, so it is written as the change itself."""
    if not _moved(conn, annotator_id, case, label, change) and change[0] > 0:
        conn.execute(
            case_label_counts.insert(),
            dict(zip(_COLUMNS, (annotator_id, case, label, *change), strict=True)),
        )


def recount_label_cases(conn: Connection, *, annotator_id: int, cases: Iterable[str]) -> None:
    """Count this annotator's rows again in these cases, after a bulk write of whole-file labels
    that bypassed `move_label` (an import, once at its end: a case whose rows fell in several
    of its chunks is counted once)."""
    ordered = sorted(cases)
    for start in range(0, len(ordered), _IN):
        chunk_cases = ordered[start : start + _IN]
        conn.execute(
            case_label_counts.delete().where(
                case_label_counts.c.annotator_id == annotator_id,
                case_label_counts.c.case_name.in_(chunk_cases),
            )
        )
        conn.execute(
            case_label_counts.insert().from_select(
                _COLUMNS,
                _PER_LABEL_NOW.where(
                    labels.c.annotator_id == annotator_id,
                    _in_cases(chunk_cases),
                ),
            )
        )


def count_first_labels(
    conn: Connection,
    *,
    annotator_id: int,
    actor: str,
    added: Mapping[tuple[str, str], tuple[int, int]],
) -> bool:
    """The annotator had no label and these whole-file labels of present images were written in
    bulk (an import): (case, label) -> (labelled, commented). Their rows are written from those
    figures, with no count over the labels just written (0.18 s of a 100,000-row import's
    4 s went to that count). Only while the annotator has no kept time on any image
    (`image_seconds`): its timed counts would need every label's image probed, so then nothing
    is written and False says to `recount_label_cases`."""
    timed = conn.execute(
        select(image_seconds.c.image_id).where(image_seconds.c.actor == actor).limit(1)
    ).first()
    if timed is not None:
        return False
    # Rows left at 0 by labels cleared before (a row is absent only when its counts are 0,
    # not always the other way round): with no label, every count of the annotator is 0.
    conn.execute(case_label_counts.delete().where(case_label_counts.c.annotator_id == annotator_id))
    rows = [
        dict(zip(_COLUMNS, (annotator_id, case, label, labelled, commented, 0), strict=True))
        for (case, label), (labelled, commented) in sorted(added.items())
        if labelled
    ]
    if rows:
        conn.execute(case_label_counts.insert(), rows)
    return True


def recount_label_counts(conn: Connection) -> None:
    """Count every row again (after a full rescan, or a rebuild of the kept times)."""
    conn.execute(case_label_counts.delete())
    conn.execute(case_label_counts.insert().from_select(_COLUMNS, _PER_LABEL_NOW))
