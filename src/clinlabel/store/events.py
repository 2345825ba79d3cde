"""The event table: append in the caller's transaction, read in order. Hashing is `audit`'s."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Integer, and_, bindparam, case, cast, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import ColumnElement, Select

from clinlabel.store.driver import insert_chunks, stream_tuples
from clinlabel.store.label_checks import (
    DIGEST_SEPARATOR,
    NAMED_LABEL_MISMATCH,
    STALE_LABEL_MISMATCH,
    label_id_ranges,
    queue_mismatch,
    texts_digest,
)
from clinlabel.store.schema import annotators, events, images, labels
from clinlabel.store.seconds import add_event_time

EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.columns)
_IN_COLUMN_ORDER = itemgetter(*EVENT_COLUMNS)
"""A row's values in EVENT_COLUMNS order, picked in C (a bulk import passes many rows)."""


_LAST = select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1)
_INSERT = events.insert()


def last_link(conn: Connection) -> tuple[int, str] | None:
    """Id and hash of the newest event, or None for an empty trail."""
    found = conn.execute(_LAST).first()
    return None if found is None else (int(found[0]), str(found[1]))


def insert_event(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(_INSERT, dict(row))
    add_event_time(conn, (row,))  # the review's seconds order reads the kept sum


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert many events at once (one executemany on the driver's cursor: SQLAlchemy's
    per-row parameter handling cost more than the insert), in the caller's transaction."""
    if rows:
        values = [_IN_COLUMN_ORDER(row) for row in rows]
        insert_chunks(conn, events, EVENT_COLUMNS, [values])
        add_event_time(conn, rows)


def insert_event_values(
    conn: Connection,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert many events given as value tuples in `columns` order, with `constants` the same
    in every row (one executemany, no dict a row: `audit.bulk_log`). They carry no active
    time, so no (actor, image) sum moves."""
    if rows:
        insert_chunks(conn, events, columns, [rows], constants=constants)


def iter_events(conn: Connection, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every event in id order, streamed (a long trail never sits in memory whole)."""
    result = conn.execution_options(yield_per=batch).execute(select(events).order_by(events.c.id))
    for row in result:
        yield dict(row._mapping)


def iter_chain_rows(
    conn: Connection, fields: tuple[str, ...], *, first: int = 1, last: int | None = None
) -> Generator[tuple[Any, ...], None, None]:
    """(fields..., hash) of the events with ids first..last in id order, as plain tuples."""
    columns = [events.c[name] for name in fields]
    query = select(*columns, events.c.hash).where(events.c.id >= first).order_by(events.c.id)
    if last is not None:
        query = query.where(events.c.id <= last)
    yield from stream_tuples(conn, query)


def chain_row(conn: Connection, fields: tuple[str, ...], event_id: int) -> tuple[Any, ...] | None:
    """(fields..., hash) of one event, or None if there is no such event."""
    columns = [events.c[name] for name in fields]
    found = conn.execute(select(*columns, events.c.hash).where(events.c.id == event_id)).first()
    return None if found is None else tuple(found)


def count_up_to(conn: Connection, event_id: int) -> int:
    """How many events have ids up to `event_id` (an index range count)."""
    query = select(func.count()).select_from(events).where(events.c.id <= event_id)
    return int(conn.execute(query).scalar_one())


def last_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def id_of_hash(conn: Connection, event_hash: str) -> int | None:
    found = conn.execute(select(events.c.id).where(events.c.hash == event_hash)).scalar()
    return None if found is None else int(found)


def hash_of(conn: Connection, event_id: int) -> str | None:
    found = conn.execute(select(events.c.hash).where(events.c.id == event_id)).scalar()
    return None if found is None else str(found)


def change_key_of(conn: Connection, event_id: int, *, image_id: int) -> tuple[str, Any] | None:
    """The page's key of the change an event of `image_id` recorded (`change_key` in its data)
    and the value it set (its `new`), or None: no such event, another image's, no key, or data
    that is not the app's (edited in the database) are all no key."""
    found = conn.execute(
        select(events.c.data).where(events.c.id == event_id, events.c.image_id == image_id)
    ).scalar()
    if found is None:
        return None
    try:
        data = json.loads(found)
    except ValueError:
        return None
    key = data.get("change_key") if isinstance(data, dict) else None
    return (key, data.get("new")) if isinstance(key, str) else None


def count_events(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


_LABEL_KINDS = ("label_saved", "label_changed")
_CLEARED = "label_cleared"


def _json_text(
    conn: Connection | str, column: ColumnElement[Any], *path: str
) -> ColumnElement[Any]:
    """A text value inside a JSON column, in the dialect's own cheapest form (`conn`: a
    connection, or the name of its dialect)."""
    dialect = conn if isinstance(conn, str) else conn.dialect.name
    if dialect == "sqlite":
        extracted: ColumnElement[Any] = func.json_extract(column, "$." + ".".join(path))
        return extracted
    # The column is text: cast it, as `type_coerce` would only change the Python-side type.
    text: ColumnElement[Any] = func.json_extract_path_text(cast(column, JSON), *path)
    return text


_SCANNED = "batch_scanned"


def _queue_mismatch(conn: Connection) -> tuple[int, str] | None:
    """Only a rescan takes images out of the queue or puts them back, and it records how many it
    left there: hiding the unlabelled images would otherwise make a 100 % report."""
    scan, queue = queue_queries(conn.dialect.name)
    newest = conn.execute(scan).first()
    if newest is None or newest[1] is None:
        return None
    present, last = conn.execute(queue).one()
    return queue_mismatch(int(newest[0]), int(newest[1]), int(present), int(last))


def queue_queries(dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The newest scan event (id, images it left in the queue), and the queue's (count, last
    position): `_queue_mismatch`'s two reads (also run as text by `store.csv_export`)."""
    scan = (
        select(events.c.id, _json_text(dialect, events.c.data, "images"))
        .where(events.c.kind == _SCANNED)
        .order_by(events.c.id.desc())
        .limit(1)
    )
    queue = select(func.count(), func.coalesce(func.max(images.c.seq), 0)).where(images.c.present)
    return scan, queue


def first_label_mismatch(conn: Connection, *, after: int | None = None) -> tuple[int, str] | None:
    """The first current label that its events do not account for, with the reason.

    The `labels` table is a convenience copy of the trail (exports read it); the trail is the
    record. Each current label must equal the `new` value of the event it names, and that event
    must be the newest label event for its image, annotator and frame; a key whose newest event
    cleared it must have no current label. The queue itself (what progress and the report count)
    must hold as many images, numbered 1..N, as the newest scan event found.

    `after` (an event id): only the labels naming a newer event and the keys with a newer
    label event are compared, for a caller that has shown the rest unchanged since a full
    check up to that event (`audit.label_digest`).
    """
    queue = _queue_mismatch(conn)
    if queue is not None:
        return queue
    named, stale = label_mismatch_queries(conn.dialect.name, after=after)
    found = conn.execute(named).scalar()
    if found is not None:
        return int(found), NAMED_LABEL_MISMATCH
    found = conn.execute(stale).scalar()
    if found is not None:
        return int(found), STALE_LABEL_MISMATCH
    return None


def label_mismatch_queries(
    dialect: str, *, after: int | ColumnElement[Any] | None = None
) -> tuple[Select[Any], Select[Any]]:
    """`first_label_mismatch`'s two queries after the queue's: the first label that differs
    from the event it names, and the first key whose newest label event is not its current
    label (each the event id, or no row). Also run as text by `store.csv_export`.

    `after` (an event id or a bound parameter): only the labels whose event id is greater
    (NULL is not; text and BLOB are, as SQLite orders them), and only the keys with a label
    event after it, whose newest label event is then after it too."""
    newer_label = true() if after is None else labels.c.event_id > after
    newer_event = true() if after is None else events.c.id > after
    new_label = _json_text(dialect, events.c.data, "new", "label")
    new_comment = func.coalesce(_json_text(dialect, events.c.data, "new", "comment"), "")
    event_sha = func.coalesce(_json_text(dialect, events.c.data, "sha256"), "")
    # The image row an export reads must be the one the event named, and its case, visit and
    # file must be the parts of its path: swapping two rows' paths moves labels between images.
    identity = images.c.case_name + "/" + images.c.visit + "/" + images.c.file
    folder_prefix = func.substr(images.c.file, 1, func.length(images.c.folder) + 1)
    named = (
        select(labels.c.event_id)
        .select_from(
            # Outer joins: a label whose annotator or image row is gone (deleted with sqlite3)
            # is still compared, its name and path NULL. Inner joins left it out, and the
            # labels of a deleted annotator were exported as they were edited, unchecked.
            labels.outerjoin(annotators, annotators.c.id == labels.c.annotator_id)
            .outerjoin(images, images.c.id == labels.c.image_id)
            .outerjoin(events, events.c.id == labels.c.event_id)
        )
        .where(
            newer_label,
            # IS DISTINCT FROM, never `!=`: a NULL compared with `!=` is never "different", and
            # a column made nullable and set to NULL would otherwise pass (the attack on issue 9
            # hid a swap of two images behind NULL paths).
            or_(
                events.c.id.is_(None),
                events.c.kind.not_in(_LABEL_KINDS),
                events.c.image_id.is_distinct_from(labels.c.image_id),
                events.c.image.is_(None),
                events.c.image.is_distinct_from(images.c.relpath),
                identity.is_distinct_from(images.c.relpath),
                folder_prefix.is_distinct_from(images.c.folder + "/"),
                events.c.actor.is_distinct_from(annotators.c.name),
                func.coalesce(events.c.frame, 0).is_distinct_from(labels.c.frame),
                new_label.is_distinct_from(labels.c.label),
                new_comment.is_distinct_from(labels.c.comment),
                events.c.ts_utc.is_distinct_from(labels.c.labelled_at),
                event_sha.is_distinct_from(func.coalesce(labels.c.sha256, "")),
            ),
        )
        .order_by(labels.c.event_id)
        .limit(1)
    )
    frame = func.coalesce(events.c.frame, 0).label("frame")
    latest = (
        select(events.c.image_id, events.c.actor, frame, func.max(events.c.id).label("id"))
        .where(events.c.kind.in_((*_LABEL_KINDS, _CLEARED)), newer_event)
        .group_by(events.c.image_id, events.c.actor, frame)
        .subquery()
    )
    newest = events.alias("newest")
    # Current labels are found through their unique (image, annotator, frame) index.
    current = and_(
        labels.c.image_id == latest.c.image_id,
        labels.c.annotator_id == annotators.c.id,
        labels.c.frame == latest.c.frame,
    )
    stale = (
        select(latest.c.id)
        .select_from(
            latest.join(newest, newest.c.id == latest.c.id)
            # Outer: a key whose annotator row is gone still has (or has not) its label.
            .outerjoin(annotators, annotators.c.name == latest.c.actor)
            .outerjoin(labels, current)
        )
        .where(
            or_(
                and_(newest.c.kind == _CLEARED, labels.c.id.is_not(None)),
                and_(
                    newest.c.kind != _CLEARED,
                    or_(labels.c.id.is_(None), labels.c.event_id.is_distinct_from(latest.c.id)),
                ),
            )
        )
        .order_by(latest.c.id)
        .limit(1)
    )
    return named, stale


def _digest_row(*checked: ColumnElement[Any]) -> ColumnElement[Any]:
    """A label's text in `label_digest_query`: its key, `checked` (label, comment, time,
    SHA-256 or '' for none, event id), its image row's path and parts."""
    label, comment, labelled_at, sha256, event_id = checked
    return func.json_array(
        labels.c.image_id,
        labels.c.annotator_id,
        annotators.c.name,
        labels.c.frame,
        label,
        comment,
        labelled_at,
        func.coalesce(sha256, ""),  # as the check compares it: no hash and '' are the same
        event_id,
        images.c.relpath,
        images.c.case_name,
        images.c.visit,
        images.c.file,
        images.c.folder,
    )


def label_digest_query(
    after: int | ColumnElement[Any] | None, first: ColumnElement[Any], last: ColumnElement[Any]
) -> Select[Any]:
    """SQLite only: of the labels with ids first..last, one text holding, label after label in
    id order, what the label checks compare of each (its key and values, its annotator's name,
    its image row's path and parts), as SQLite's `json_array` (which tells a number from a
    text and refuses a BLOB: an error the caller takes as a changed table). NULL: none there.

    `after` (an event id): the text the labels had when every label event was at or before
    it, as far as the trail up to it tells: a label naming a later event is given the values
    of its key's newest label event up to `after` (in its place: a change updates the row),
    or left out if there was none or it cleared the label. A label cleared since is missing.

    Hashed, it shows that the labels a full check passed at `after` are still as they were,
    apart from the changes the trail records after it (`audit.label_digest`). Labels and
    images outer-joined: a label whose annotator or image row is gone is still in the text."""
    current = _digest_row(
        labels.c.label, labels.c.comment, labels.c.labelled_at, labels.c.sha256, labels.c.event_id
    )
    text: ColumnElement[Any] = current
    if after is not None:
        earlier, before = events.alias("earlier"), events.alias("before")
        newest_before = (
            select(func.max(earlier.c.id))
            .where(
                earlier.c.image_id == labels.c.image_id,
                earlier.c.actor == annotators.c.name,
                func.coalesce(earlier.c.frame, 0) == labels.c.frame,
                earlier.c.kind.in_((*_LABEL_KINDS, _CLEARED)),
                earlier.c.id <= after,
            )
            .correlate(labels, annotators)
            .scalar_subquery()
        )
        was = _digest_row(
            _json_text("sqlite", before.c.data, "new", "label"),
            func.coalesce(_json_text("sqlite", before.c.data, "new", "comment"), ""),
            before.c.ts_utc,
            _json_text("sqlite", before.c.data, "sha256"),
            before.c.id,
        )
        # A subquery in the CASE: SQLite looks the earlier event up for the newer labels only.
        earlier_values = (
            select(was)
            .where(before.c.id == newest_before, before.c.kind.in_(_LABEL_KINDS))
            .correlate(labels, annotators, images)
            .scalar_subquery()
        )
        text = case(
            (or_(labels.c.event_id.is_(None), labels.c.event_id <= after), current),
            else_=earlier_values,
        )
    # In id order (the order the rows keep when a label is changed), also should an index ever
    # make SQLite read them another way.
    ordered = (
        select(text.label("text"))
        .select_from(
            labels.outerjoin(annotators, annotators.c.id == labels.c.annotator_id).outerjoin(
                images, images.c.id == labels.c.image_id
            )
        )
        .where(labels.c.id >= first, labels.c.id <= last)
        .order_by(labels.c.id)
        .subquery()
    )
    # One value per range: the check runs on a thread beside the CSV writing, and a row at a
    # time would hand Python's lock back and forth with it on every row. group_concat leaves
    # out the NULLs: the labels that had no earlier value.
    return select(func.group_concat(ordered.c.text, DIGEST_SEPARATOR))


def next_label_id_query(start: ColumnElement[Any]) -> Select[Any]:
    """The smallest label id from `start` on (NULL: none): where the digest's next range
    starts (`store.label_checks.label_id_ranges`)."""
    return select(func.min(labels.c.id)).where(labels.c.id >= start)


def label_count_query(after: int | ColumnElement[Any]) -> Select[int, int]:
    """How many current labels there are, and how many of them name an event after `after`."""
    newer = func.count().filter(labels.c.event_id > after)
    return select(func.count(), newer).select_from(labels)


def labels_digest(conn: Connection, *, after: int | None = None) -> str | None:
    """The digest of `label_digest_query`'s texts (`after`: the labels as they were at that
    event), or None: not SQLite (the texts are SQLite's JSON), or SQLite cannot give them (a
    BLOB edited into a column)."""
    if conn.dialect.name != "sqlite":
        return None
    first, last = bindparam("first", type_=Integer), bindparam("last", type_=Integer)
    query = label_digest_query(after, first, last)
    next_id = next_label_id_query(bindparam("start", type_=Integer))

    def found_from(start: int) -> int | None:
        found = conn.execute(next_id, {"start": start}).scalar()
        return None if found is None else int(found)

    def parts() -> Iterator[str | None]:
        for start, end in label_id_ranges(found_from):
            yield conn.execute(query, {"first": start, "last": end}).scalar()

    try:
        return texts_digest(parts())
    except OperationalError:
        return None


def label_counts(conn: Connection, after: int) -> tuple[int, int]:
    """`label_count_query`: (all current labels, those naming an event after `after`)."""
    found = conn.execute(label_count_query(after)).one()
    return int(found[0]), int(found[1])
