"""The SQL of a labels import: what a chunk of matched rows needs to know, and its writes.

An import writes thousands of labels in one transaction. Through the label use case that was
about ten statements a row (issue 12: 57x to 146x a bare sqlite3 writer). Here a chunk of rows
costs a fixed handful of statements whatever its size: two look-ups by key (`IN` lists on
primary and unique keys), one executemany per kind of write, and the kept counts moved once
per import by the totals of what was added.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import DropIndex

from clinlabel.store.driver import insert_chunks
from clinlabel.store.schema import annotator_progress, case_labelled, images, labels
from clinlabel.store.sort_keys import natural_sort_key

_IN = 400  # keys per statement: well under every driver's limit on bound values
_NAME_KEYS = ("case_key", "visit_key", "file_key")


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
    columns = ("id", "relpath", "case_name", "visit", "file")
    return [
        (int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]))
        for r in _by_keys(conn, images, columns, "case_name", cases, present=True)
        if (r[2], r[3]) in wanted
    ]


class ImageFacts(NamedTuple):
    """A named tuple: an import makes one per row (a frozen dataclass cost three times as much);
    `changed` and `present` as the driver gives them (0/1 in SQLite), true or false alike."""

    relpath: str
    case_name: str
    sha256: str | None
    changed: bool
    present: bool
    name_keys: tuple[bytes, bytes, bytes]
    """The image's case, visit and file sort keys, which a new label copies (migration 0014)."""


def image_facts(conn: Connection, image_ids: Iterable[int]) -> dict[int, ImageFacts]:
    """What a label write needs of each image (path, case, hash, flags, name keys), by id."""
    columns = ("id", "relpath", "case_name", "sha256", "changed", "present", *_NAME_KEYS)
    return {
        r[0]: ImageFacts(r[1], r[2], r[3], r[4], r[5], (r[6], r[7], r[8]))
        for r in _by_keys(conn, images, columns, "id", sorted(set(image_ids)))
    }


def current_labels(
    conn: Connection, *, annotator_id: int, image_ids: Iterable[int]
) -> dict[tuple[int, int], tuple[str, str]]:
    """This annotator's current (label, comment) on these images, by (image id, frame): read on
    the labels' unique (image, annotator, frame) key."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    columns = ("image_id", "frame", "label", "comment")
    rows = _by_keys(
        conn,
        labels,
        columns,
        "image_id",
        sorted(set(image_ids)),
        also={"annotator_id": annotator_id},
    )
    for r in rows:
        found[(int(r[0]), int(r[1]))] = (str(r[2]), str(r[3] or ""))
    return found


def _by_keys(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    keys: Sequence[Any],
    *,
    also: Mapping[str, Any] | None = None,
    present: bool = False,
) -> list[tuple[Any, ...]]:
    """`columns` of the rows whose `key` is one of `keys` (and whose `also` columns have those
    values; `present`: images in the queue only), `_IN` keys a statement: a chunk of an import
    reads its images and labels in a few statements, whose text is made here rather than
    compiled by SQLAlchemy each time."""
    prepare = conn.dialect.identifier_preparer
    marker = _marker(conn)
    where = [f"{prepare.quote(name)} = {_literal(conn, table, name, value)}"
             for name, value in (also or {}).items()]  # fmt: skip
    if present:
        where.append(f"{prepare.quote('seq')} IS NOT NULL")
    head = (
        f"SELECT {', '.join(prepare.quote(c) for c in columns)} "
        f"FROM {prepare.format_table(table)} WHERE "
        + "".join(f"{clause} AND " for clause in where)
        + f"{prepare.quote(key)} IN "
    )
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), _IN):
        part = tuple(keys[start : start + _IN])
        # Through SQLAlchemy's driver-level call (no compiling): its events still see the SQL.
        result = conn.exec_driver_sql(f"{head}({', '.join([marker] * len(part))})", part)
        found += result.all()
    return found


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _literal(conn: Connection, table: Table, column: str, value: object) -> str:
    bound = literal(value, table.c[column].type)
    return str(bound.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _driver_cursor(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver.cursor()


LabelWrite = tuple[int, int, str, str, str | None, int]
"""A label an import writes: image id, frame, label, comment, the image's SHA-256, event id."""
LabelInsert = tuple[int, int, str, str, str | None, int, bytes, bytes, bytes]
"""A label an import adds: a `LabelWrite` and its image's case, visit and file keys."""


