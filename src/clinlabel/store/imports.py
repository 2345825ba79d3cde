"""The SQL of a labels import: what a chunk of matched rows needs to know, and its writes.

An import writes thousands of labels in one transaction. Through the label use case that was
about ten statements a row (issue 12: 57x to 146x a bare sqlite3 writer). Here a chunk of rows
costs a fixed handful of statements whatever its size: two look-ups by key (`IN` lists on
primary and unique keys), one executemany per kind of write, and the kept counts moved once
per import by the totals of what was added.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from clinlabel.store.driver import insert_chunks
from clinlabel.store.schema import annotator_progress, case_labelled, images, labels
from clinlabel.store.sort_keys import natural_sort_key

_IN = 400  # keys per statement: well under every driver's limit on bound values


def images_in_visits(
    conn: Connection, visits: Collection[tuple[str, str]]
) -> list[tuple[int, str, str, str, str]]:
    """(id, relpath, case, visit, file) of the present images of these (case, visit) pairs.

    Read by the case index (`ix_images_case`: case name, then queue position), the cases' other
    visits left out here: a `(case_name, visit) IN (...)` of pairs made SQLite walk every image
    once per chunk of rows, so an import's matching grew with rows times images.
    """
    wanted = set(visits)
    cases = sorted({case for case, _ in wanted})
    found: list[tuple[int, str, str, str, str]] = []
    for start in range(0, len(cases), _IN):
        query = select(
            images.c.id, images.c.relpath, images.c.case_name, images.c.visit, images.c.file
        ).where(images.c.case_name.in_(cases[start : start + _IN]), images.c.seq.is_not(None))
        found += [
            (int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]))
            for r in conn.execute(query)
            if (r[2], r[3]) in wanted
        ]
    return found


@dataclass(frozen=True, slots=True)
class ImageFacts:
    relpath: str
    case_name: str
    sha256: str | None
    changed: bool
    present: bool


def image_facts(conn: Connection, image_ids: Iterable[int]) -> dict[int, ImageFacts]:
    """What a label write needs of each image (path, case, hash, flags), by id."""
    wanted = sorted(set(image_ids))
    found: dict[int, ImageFacts] = {}
    for start in range(0, len(wanted), _IN):
        query = select(
            images.c.id,
            images.c.relpath,
            images.c.case_name,
            images.c.sha256,
            images.c.changed,
            images.c.present,
        ).where(images.c.id.in_(wanted[start : start + _IN]))
        for r in conn.execute(query):
            found[int(r[0])] = ImageFacts(str(r[1]), str(r[2]), r[3], bool(r[4]), bool(r[5]))
    return found


def current_labels(
    conn: Connection, *, annotator_id: int, image_ids: Iterable[int]
) -> dict[tuple[int, int], tuple[str, str]]:
    """This annotator's current (label, comment) on these images, by (image id, frame): read on
    the labels' unique (image, annotator, frame) key."""
    wanted = sorted(set(image_ids))
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for start in range(0, len(wanted), _IN):
        query = select(labels.c.image_id, labels.c.frame, labels.c.label, labels.c.comment).where(
            labels.c.image_id.in_(wanted[start : start + _IN]),
            labels.c.annotator_id == annotator_id,
        )
        for r in conn.execute(query):
            found[(int(r[0]), int(r[1]))] = (str(r[2]), str(r[3] or ""))
    return found


_LABEL_COLUMNS = (
    "image_id",
    "annotator_id",
    "frame",
    "label",
    "comment",
    "labelled_at",
    "sha256",
    "event_id",
    "geometry",
    "comment_key",
)
# Key parameters are prefixed: SQLAlchemy reserves column names for an UPDATE's SET values.
_UPDATE = update(labels).where(
    labels.c.image_id == bindparam("k_image_id"),
    labels.c.annotator_id == bindparam("k_annotator_id"),
    labels.c.frame == bindparam("k_frame"),
)
_RECORD_HASH = update(images).where(images.c.id == bindparam("b_id"))


