"""Current labels: one row per (image, annotator, frame), kept in step with the events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.engine import Connection

from clinlabel.domain.views import FrameLabel
from clinlabel.store.case_counts import bump_case, recount_cases
from clinlabel.store.label_counts import LabelState, add_label, label_state, move_label
from clinlabel.store.schema import annotator_progress, images, labels
from clinlabel.store.sort_keys import natural_sort_key


@dataclass(frozen=True, slots=True)
class CurrentLabel:
    label: str
    comment: str
    labelled_at: str
    sha256: str | None = None
    #: JSON: the labelled frame's acquisition geometry (kept so an undo can restore it).
    geometry: str | None = None
    #: The event that set it: the label's version, for a change based on it (`If-Match`).
    event_id: int = 0


# Key parameters are prefixed: SQLAlchemy reserves column names for an UPDATE's SET values.
_KEY = and_(
    labels.c.image_id == bindparam("k_image_id"),
    labels.c.annotator_id == bindparam("k_annotator_id"),
    labels.c.frame == bindparam("k_frame"),
)
_CURRENT = select(
    labels.c.label,
    labels.c.comment,
    labels.c.labelled_at,
    labels.c.sha256,
    labels.c.geometry,
    labels.c.event_id,
).where(_KEY)
# The SET columns are the non-key parameter names given at execution.
_UPDATE = update(labels).where(_KEY)
_NAME_KEYS = ("case_key", "visit_key", "file_key")
# A new label copies its image's name keys (the review's label-filtered name orders, migration
# 0014) in the same statement: one primary-key probe of `images` each, no round trip.
_INSERT = labels.insert().values(
    {
        name: select(images.c[name]).where(images.c.id == bindparam("s_image")).scalar_subquery()
        for name in _NAME_KEYS
    }
)
_DELETE = delete(labels).where(_KEY)


def current_label(
    conn: Connection, *, image_id: int, annotator_id: int, frame: int
) -> CurrentLabel | None:
    row = conn.execute(_CURRENT, _key(image_id, annotator_id, frame)).first()
    return None if row is None else CurrentLabel(row[0], row[1], row[2], row[3], row[4], row[5])


def put_label(
    conn: Connection,
    *,
    image_id: int,
    annotator_id: int,
    frame: int,
    label: str,
    comment: str,
    labelled_at: str,
    sha256: str | None,
    event_id: int,
    exists: bool,
    geometry: str | None = None,
) -> None:
    """Set the current label; `exists` says whether the caller found one (saves a statement)."""
    values = {
        "label": label,
        "comment": comment,
        "labelled_at": labelled_at,
        "sha256": sha256,
        "event_id": event_id,
        "geometry": geometry,
        # The review table sorts comments by this key (store.review, migration 0010).
        # Uncached: free-text comments are mostly distinct (the cache is for names).
        "comment_key": natural_sort_key.__wrapped__(comment) if comment else None,
    }
    if exists:
        old = _state(conn, image_id, annotator_id) if frame == 0 else None
        conn.execute(_UPDATE, {**_key(image_id, annotator_id, frame), **values})
        if old is not None:
            # The kept counts per case and label (the review's jumps) follow a changed label.
            new = (label, bool(comment), old[2])  # the same image and annotator: same time
            move_label(conn, image_id=image_id, annotator_id=annotator_id, old=old, new=new)
    else:
        conn.execute(
            _INSERT,
            {
                "image_id": image_id,
                "annotator_id": annotator_id,
                "frame": frame,
                "s_image": image_id,
                **values,
            },
        )
        if frame == 0:
            _count(conn, image_id=image_id, annotator_id=annotator_id, delta=1)
            add_label(
                conn,
                image_id=image_id,
                annotator_id=annotator_id,
                label=label,
                commented=bool(comment),
            )


def remove_label(conn: Connection, *, image_id: int, annotator_id: int, frame: int) -> None:
    old = _state(conn, image_id, annotator_id) if frame == 0 else None
    removed = conn.execute(_DELETE, _key(image_id, annotator_id, frame)).rowcount
    if removed and frame == 0:
        _count(conn, image_id=image_id, annotator_id=annotator_id, delta=-1)
        move_label(conn, image_id=image_id, annotator_id=annotator_id, old=old, new=None)


def _state(conn: Connection, image_id: int, annotator_id: int) -> LabelState | None:
    return label_state(conn, image_id=image_id, annotator_id=annotator_id)


_IS_PRESENT = select(images.c.present).where(images.c.id == bindparam("p_image"))
_BUMP = (
    update(annotator_progress)
    .where(annotator_progress.c.annotator_id == bindparam("p_annotator"))
    .values(labelled=annotator_progress.c.labelled + bindparam("p_delta"))
)
_LABELLED_NOW = (
    select(labels.c.annotator_id, func.count())
    .select_from(labels.join(images, images.c.id == labels.c.image_id))
    .where(labels.c.frame == 0, images.c.present)
    .group_by(labels.c.annotator_id)
)


def _count(conn: Connection, *, image_id: int, annotator_id: int, delta: int) -> None:
    """Keep `annotator_progress` in step with a whole-file label added or removed."""
    if not conn.execute(_IS_PRESENT, {"p_image": image_id}).scalar():
        return  # a gone image's label is not counted (a rescan recounts when it returns)
    bump_case(conn, image_id=image_id, annotator_id=annotator_id, delta=delta)
    bumped = conn.execute(_BUMP, {"p_annotator": annotator_id, "p_delta": delta}).rowcount
    if not bumped:  # this annotator's first label: count it, and all they had, once
        found = conn.execute(_LABELLED_NOW.where(labels.c.annotator_id == annotator_id)).first()
        conn.execute(
            annotator_progress.insert(),
            {"annotator_id": annotator_id, "labelled": 0 if found is None else int(found[1])},
        )


def recount_progress(conn: Connection) -> None:
    """Count every annotator's labelled images again (after a rescan moved images in or out)."""
    conn.execute(annotator_progress.delete())
    rows = [{"annotator_id": int(r[0]), "labelled": int(r[1])} for r in conn.execute(_LABELLED_NOW)]
    if rows:
        conn.execute(annotator_progress.insert(), rows)
    recount_cases(conn)