def write_labels(
    conn: Connection,
    *,
    annotator_id: int,
    labelled_at: str,
    inserts: Sequence[LabelInsert],
    updates: Sequence[LabelWrite],
    hashes: Sequence[tuple[int, str]],
) -> None:
    """New and changed labels of one annotator, all labelled at `labelled_at`, and the images'
    recorded hashes: one executemany each, of plain tuples on the driver's cursor (SQLAlchemy's
    per-row parameter handling cost more than the writes). A label's geometry is cleared and its
    comment's sort key set, as `labels.put_label` does; a new label carries its image's name keys
    (the review's label-filtered name orders read them on the label, migration 0014), written
    with the row: an UPDATE after the insert cost a third of the import, each row's three key
    indexes written twice."""
    if inserts:
        insert_chunks(
            conn,
            labels,
            (
                "image_id",
                "frame",
                "label",
                "comment",
                "sha256",
                "event_id",
                *_NAME_KEYS,
                "comment_key",
            ),
            [[(*row, _comment_key(row[3])) for row in inserts]],
            constants={"annotator_id": annotator_id, "labelled_at": labelled_at, "geometry": None},
        )
    if updates:
        prepare, marker = conn.dialect.identifier_preparer, _marker(conn)
        changed = ", ".join(
            f"{prepare.quote(c)} = {marker}"
            for c in ("label", "comment", "sha256", "event_id", "comment_key")
        )
        when = _literal(conn, labels, "labelled_at", labelled_at)
        who = _literal(conn, labels, "annotator_id", annotator_id)
        sql = (
            f"UPDATE {prepare.format_table(labels)} SET {changed}, "
            f"{prepare.quote('labelled_at')} = {when}, {prepare.quote('geometry')} = NULL "
            f"WHERE {prepare.quote('image_id')} = {marker} AND {prepare.quote('frame')} = {marker}"
            f" AND {prepare.quote('annotator_id')} = {who}"
        )
        _many(
            conn, sql, [(r[2], r[3], r[4], r[5], _comment_key(r[3]), r[0], r[1]) for r in updates]
        )
    if hashes:
        prepare, marker = conn.dialect.identifier_preparer, _marker(conn)
        sql = (
            f"UPDATE {prepare.format_table(images)} SET {prepare.quote('sha256')} = {marker}, "
            f"{prepare.quote('changed')} = {_literal(conn, images, 'changed', False)} "
            f"WHERE {prepare.quote('id')} = {marker}"
        )
        _many(conn, sql, [(sha, image_id) for image_id, sha in hashes])


def _many(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    cursor = _driver_cursor(conn)
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


_DIGIT_RUN = re.compile(r"\d+")


def _digit_run(found: re.Match[str]) -> str:
    digits = found.group().lstrip("0") or "0"
    return f"\0{chr(len(digits) + 1)}{digits}"


def _comment_key(comment: str) -> bytes | None:
    """`natural_sort_key(comment)`, by which the review table sorts comments (store.review,
    migration 0010); uncached, as in `labels.put_label`: free-text comments are mostly distinct.

    An ASCII comment's key is made in one substitution (each text run ends with a 0 byte, each
    digit run is its length plus one and its digits without leading zeros; the key ends with
    a 0 byte): a fifth of the cost, and the same bytes (tested against `natural_sort_key`).
    Anything else, long digit runs included, goes through `natural_sort_key` itself."""
    if not comment:
        return None
    if comment.isascii() and not _LONG_DIGITS.search(comment):
        return (_DIGIT_RUN.sub(_digit_run, comment.lower()) + "\0\0").encode("latin-1")
    return natural_sort_key.__wrapped__(comment)


_LONG_DIGITS = re.compile(r"\d{100}")
"""A digit run whose length byte the fast path does not write (natural_sort_key caps them)."""


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


REBUILD_AFTER = 4
"""An import of a reader's first labels drops the labels' secondary indexes and builds them
again after its inserts when it adds at least this many times the labels the table holds."""


@contextmanager
def label_indexes_built_after(conn: Connection, *, rows: int) -> Iterator[None]:
    """The block inserts up to `rows` labels of an annotator who had none: on SQLite, when they
    outnumber the table's labels by `REBUILD_AFTER`, its secondary indexes (the review's name,
    label and comment orders) are dropped for the block and built again at its end, inside the
    caller's write transaction. SQLite builds an index from its entries sorted, where each
    insert went into the name orders at a random place: a quarter less time for the labels
    of a 100,000-row import into a fresh project. Against a table already holding as many labels
    as the import adds, building again cost a fifth more, hence the ratio. An error in the
    block leaves the indexes dropped, and the transaction's rollback brings them back."""
    if conn.dialect.name != "sqlite" or rows < REBUILD_AFTER:
        yield
        return
    held = conn.execute(select(func.max(labels.c.id))).scalar()  # at least the count
    if rows < REBUILD_AFTER * int(held or 0):
        yield
        return
    dropped = sorted(labels.indexes, key=lambda index: str(index.name))
    for index in dropped:
        # IF EXISTS: an index dropped by hand must not fail the import (the long way went
        # through without it); the block's end builds it again, as the schema declares it.
        conn.execute(DropIndex(index, if_exists=True))
    yield
    for index in dropped:
        index.create(conn)


def has_labels(conn: Connection, *, annotator_id: int) -> bool:
    """Whether the annotator has any label (one step on the labels' annotator index)."""
    found = conn.execute(
        select(labels.c.id).where(labels.c.annotator_id == annotator_id).limit(1)
    ).first()
    return found is not None


def add_counts(
    conn: Connection,
    *,
    annotator_id: int,
    per_case: Mapping[str, int],
    only_these: bool = False,
) -> None:
    """Whole-file labels of present images were added, this many per case: move the kept
    `annotator_progress` and `case_labelled` as a label save does (`store.labels._count`), once
    for the whole import. Rows not kept yet are counted from the labels (already written); or,
    `only_these` (the annotator had no label before the import: its usual reader), they are the
    labels added, with no count that walks every label just written."""
    total = sum(per_case.values())
    if not total:
        return
    bumped = conn.execute(_BUMP, {"p_annotator": annotator_id, "p_delta": total}).rowcount
    if not bumped:
        counted = (
            total
            if only_these
            else conn.execute(_LABELLED_OF, {"p_annotator": annotator_id}).scalar_one()
        )
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
    if only_these:
        rows = [
            {"annotator_id": annotator_id, "case_name": case, "labelled": per_case[case]}
            for case in missing
        ]
        if rows:
            conn.execute(case_labelled.insert(), rows)
        return
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