def write_labels(
    conn: Connection,
    *,
    inserts: Sequence[Mapping[str, Any]],
    updates: Sequence[Mapping[str, Any]],
    hashes: Sequence[tuple[int, str]],
) -> None:
    """New labels (key, label, comment, labelled_at, sha256, event_id), changed labels (the
    same with the key as `k_` parameters) and the images' recorded hashes: one executemany
    each. A label's geometry is cleared and its comment's sort key set, as `labels.put_label`
    does."""
    if inserts:
        # On the driver's cursor: SQLAlchemy's per-row parameter handling cost more than the
        # insert itself.
        rows = [_with_keys(row) for row in inserts]
        insert_chunks(
            conn, labels, _LABEL_COLUMNS, [[tuple(r[c] for c in _LABEL_COLUMNS) for r in rows]]
        )
    if updates:
        conn.execute(_UPDATE, [_with_keys(row) for row in updates])
    if hashes:
        conn.execute(
            _RECORD_HASH, [{"b_id": i, "sha256": sha, "changed": False} for i, sha in hashes]
        )


def _with_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    comment = row["comment"]
    # The review table sorts comments by this key (store.review, migration 0010); uncached,
    # as in `labels.put_label`: free-text comments are mostly distinct.
    key = natural_sort_key.__wrapped__(comment) if comment else None
    return {**row, "geometry": None, "comment_key": key}


_LABELLED_OF = (
    select(func.count())
    .select_from(labels.join(images, images.c.id == labels.c.image_id))
    .where(labels.c.frame == 0, images.c.present, labels.c.annotator_id == bindparam("p_annotator"))
)
_BUMP = (
    update(annotator_progress)
    .where(annotator_progress.c.annotator_id == bindparam("p_annotator"))
    .values(labelled=annotator_progress.c.labelled + bindparam("p_delta"))
)
_BUMP_CASE = (
    update(case_labelled)
    .where(
        case_labelled.c.annotator_id == bindparam("c_annotator"),
        case_labelled.c.case_name == bindparam("c_case"),
    )
    .values(labelled=case_labelled.c.labelled + bindparam("c_delta"))
)


def add_counts(conn: Connection, *, annotator_id: int, per_case: Mapping[str, int]) -> None:
    """Whole-file labels of present images were added, this many per case: move the kept
    `annotator_progress` and `case_labelled` as a label save does (`store.labels._count`), once
    for the whole import. Rows not kept yet are counted from the labels (already written)."""
    total = sum(per_case.values())
    if not total:
        return
    bumped = conn.execute(_BUMP, {"p_annotator": annotator_id, "p_delta": total}).rowcount
    if not bumped:
        counted = conn.execute(_LABELLED_OF, {"p_annotator": annotator_id}).scalar_one()
        conn.execute(
            annotator_progress.insert(), {"annotator_id": annotator_id, "labelled": int(counted)}
        )
    kept = {
        str(r[0])
        for r in conn.execute(
            select(case_labelled.c.case_name).where(case_labelled.c.annotator_id == annotator_id)
        )
    }
    moved = [
        {"c_annotator": annotator_id, "c_case": case, "c_delta": n}
        for case, n in per_case.items()
        if n and case in kept
    ]
    if moved:
        conn.execute(_BUMP_CASE, moved)
    missing = sorted(case for case, n in per_case.items() if n and case not in kept)
    for start in range(0, len(missing), _IN):
        # Driven by the images of these cases (their case index), each probing the labels'
        # unique key: never a walk over all of the annotator's labels.
        counted_cases = conn.execute(
            select(images.c.case_name, func.count())
            .select_from(images.join(labels, labels.c.image_id == images.c.id))
            .where(
                images.c.case_name.in_(missing[start : start + _IN]),
                images.c.seq.is_not(None),
                labels.c.annotator_id == annotator_id,
                labels.c.frame == 0,
            )
            .group_by(images.c.case_name)
        ).all()
        rows = [
            {"annotator_id": annotator_id, "case_name": str(r[0]), "labelled": int(r[1])}
            for r in counted_cases
        ]
        if rows:
            conn.execute(case_labelled.insert(), rows)