_PROGRESS = select(annotator_progress.c.labelled).where(
    annotator_progress.c.annotator_id == bindparam("p_annotator")
)


def labelled_count(conn: Connection, *, annotator_id: int) -> int:
    """Present images with a whole-file label of this annotator: one look-up."""
    found = conn.execute(_PROGRESS, {"p_annotator": annotator_id}).scalar()
    return 0 if found is None else int(found)


def _key(image_id: int, annotator_id: int, frame: int) -> dict[str, object]:
    return {"k_image_id": image_id, "k_annotator_id": annotator_id, "k_frame": frame}


_FRAME_LABELS = (
    select(
        labels.c.frame, labels.c.label, labels.c.comment, labels.c.labelled_at, labels.c.event_id
    )
    .where(
        labels.c.image_id == bindparam("k_image_id"),
        labels.c.annotator_id == bindparam("k_annotator_id"),
        labels.c.frame > 0,
    )
    .order_by(labels.c.frame)
)


def frame_labels(conn: Connection, *, image_id: int, annotator_id: int) -> list[FrameLabel]:
    params = {"k_image_id": image_id, "k_annotator_id": annotator_id}
    return [
        FrameLabel(int(r[0]), r[1], r[2] or "", r[3], int(r[4]))
        for r in conn.execute(_FRAME_LABELS, params)
    ]


def frame_labels_of(
    conn: Connection, *, image_ids: list[int], annotator_id: int | None
) -> dict[int, tuple[FrameLabel, ...]]:
    """This annotator's frame labels of each of `image_ids` (one query), by image id."""
    if annotator_id is None or not image_ids:
        return {}
    found: dict[int, list[FrameLabel]] = {}
    query = (
        select(
            labels.c.image_id,
            labels.c.frame,
            labels.c.label,
            labels.c.comment,
            labels.c.labelled_at,
            labels.c.event_id,
        )
        .where(
            labels.c.image_id.in_(image_ids),
            labels.c.annotator_id == annotator_id,
            labels.c.frame > 0,
        )
        .order_by(labels.c.image_id, labels.c.frame)
    )
    for r in conn.execute(query):
        found.setdefault(int(r[0]), []).append(
            FrameLabel(int(r[1]), r[2], r[3] or "", r[4], int(r[5]))
        )
    return {image_id: tuple(rows) for image_id, rows in found.items()}
