"""The review table: one page of the queue, sorted and filtered in SQL, and the case names.

A batch can hold hundreds of thousands of images, so the table never loads them all: each request
asks for one window (`offset`, `limit`) of rows in the chosen order, with the filtered total.

Order is that of the page's old in-browser sort, which users know: a column ascending or
descending, empty values (no label, no time) last ascending and first descending, ties always by
queue position ascending. Names compare as people read them (`img2` before `img10`,
case-insensitive), which plain SQL `ORDER BY` cannot do. How each column gets that order:

- `case`, `visit`, `file`: each image stores the natural-order key of its names
  (`store.sort_keys`, migration 0006), indexed with `seq` after it: the window is a range of that
  index, read in order, whatever the size of the project. Names equal but for letter case or
  leading zeros (`Img1`, `img01`) tie, as they did in the page's old sort.
- `label`: a project has few labels. They are found one index probe each, ranked in Python with
  the scan's own `natural_key`, and each label's rows are read in queue order on the queue's
  index until the window is full (`_label_window`).
- `comment`: two groups: images without a comment (no label, or an empty one: first ascending,
  as the empty text sorted) in queue order on the queue's index, and commented ones by the
  comment's stored natural-order key (`labels.comment_key`, migration 0010) on the labels'
  (annotator, frame, comment_key) index, ties in queue order (`_kept_key_window`).
- `frames` (labels of single frames): by the first labelled frame's number, then its label; images
  without frame labels first ascending (the old table sorted their empty text first), read on the
  queue's index; the others gathered from the labels' index and sorted: frame labels are few
  (`_frames_window`).
- `seconds`: the sum of this annotator's active time per image, kept with the events
  (`image_seconds`, `store.seconds`, migration 0012): images without time (last ascending) in
  queue order on the queue's index, timed ones on the kept (actor, ms) index, ties in queue
  order (`_kept_key_window`, shared with the comment order).
- `annotator`: the table shows this annotator's own labels, so the column is either their name or
  empty: labelled images first ascending, as one group of the label order above.

Windows after the first come by keyset where an index states the order (position, case, visit,
file, label, annotator, comment, seconds, and frames within the images without frame labels):
the page passes `after`, the position of the last row it holds, and the window starts right
after that row in the order asked, so no OFFSET steps over the rows before it. A jump deep into
the table (a drag of the scroll bar, "go to row", the last page) has no such row, and must not
walk the rows before it (issue 14: every window under 100 ms at a million images):
- into a group in queue order (the unlabelled, one label's images, the images without a
  comment, the unlabelled without time; the label filter by position): the kept counts per case
  (`case_labelled`, `case_timed`, `case_label_counts`, store.label_counts) are added up a row
  per case to the case that holds the row, then only that case's images are read
  (`_nth_by_case`);
- into the images without frame labels: the row's position is pushed past the few images with
  frame labels before it (`_nth_unframed`);
- into a key's order (comment, seconds; case, visit, file descending, whose ties run the other
  way): the row's key is found by OFFSET on the key's index alone, no table row read per row
  stepped over (`_skip_on_index`, `_key_at`), and only that key's ties are stepped over;
- into case, visit or file filtered by a label: the row's key is found by OFFSET on the label's
  range of the labels' (annotator, frame, label, key) index, which holds copies of the image's
  name keys (migration 0014), and the window is read key by key, each key's ties in queue
  order on the images' (key, seq) index (`_label_keyed_window`);
- elsewhere (another filter with a key's order) by OFFSET on the order's index (no sort; from
  the end when nearer).
The row before the window may have moved since the page read it: relabelled, its comment
edited, its time grown by a view, its label cleared (in this tab, another, or by a teammate on
the team server). Started right after where it is now, the window would skip or repeat rows
without a sign. So every row carries `cursor`, an opaque token of what sets its place in the
order asked (the image and its key: label, comment key, seconds, name key...), the page passes
it back as `after_key` with `after`, and the cursor is used only while the row's key is still
that (`_cursor_check`: one probe by position, the key the window then starts from); else the
window is found by its offset, as a fresh walk would (as when the row left the filter). A
cursor without a token is trusted, as before tokens were given.
Each is checked against a plain Python sort at every offset, also right after labels change
(tests/unit/store/test_jumps_oracle.py). The filtered total is counted once per order and
filter (a label's added up from the kept counts per case and label, `_kept_label_totals`): the
page passes it back as `total` for the windows that follow.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from clinlabel.discovery.naming import natural_key
from clinlabel.domain.views import FrameLabel
from clinlabel.errors import ValidationError
from clinlabel.store.assignments import in_worklist, pending_repeat
from clinlabel.store.images import queue_length
from clinlabel.store.labels import frame_labels_of, labelled_count
from clinlabel.store.regions import region_counts
from clinlabel.store.schema import (
    case_label_counts,
    case_labelled,
    case_timed,
    events,
    image_seconds,
    images,
    labels,
    queue_visits,
    regions,
)

REVIEW_SORTS = (
    "position",
    "case",
    "visit",
    "file",
    "label",
    "comment",
    "frames",
    "annotator",
    "seconds",
)
"""The columns a review page may be sorted by: a whitelist, never SQL from a request."""

MAX_REVIEW_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ReviewRow:
    image_id: int
    position: int
    case: str
    visit: str
    file: str
    label: str | None
    comment: str
    annotator: str | None
    """This annotator's name when they labelled the whole file, else None."""
    seconds: float | None
    frame_labels: tuple[FrameLabel, ...]
    regions: int = 0
    """Regions this annotator drew on the image (issue 11)."""
    sealed: bool = False
    """A study's first read hidden from its reader until they read its repeat."""
    readers: tuple[tuple[str, str | None], ...] = ()
    """For a reviewer in a study: each reader of the image and their label (None: not yet)."""
    cursor: str = ""
    """What set the row's place in the order asked, opaque (`_cursor_token`): passed back as
    `ReviewQuery.after_key` with the row's position, it lets the next window start right after
    the row only while that still holds."""


@dataclass(frozen=True, slots=True)
class ReviewPage:
    rows: list[ReviewRow]
    total: int
    """Images that pass the filters."""
    all: int
    """Images in the queue."""
    total_key: str = ""
    """When `total` was counted (not kept): what the caller passes back with it as
    `ReviewQuery.total_key`, so that it is trusted only while nothing has changed since."""
    moved: bool = False
    """The row before the window (`ReviewQuery.after`) had moved in the order or left the
    filter since the caller read it: the window was found by its offset, and other rows the
    caller holds from before may be out of place too."""


@dataclass(frozen=True, slots=True)
class ReviewQuery:
    """What to show: the window, the order and the filters (`unlabelled` wins over `label`)."""

    offset: int = 0
    limit: int = 100
    sort: str = "position"
    descending: bool = False
    label: str | None = None
    unlabelled: bool = False
    case: str | None = None
    after: int | None = None
    """Queue position of the row just before the window in this order (keyset), if known."""
    after_key: str | None = None
    """That row's `cursor` as the caller read it: the cursor is used only if the row's place in
    the order is still that (None: trusted, as before tokens were given)."""
    total: int | None = None
    """The filtered total, if an earlier window of the same order and filters told it."""
    total_key: str | None = None
    """The `ReviewPage.total_key` that came with `total`: the total is trusted only while it is
    that (nothing recorded since); without it, counted."""
    regions: bool | None = None
    """Only images with (True) or without (False) regions this annotator drew."""
    worklist: bool = False
    """A reader of a study: only the images of their worklist, and a label filter never finds
    a first read sealed until its repeat is read (`labelling.worklist`)."""

    @property
    def whole_queue(self) -> bool:
        """No filter narrows the images themselves (a case, regions, a reader's worklist): the
        counts kept for the whole queue (per case, per annotator) apply to the rows."""
        return self.case is None and self.regions is None and not self.worklist


_KEYED_SORTS = {"case": images.c.case_key, "visit": images.c.visit_key, "file": images.c.file_key}
"""Sorts by a stored natural-order key: an index on (key, seq) holds their order."""

_ALIAS_FRAMES = labels.alias("frame_labels")


def _whole_file_label(annotator_id: int) -> ColumnElement[bool]:
    return and_(
        labels.c.image_id == images.c.id,
        labels.c.annotator_id == annotator_id,
        labels.c.frame == 0,
    )


_OWN = labels.alias("own_label")


def _own_label(who: int, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """This annotator has a whole-file label on the image (meeting `conditions`).

    Windows test labels this way, a probe of the labels' key per image read, and not through
    the outer join's columns (`labels.id IS NULL`, `COALESCE(labels.label, '')`): on those, at
    a million images, SQLite built a Bloom filter over every label of the annotator before
    reading the first row (450 ms for a window of 200).
    """
    return (
        select(_OWN.c.id)
        .where(
            _OWN.c.image_id == images.c.id,
            _OWN.c.annotator_id == who,
            _OWN.c.frame == 0,
            *conditions,
        )
        .exists()
    )


def _filters(query: ReviewQuery, *, who: int, counting: bool = False) -> list[ColumnElement[bool]]:
    # Present images are exactly those with a position (schema.images.seq): one condition that
    # every sort index answers without reading the table.
    found: list[ColumnElement[bool]] = [images.c.seq.is_not(None)]
    if query.case is not None:
        found.append(images.c.case_name == query.case)
    if query.worklist:
        found.append(in_worklist(who, images.c.id))
        if query.label is not None and not query.unlabelled:
            found.append(~pending_repeat(who, images.c.id))
    # A count has no order: the label's index is the way, unless the images are narrowed to a
    # case, whose index then drives (from the label's index, 0.7 s at a million images for a
    # case of 200: every image with the label probed for its case).
    counting = counting and query.case is None
    if query.unlabelled:
        found.append(labels.c.id.is_(None) if counting else ~_own_label(who))
    elif query.label is not None:
        # A window probes each image's label as it reads the order's index (`_own_label`) and
        # stops at the window; a join on the label would let SQLite start from the labels'
        # index and sort every row of the label (a third of the project, for a common one). A
        # count has no order: there the label's index is the way.
        found.append(
            labels.c.label == query.label
            if counting
            else _own_label(who, _OWN.c.label == query.label)
        )
    if query.regions is not None:
        # One probe of the regions' (image, annotator) index per image the window reads.
        drawn = (
            select(regions.c.id)
            .where(regions.c.image_id == images.c.id, regions.c.annotator_id == who)
            .exists()
        )
        found.append(drawn if query.regions else ~drawn)
    return found


def review_page(
    conn: Connection, query: ReviewQuery, *, annotator_id: int | None, annotator: str | None
) -> ReviewPage:
    """One window of the review table in the requested order, with the filtered total."""
    if query.sort not in REVIEW_SORTS:
        raise ValidationError(f"The review table cannot be sorted by {query.sort!r}.")
    offset = max(query.offset, 0)
    limit = min(max(query.limit, 0), MAX_REVIEW_LIMIT)
    # No annotator yet (no session): nobody's labels; -1 matches no row.
    who = -1 if annotator_id is None else annotator_id
    joined = images.outerjoin(labels, _whole_file_label(who))
    filters = _filters(query, who=who)
    everything = queue_length(conn)  # one index probe instead of counting 100,000 rows
    if query.worklist:
        everything = int(
            conn.execute(
                select(func.count())
                .select_from(images)
                .where(images.c.seq.is_not(None), in_worklist(who, images.c.id))
            ).scalar_one()
        )
    filtered = not query.whole_queue or query.unlabelled or query.label is not None
    moved = False
    total_key = ""
    known: tuple[Any] | None = None  # the cursor row's key, when the check read it
    if query.after is not None and query.after_key is not None:
        known = _cursor_check(conn, query, who=who, annotator=annotator)
        if known is None:
            # The row before the window moved in the order since the page read it (relabelled,
            # its comment edited, time added, its label cleared): right after where it is now,
            # rows would be skipped or repeated. The window is found by its offset, as a fresh
            # walk would.
            query, moved = replace(query, after=None), True
    if query.after is not None and filtered and not _passes(conn, joined, filters, query.after):
        # The row before the window left the filter since (another tab cleared or changed its
        # label): no cursor any more. The window is found by its offset, as a fresh walk would.
        query, moved = replace(query, after=None), True
    if query.after is None:
        known = None
    if not filtered:
        total = everything
    elif query.unlabelled and query.whole_queue:
        # The annotator's labelled count is kept with the labels (annotator_progress): the rest
        # of the queue is unlabelled, without counting it.
        total = everything - (0 if annotator_id is None else labelled_count(conn, annotator_id=who))
    elif query.label is not None and query.whole_queue:
        # Kept counts, read every time: a total the page passes back is stale once another tab
        # saved or cleared a label, and a jump counted from it would skip or repeat rows.
        total = _kept_label_totals(conn, who, [query.label]).get(query.label, 0)
        total = min(max(total, 0), everything)  # kept counts edited by hand: within the queue
    else:
        # A count (a case, regions, a worklist narrow the images: no kept count applies). The
        # page passes back the total an earlier window told, to spare it; once labels or regions
        # changed (here, in another tab, by a teammate) it is stale: a jump from the end read
        # the wrong rows, and the table showed rows that never came, or missed some.
        # The key names the total too: one sent back changed (a page's bug, a script) with the
        # key of another is counted again, as a stale one is.
        key_of = _total_key(conn, query, who=who, everything=everything)
        if query.total is not None and query.total_key == key_of(query.total):
            total = query.total
        else:
            total = int(
                conn.execute(
                    select(func.count())
                    .select_from(joined)
                    .where(*_filters(query, who=who, counting=True))
                ).scalar_one()
            )
        total_key = key_of(total)
    if limit == 0 or offset >= total:
        return ReviewPage(rows=[], total=total, all=everything, total_key=total_key, moved=moved)
    if (
        query.sort == "position"
        and query.unlabelled
        and query.after is None
        and (offset or not query.descending)
        and query.whole_queue
    ):
        # The first window, or a jump, into the unlabelled images in queue order: found by the
        # kept counts per case, not by walking past the labelled (first, as annotators work).
        nth = total - 1 - offset if query.descending else offset
        found = _nth_in_queue(conn, who, nth, labelled=False)
        if found is not None:
            query = replace(query, after=found + 1 if query.descending else found - 1)
            offset = 0

    if (
        query.sort == "position"
        and query.label is not None
        and not query.unlabelled
        and query.after is None
        and query.whole_queue
    ):
        # A jump (or the first window) into one label's images in queue order: found by the
        # kept counts per case and label, not by walking the queue and probing every label.
        nth = total - 1 - offset if query.descending else offset
        found = _nth_by_case(
            conn,
            nth,
            _per_case(conn, who, [query.label]),
            _own_label(who, _OWN.c.label == query.label),
            counted=True,
        )
        if found is not None:
            query = replace(query, after=found + 1 if query.descending else found - 1)
            offset = 0

    if (
        query.sort in _KEYED_SORTS
        and query.label is not None
        and not query.unlabelled
        and query.whole_queue
    ):
        ids = _label_keyed_window(
            conn, filters, query, who=who, offset=offset, limit=limit, total=total, known=known
        )
    elif query.sort in _KEYED_SORTS or (query.sort == "position" and filtered):
        ids = _keyed_window(
            conn, joined, filters, query, offset=offset, limit=limit, total=total, known=known
        )
    elif query.sort in ("label", "annotator"):
        ids = _label_window(
            conn,
            joined,
            filters,
            query,
            offset=offset,
            limit=limit,
            who=who,
            total=total,
            # By annotator the check read whether the row is labelled, not its label.
            known=known if query.sort == "label" else None,
        )
    elif query.sort == "frames":
        ids = _frames_window(
            conn,
            joined,
            filters,
            query,
            offset=offset,
            limit=limit,
            who=who,
            total=total,
            known=known,
        )
    elif query.sort in ("comment", "seconds"):
        kept = (
            _comment_key(conn, who)
            if query.sort == "comment"
            else _seconds_key(conn, who, annotator or "")
        )
        ids = _kept_key_window(
            conn,
            joined,
            filters,
            query,
            kept,
            offset=offset,
            limit=limit,
            who=who,
            total=total,
            known=known,
        )
    else:  # position, unfiltered
        ids = _position_window(
            conn, joined, filters, query, offset=offset, limit=limit, total=total
        )
    return ReviewPage(
        rows=_rows(conn, ids, who=who, annotator=annotator, sort=query.sort),
        total=total,
        all=everything,
        total_key=total_key,
        moved=moved,
    )


def _total_key(
    conn: Connection, query: ReviewQuery, *, who: int, everything: int
) -> Callable[[int], str]:
    """A counted total's `total_key`, given the total: the total itself, its filters and the
    audit trail's last event (every change of labels, regions, time, studies and the queue is
    recorded by one, in the change's own transaction: ADR 0001), one probe of the events'
    primary key."""
    last = conn.execute(select(func.max(events.c.id))).scalar()
    stated = (
        who,
        everything,
        last,
        query.label,
        query.unlabelled,
        query.case,
        query.regions,
        query.worklist,
    )

    def key(total: int) -> str:
        digest = hashlib.blake2b(repr((*stated, total)).encode(), digest_size=12).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")

    return key


def _sort_key(sort: str, who: int, annotator: str | None) -> Any:
    """What sets an image's place in the order `sort` besides its queue position (ties), as a
    column of `images`: what the windows read as the cursor row's key (None: the position
    alone). Each is a probe by key (the image's label, time or frame labels)."""
    own = and_(_OWN.c.image_id == images.c.id, _OWN.c.annotator_id == who, _OWN.c.frame == 0)
    if sort in _KEYED_SORTS:
        return _KEYED_SORTS[sort]
    if sort == "label":
        return select(_OWN.c.label).where(own).correlate(images).scalar_subquery()
    if sort == "annotator":  # the column is the annotator's name or empty
        return _own_label(who)
    if sort == "comment":
        return select(_OWN.c.comment_key).where(own).correlate(images).scalar_subquery()
    if sort == "seconds":
        return (
            select(image_seconds.c.active_ms)
            .where(
                image_seconds.c.image_id == images.c.id,
                image_seconds.c.actor == (annotator or ""),
            )
            .correlate(images)  # not the outer join of the rows' own time (`_rows`)
            .scalar_subquery()
        )
    if sort == "frames":  # the cursor is used in the images without frame labels only
        return (
            select(_ALIAS_FRAMES.c.id)
            .where(
                _ALIAS_FRAMES.c.image_id == images.c.id,
                _ALIAS_FRAMES.c.annotator_id == who,
                _ALIAS_FRAMES.c.frame > 0,
            )
            .exists()
        )
    return None


def _cursor_token(sort: str, image_id: int, key: Any) -> str:
    """A row's `cursor`: a digest of the order, the image and its key in that order.

    A digest, not the key itself: a comment's key is as long as the comment, and the URL of the
    next window carries the token. Equal tokens are the same image with the same key (a chance
    collision of 96 bits is not a concern); anything else only costs the cursor."""
    if isinstance(key, memoryview):  # PostgreSQL's bytes
        key = bytes(key)
    if sort in ("annotator", "frames"):
        key = bool(key)  # SQLite answers 0/1, PostgreSQL a bool
    digest = hashlib.blake2b(repr((sort, image_id, key)).encode(), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _cursor_check(
    conn: Connection, query: ReviewQuery, *, who: int, annotator: str | None
) -> tuple[Any] | None:
    """The key in the order asked (`_sort_key`) of the image at queue position `query.after`
    if it is the one whose `cursor` the caller passed, with that same key; else None. One probe
    by position (and one by key): the window then starts from this key (`known`) without
    reading the row again."""
    key = _sort_key(query.sort, who, annotator)
    columns = [images.c.id] if key is None else [images.c.id, key]
    found = conn.execute(select(*columns).where(images.c.seq == query.after)).first()
    if found is None:
        return None
    now = None if key is None else found[1]
    return (now,) if _cursor_token(query.sort, int(found[0]), now) == query.after_key else None


def _passes(
    conn: Connection, joined: Any, filters: Sequence[ColumnElement[bool]], position: int
) -> bool:
    """Whether the image at queue `position` passes the filters (one probe by position)."""
    statement = select(images.c.id).select_from(joined).where(images.c.seq == position, *filters)
    return conn.execute(statement.limit(1)).first() is not None


def _keyed_window(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    *,
    offset: int,
    limit: int,
    total: int,
    known: tuple[Any] | None = None,
) -> list[int]:
    """Image ids of the window for an order an index holds: (key, seq), or seq alone.

    Ties are in queue order in both directions, so descending reads the key backwards but each
    tie forwards (SQLite sorts just the ties the window touches). A jump into the second half
    without a cursor reads the order backwards from its end: OFFSET then steps over the rows
    after the window, fewer than those before it (the last window, a drag of the scroll bar
    to the bottom, steps over none).
    """
    descending = query.descending
    key = _KEYED_SORTS.get(query.sort)
    statement: Select[Any] = select(images.c.id).select_from(joined).where(*filters)
    cursor = known  # the cursor's key, read by the check of `after_key`
    if query.after is not None and cursor is None:
        cursor = conn.execute(
            select(images.c.seq if key is None else key).where(images.c.seq == query.after)
        ).first()
    if cursor is not None:
        offset = 0  # the window starts right after the cursor's row
        after = query.after
        if key is None:
            statement = statement.where(
                images.c.seq < after if descending else images.c.seq > after
            )
        elif descending:
            statement = statement.where(
                key <= cursor[0], or_(key < cursor[0], images.c.seq > after)
            )
        else:
            statement = statement.where(tuple_(key, images.c.seq) > tuple_(cursor[0], after))
    backwards = cursor is None and offset > total // 2 and offset < total
    if backwards:
        # The same rows, read from the end: every part of the order reversed, then the rows.
        limit = min(limit, total - offset)
        offset = total - offset - limit
        descending = not descending
    tie = images.c.seq.desc() if backwards else images.c.seq.asc()
    unfiltered = query.whole_queue and query.label is None and not query.unlabelled
    if (
        key is not None
        and cursor is None
        and descending != backwards
        and unfiltered
        and offset >= _SKIP_WALK
    ):
        # The key one way, its ties the other: the index holds neither order, so OFFSET made
        # the database sort every tie it stepped over (0.25 s at a million images for a jump
        # to the middle by file descending, whose names repeat in every visit). The row's key
        # is found on the index in its own order (both parts one way: no sort, no table row),
        # the rows of the keys before it counted there too; then only that key's ties are
        # sorted and stepped over.
        pure = key.desc() if descending else key.asc()
        pure_tie = images.c.seq.desc() if descending else images.c.seq.asc()
        present = images.c.seq.is_not(None)
        found = _key_at(conn, select(key).where(present).order_by(pure, pure_tie), offset)
        if found is not None:
            bound, before = found
            if before is None:
                earlier = key > bound if descending else key < bound
                before = _count(conn, select(images.c.id).where(present, earlier))
            statement = statement.where(key <= bound if descending else key >= bound)
            offset -= before
    if key is None:
        order = [images.c.seq.desc() if descending else images.c.seq.asc()]
    else:
        order = [key.desc() if descending else key.asc(), tie]
    statement = statement.order_by(*order).offset(offset).limit(limit)
    ids = [int(r[0]) for r in conn.execute(statement)]
    return ids[::-1] if backwards else ids


_LABEL_KEYS = {"case": labels.c.case_key, "visit": labels.c.visit_key, "file": labels.c.file_key}
"""The image's name keys copied onto its labels (migration 0014), indexed after the label."""


def _label_keyed_window(
    conn: Connection,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    *,
    who: int,
    offset: int,
    limit: int,
    total: int,
    known: tuple[Any] | None = None,
) -> list[int]:
    """Image ids of a window by case, visit or file filtered by one label, key by key.

    Walking the images' (key, seq) index to a deep row probed the label of every image
    stepped over (0.55 s at a million images for a jump to the middle by file); descending,
    whose ties run in queue order the other way, the database sorted every tie of the keys it
    read (0.15 s for a first window by visit). Here the row's key is found by OFFSET on the
    label's range of the labels' (annotator, frame, label, key) index alone, the present rows
    before it counted there less the gone images' (`_skip_on_index`'s way), and the window is
    read one key at a time: that key's images in queue order on the images' (key, seq) index,
    each probing its label, then the label's next key on the labels' index. Only the ties of
    the row's key are stepped over. Queue positions are not on `labels` (a rescan renumbers
    them), so a key shared by very many images (a visit name repeated in every case) still
    steps over its own ties image by image.
    """
    assert query.label is not None
    key, copied = _KEYED_SORTS[query.sort], _LABEL_KEYS[query.sort]
    cursor = known
    if query.after is not None and cursor is None:
        cursor = conn.execute(select(key).where(images.c.seq == query.after)).first()
    # A jump into the second half reads the order backwards from its end (keys and ties both
    # reversed): the last window steps over no tie of a key that many images share.
    backwards = cursor is None and total // 2 < offset < total
    if backwards:
        limit = min(limit, total - offset)
        offset = total - offset - limit
    descending = query.descending != backwards
    own = select(copied).where(
        labels.c.annotator_id == who, labels.c.frame == 0, labels.c.label == query.label
    )
    ordered = own.order_by(copied.desc() if descending else copied.asc())

    def beyond(bound: Any) -> ColumnElement[bool]:
        after_bound: ColumnElement[bool] = copied < bound if descending else copied > bound
        return after_bound

    bound: Any = None
    after: int | None = None
    skip = offset
    if cursor is not None:
        bound, after, skip = cursor[0], query.after, 0
    elif offset >= _SKIP_WALK:
        found = _key_at(conn, ordered, offset)
        if found is None:
            return []
        bound, before = found
        earlier = copied > bound if descending else copied < bound
        if before is None:
            before = _count(conn, own.where(earlier))
        # The label's range holds gone images' labels too (few; each probes its own label).
        gone = _count(
            conn,
            select(images.c.id).where(
                images.c.seq.is_(None),
                key > bound if descending else key < bound,
                _own_label(who, _OWN.c.label == query.label),
            ),
        )
        skip = offset - (before - gone)
    else:
        first = conn.execute(ordered.limit(1)).first()
        if first is None:
            return []
        bound = first[0]
    tie = images.c.seq.desc() if backwards else images.c.seq.asc()
    ids: list[int] = []
    while len(ids) < limit:
        group = select(images.c.id).where(*filters, key == bound)
        if after is not None:
            group = group.where(images.c.seq > after)
        rows = [
            int(r[0])
            for r in conn.execute(group.order_by(tie).offset(skip).limit(limit - len(ids)))
        ]
        if skip and not rows:
            skip -= min(skip, _count(conn, group))
        else:
            skip = 0
        ids += rows
        after = None
        following = conn.execute(ordered.where(beyond(bound)).limit(1)).first()
        if len(ids) >= limit or following is None:
            break
        bound = following[0]
    return ids[::-1] if backwards else ids


def _position_window(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    *,
    offset: int,
    limit: int,
    total: int,
) -> list[int]:
    """Image ids of the unfiltered window by position.

    Positions are 1..N over the present images without gaps (schema.images.seq): the window is
    a range on the seq index, with no OFFSET to step over."""
    descending = query.descending
    first, last = (
        (total - offset - limit + 1, total - offset) if descending else (offset + 1, offset + limit)
    )
    statement = (
        select(images.c.id)
        .select_from(joined)
        .where(*filters, images.c.seq >= first, images.c.seq <= last)
        .order_by(images.c.seq.desc() if descending else images.c.seq.asc())
        .limit(limit)
    )
    return [int(r[0]) for r in conn.execute(statement)]


def _label_window(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    *,
    offset: int,
    limit: int,
    who: int,
    total: int,
    known: tuple[Any] | None = None,
) -> list[int]:
    """Image ids of the window sorted by label (label groups in natural order, each in queue
    order) or by annotator (labelled ones, then the others).

    A project has few labels, so the groups are few: each is read on the queue's index (with
    each image's label probed by the labels' key) and the window stops as soon as it is full.
    After a cursor the window starts in the cursor's group, right after its position; the first
    window needs no count at all; only a jump deep into the table counts the groups it skips.
    """
    groups = _label_groups(conn, who, descending=query.descending)
    if query.sort == "annotator":
        # The column shows this annotator's name or nothing: all labels are one group.
        named: list[str | None] = [v for values in groups for v in values if v is not None]
        groups = [[None], named] if query.descending else [named, [None]]
        groups = [values for values in groups if values]
    start, skip, after = 0, offset, None
    if query.after is not None:
        found = (
            known
            or conn.execute(
                select(labels.c.label).select_from(joined).where(images.c.seq == query.after)
            ).first()
        )
        if found is not None:
            start = next(i for i, values in enumerate(groups) if found[0] in values)
            skip, after = 0, query.after
    unfiltered = query.whole_queue and not query.unlabelled
    plain = unfiltered and query.label is None
    if skip and plain and query.sort == "annotator":
        # Two groups, labelled and not: the annotator's labelled count is kept.
        done = labelled_count(conn, annotator_id=who)
        sizes = [done if None not in values else total - done for values in groups]
        while start < len(groups) - 1 and skip >= sizes[start]:
            skip -= sizes[start]
            start += 1
    elif skip:
        sizes = _label_group_sizes(
            conn,
            joined,
            filters,
            groups,
            total=total,
            who=who if unfiltered and query.label is None else None,
        )
        while start < len(groups) - 1 and skip >= sizes[start]:
            skip -= sizes[start]
            start += 1
    ids: list[int] = []
    for values in groups[start:]:
        whole = values == [None] or (query.sort == "annotator" and None not in values)
        named = [v for v in values if v is not None]
        if plain and whole and after is None:
            # The unlabelled, or (by annotator) every labelled image, in queue order: the kept
            # counts per case find the group's skip-th row (`_nth_in_queue`), not a walk of the
            # queue past the others (the labelled come first in it, as annotators work).
            nth = _nth_in_queue(conn, who, skip, labelled=values != [None])
            if nth is not None:
                skip, after = 0, nth - 1
        elif plain and named and after is None:
            # One label's images (a few spellings of it): by the kept counts per case and label.
            nth = _nth_by_case(
                conn,
                skip,
                _per_case(conn, who, [str(v) for v in named]),
                _own_label(who, _OWN.c.label.in_(named)),
                counted=True,
            )
            if nth is not None:
                skip, after = 0, nth - 1
        # A probe per image read: the queue's index drives (see _filters, _own_label).
        member = ~_own_label(who) if not named else _own_label(who, _OWN.c.label.in_(named))
        statement = select(images.c.id).select_from(joined).where(*filters, member)
        if after is not None:
            statement = statement.where(images.c.seq > after)
            after = None
        statement = statement.order_by(images.c.seq).offset(skip).limit(limit - len(ids))
        skip = 0
        ids += [int(r[0]) for r in conn.execute(statement)]
        if len(ids) >= limit:
            break
    return ids


def _nth_in_queue(conn: Connection, who: int, nth: int, *, labelled: bool) -> int | None:
    """The queue position of this annotator's `nth` (from 0) labelled or unlabelled image in
    queue order, or None past the last.

    A jump deep into the unlabelled images (or, by annotator, the labelled ones) walked the
    queue's index to its offset, probing each image's label: seconds at a million images. The
    kept counts say how many images each case has (`queue_visits`) and how many of them this
    annotator labelled (`case_labelled`): `_nth_by_case` finds the row from those.
    """
    done = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            select(case_labelled.c.case_name, case_labelled.c.labelled).where(
                case_labelled.c.annotator_id == who
            )
        )
    }
    own = _own_label(who)
    return _nth_by_case(conn, nth, done, own if labelled else ~own, counted=labelled)


def _nth_untimed(conn: Connection, actor: str, nth: int) -> int | None:
    """The queue position of the `nth` (from 0) image without time of `actor`, in queue order,
    by the kept timed images per case (`case_timed`, store.seconds); None past the last."""
    timed = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            select(case_timed.c.case_name, case_timed.c.timed).where(case_timed.c.actor == actor)
        )
    }
    has_time = (
        select(image_seconds.c.image_id)
        .where(image_seconds.c.image_id == images.c.id, image_seconds.c.actor == actor)
        .exists()
    )
    return _nth_by_case(conn, nth, timed, ~has_time, counted=False)


def _per_case(
    conn: Connection,
    who: int,
    values: Sequence[str] | None,
    *,
    commented: bool = False,
    column: Any = None,
) -> dict[str, int]:
    """This annotator's present images per case with a whole-file label among `values` (None:
    any), or (`commented`) of those, the ones with a comment, or another kept `column`: kept
    per case and label (`case_label_counts`, store.label_counts), a row per case and label."""
    if column is None:
        column = case_label_counts.c.commented if commented else case_label_counts.c.labelled
    statement = select(case_label_counts.c.case_name, func.sum(column)).where(
        case_label_counts.c.annotator_id == who
    )
    if values is not None:
        statement = statement.where(case_label_counts.c.label.in_(values))
    return {
        str(r[0]): int(r[1] or 0)
        for r in conn.execute(statement.group_by(case_label_counts.c.case_name)).all()
    }


def _kept_label_totals(conn: Connection, who: int, values: Sequence[str] | None) -> dict[str, int]:
    """This annotator's present images per whole-file label (among `values`, or all), added up
    from the kept counts per case and label: a row per case and label, not one per label."""
    statement = select(case_label_counts.c.label, func.sum(case_label_counts.c.labelled)).where(
        case_label_counts.c.annotator_id == who
    )
    if values is not None:
        statement = statement.where(case_label_counts.c.label.in_(values))
    found = conn.execute(statement.group_by(case_label_counts.c.label)).all()
    return {str(r[0]): int(r[1] or 0) for r in found if r[1]}


_FEW_CASES_READ = 20_000
"""Images read at most, case by case, to gather the unlabelled images with time."""
_IN_CASES = 400  # case names per statement: under every driver's limit on bound values


def _timed_unlabelled(conn: Connection, who: int, actor: str) -> list[tuple[Any, int, int]] | None:
    """Every present image with `actor`'s kept time and no whole-file label of this annotator,
    as (ms, position, id): only the cases whose kept counts say they hold one are read (timed
    less timed and labelled, per case). None when those cases hold more than `_FEW_CASES_READ`
    images (the caller then walks the key's index)."""
    timed = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            select(case_timed.c.case_name, case_timed.c.timed).where(case_timed.c.actor == actor)
        ).all()
    }
    for case, both in _per_case(conn, who, None, column=case_label_counts.c.timed).items():
        timed[case] = timed.get(case, 0) - both
    wanted = sorted(case for case, n in timed.items() if n > 0)
    if not wanted:
        return []
    if len(wanted) > _IN_CASES:
        return None
    ranges = [
        (int(r[0]), int(r[1]))
        for r in conn.execute(
            select(func.min(queue_visits.c.first_seq), func.sum(queue_visits.c.total))
            .where(queue_visits.c.case_name.in_(wanted))
            .group_by(queue_visits.c.case_name)
        ).all()
    ]
    if sum(size for _, size in ranges) > _FEW_CASES_READ:
        return None
    found: list[tuple[Any, int, int]] = []
    on = and_(image_seconds.c.image_id == images.c.id, image_seconds.c.actor == actor)
    # The case's range of the queue drives, each image probing its time (a subquery): joined,
    # the planner started from every kept time of the actor (0.3 s at a million images).
    ms = select(image_seconds.c.active_ms).where(on).scalar_subquery()
    for first, size in ranges:
        found += [
            (r[0], int(r[1]), int(r[2]))
            for r in conn.execute(
                select(ms, images.c.seq, images.c.id).where(
                    images.c.seq >= first,
                    images.c.seq < first + size,
                    select(image_seconds.c.image_id).where(on).exists(),
                    ~_own_label(who),
                )
            ).all()
        ]
    return found


def _untimed_unlabelled_others(conn: Connection, who: int, actor: str) -> dict[str, int]:
    """Per case, the images that are not both unlabelled and without time: labelled or timed
    (labelled + timed - labelled and timed), from the kept counts per case."""
    others = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            select(case_labelled.c.case_name, case_labelled.c.labelled).where(
                case_labelled.c.annotator_id == who
            )
        ).all()
    }
    for r in conn.execute(
        select(case_timed.c.case_name, case_timed.c.timed).where(case_timed.c.actor == actor)
    ).all():
        others[str(r[0])] = others.get(str(r[0]), 0) + int(r[1])
    for case, both in _per_case(conn, who, None, column=case_label_counts.c.timed).items():
        others[case] = others.get(case, 0) - both
    return others


def _nth_by_case(
    conn: Connection,
    nth: int,
    kept: dict[str, int],
    member: ColumnElement[bool],
    *,
    counted: bool,
) -> int | None:
    """The queue position of the `nth` (from 0) image meeting `member`, in queue order, given
    `kept`: how many images of each case are counted (`counted`: those meeting `member`; else
    those not meeting it). A case's images are one run of positions (the scan walks case by
    case) whose start and size the visits give (`queue_visits`): the case holding the row is
    found by adding up a row per case, and only inside it are images read (a case's few hundred
    at most). None past the last, or if the kept counts disagreed (the caller then walks).
    """
    # A row per case, added up from its visits (consecutive: the scan walks case by case) by
    # the database on the visits' key and fetched at once, then put in queue order here (a
    # sort of the cases, not the visits): fetched a visit at a time, the 20,000 visits of a
    # million images cost 0.1 s in Python alone.
    cases = sorted(
        conn.execute(
            select(
                queue_visits.c.case_name,
                func.min(queue_visits.c.first_seq),
                func.sum(queue_visits.c.total),
            ).group_by(queue_visits.c.case_name)
        ).all(),
        key=lambda row: int(row[1]),
    )
    for case_name, first_seq, total in cases:
        first, size = int(first_seq), int(total)
        # Kept counts edited by hand: a case holds no fewer than none and no more than all.
        members = min(max(kept.get(case_name, 0), 0), size)
        members = members if counted else size - members
        if nth >= members:
            nth -= members
            continue
        found = conn.execute(
            select(images.c.seq)
            .where(images.c.seq >= first, images.c.seq < first + size, member)
            .order_by(images.c.seq)
            .offset(nth)
            .limit(1)
        ).scalar()
        return None if found is None else int(found)
    return None


def _label_groups(conn: Connection, who: int, *, descending: bool) -> list[list[str | None]]:
    """This annotator's label values in display order, equal-but-for-case ones together, and the
    unlabelled (None) last ascending, first descending. Found by stepping through the labels'
    index one distinct value at a time: a probe per label, not a read of every label."""
    values: list[str] = []
    step = select(func.min(labels.c.label)).where(
        labels.c.annotator_id == who, labels.c.frame == 0, labels.c.label > bindparam("v")
    )
    last = ""
    while (found := conn.execute(step, {"v": last}).scalar()) is not None:
        values.append(str(found))
        last = str(found)
    merged = [values_ for values_, _ in _ranked([(v, 0) for v in values], descending=descending)]
    return [[None], *merged] if descending else [*merged, [None]]


def _label_group_sizes(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    groups: list[list[str | None]],
    *,
    total: int,
    who: int | None,
) -> list[int]:
    """Rows of each label group that pass the filters (for a jump deep into the table).

    Unfiltered (`who` given), the kept counts per case and label add them up
    (`_kept_label_totals`)."""
    if who is not None:
        counted: dict[str | None, int] = {
            value: count for value, count in _kept_label_totals(conn, who, None).items()
        }
    else:
        counted = {
            row[0]: int(row[1])
            for row in conn.execute(
                select(labels.c.label, func.count())
                .select_from(joined)
                .where(*filters, labels.c.id.is_not(None))
                .group_by(labels.c.label)
            )
        }
    labelled = sum(counted.values())
    return [
        total - labelled if values == [None] else sum(counted.get(v, 0) for v in values)
        for values in groups
    ]


def _frames_window(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    *,
    offset: int,
    limit: int,
    who: int,
    total: int,
    known: tuple[Any] | None = None,
) -> list[int]:
    """Image ids of the window sorted by frame labels: images without any (they showed empty
    text, first ascending) in queue order, then those with frame labels by their first labelled
    frame, that frame's label, then queue order.

    Frame labels are few (multi-frame files only), so the second group is gathered and sorted
    from the labels' index: its cost follows the frame labels, not the images. The first group
    is read on the queue's index, probing each image's frame labels by key, and stops when the
    window is full; a jump past it counts the second group only.
    """
    descending = query.descending
    framed_labels = _ALIAS_FRAMES
    earlier = labels.alias("earlier_frame_label")
    # Each image's first labelled frame: its frame label with none before it (the key is
    # unique: one row per image). Without GROUP BY, the range of the labels' (annotator, frame)
    # index drives, not a walk of every label grouped by image.
    first = (
        select(
            framed_labels.c.image_id.label("image_id"),
            framed_labels.c.frame.label("frame"),
        )
        .where(
            framed_labels.c.annotator_id == who,
            framed_labels.c.frame > 0,
            ~select(earlier.c.id)
            .where(
                earlier.c.image_id == framed_labels.c.image_id,
                earlier.c.annotator_id == who,
                earlier.c.frame > 0,
                earlier.c.frame < framed_labels.c.frame,
            )
            .exists(),
        )
        .subquery("first_frames")
    )
    at_first = labels.alias("first_frame_label")
    first_label = (
        select(func.min(at_first.c.label))
        .where(
            at_first.c.image_id == first.c.image_id,
            at_first.c.annotator_id == who,
            at_first.c.frame == first.c.frame,
        )
        .scalar_subquery()
    )
    framed = first.join(images, images.c.id == first.c.image_id).outerjoin(
        labels, _whole_file_label(who)
    )
    has_frames = (
        select(framed_labels.c.id)
        .where(
            framed_labels.c.image_id == images.c.id,
            framed_labels.c.annotator_id == who,
            framed_labels.c.frame > 0,
        )
        .exists()
    )
    bare_first = not descending
    unfiltered = query.whole_queue and query.label is None and not query.unlabelled

    def bare_rows(
        skip: int, count: int, after: int | None, *, backwards: bool = False
    ) -> list[int]:
        if after is None and not backwards and unfiltered and skip >= _SKIP_WALK:
            start = _nth_unframed(conn, who, skip)
            if start is not None:
                skip, after = 0, start - 1
        statement = select(images.c.id).select_from(joined).where(*filters, ~has_frames)
        if after is not None:
            statement = statement.where(images.c.seq > after)
        order = images.c.seq.desc() if backwards else images.c.seq.asc()
        statement = statement.order_by(order).offset(skip).limit(count)
        return [int(r[0]) for r in conn.execute(statement)]

    def framed_rows(skip: int, count: int, _after: int | None) -> list[int]:
        order = (
            [first.c.frame.desc(), first_label.desc()]
            if descending
            else [
                first.c.frame.asc(),
                first_label.asc(),
            ]
        )
        statement = (
            select(images.c.id)
            .select_from(framed)
            .where(*filters)
            .order_by(*order, images.c.seq.asc())
            .offset(skip)
            .limit(count)
        )
        return [int(r[0]) for r in conn.execute(statement)]

    readers: list[Callable[[int, int, int | None], list[int]]] = (
        [bare_rows, framed_rows] if bare_first else [framed_rows, bare_rows]
    )
    if query.after is not None:
        if known is not None:  # whether the row has frame labels, read by the check
            found: Any = None if known[0] else (query.after,)
        else:
            found = conn.execute(
                select(images.c.seq)
                .select_from(joined)
                .where(images.c.seq == query.after, ~has_frames)
            ).first()
        if found is not None:
            # The cursor is in the group without frame labels: right after it, then the other.
            ids = bare_rows(0, limit, query.after)
            if bare_first and len(ids) < limit:
                ids += framed_rows(0, limit - len(ids), None)
            return ids
    if offset:
        with_frames = int(
            conn.execute(select(func.count()).select_from(framed).where(*filters)).scalar_one()
        )
        first_size = total - with_frames if bare_first else with_frames
        if offset >= first_size:
            if not bare_first:
                return _from_end(bare_rows, offset - first_size, limit, total - first_size)
            return readers[1](offset - first_size, limit, None)
    ids = readers[0](offset, limit, None)
    if len(ids) < limit:
        ids += readers[1](0, limit - len(ids), None)
    return ids


_FEW_FRAMED = 50_000
"""Images with frame labels read whole to find a jump's row among those without (`_nth_unframed`);
more than this and the jump walks the queue."""


def _nth_unframed(conn: Connection, who: int, nth: int) -> int | None:
    """The queue position of the `nth` (from 0) image without frame labels of this annotator.

    Positions are 1..N without gaps (schema.images.seq), so it is nth + 1 pushed on past every
    image with frame labels at or before it. Those are few (multi-frame files only) and read on
    the labels' (annotator, frame) index: a jump into the images without frame labels walked
    the queue, probing each image's frame labels (0.25 s at a million images for the last
    window). None when there are too many to read (the caller then walks)."""
    framed = [
        int(r[0])
        for r in conn.execute(
            select(images.c.seq)
            .select_from(labels.join(images, images.c.id == labels.c.image_id))
            .where(labels.c.annotator_id == who, labels.c.frame > 0, images.c.seq.is_not(None))
            .distinct()
            .order_by(images.c.seq)
            .limit(_FEW_FRAMED + 1)
        )
    ]
    if len(framed) > _FEW_FRAMED:
        return None
    position = nth + 1
    for seq in framed:
        if seq > position:
            break
        position += 1
    return position


@dataclass(frozen=True, slots=True)
class _KeptKey:
    """A sort key kept per (annotator, image) in a table of its own or the labels: images with
    a key are read on its index, the others (the empty group) in queue order."""

    key: Any
    """The key column (NULL or no row: empty)."""
    outer: Any
    """images joined (outer) to the key's table: the cursor's key is read through it."""
    inner: Any
    """The key's table joined (inner) to images and (outer) to the whole-file labels: the keyed
    group's windows and count, driven by the key's index."""
    keyed: ColumnElement[bool]
    """A window's row has a key: a probe of the key's table by its primary key."""
    empty_first: bool
    """The empty group comes first ascending (the comment: the empty text sorted first)."""
    nth_empty: Callable[[int], int | None] | None = None
    """Unfiltered, the position of the nth image of the empty group, from kept counts."""
    keyed_total: Callable[[], int] | None = None
    """Unfiltered, the images with a key, from kept counts."""
    nth_empty_unlabelled: Callable[[int], int | None] | None = None
    """With the unlabelled filter alone, `nth_empty` among the unlabelled images."""
    keyed_total_unlabelled: Callable[[], int] | None = None
    """With the unlabelled filter alone, the unlabelled images with a key, from kept counts."""
    keyed_unlabelled: Callable[[], list[tuple[Any, int, int]] | None] | None = None
    """With the unlabelled filter alone, every unlabelled image with a key as (key, position,
    id), found by case from kept counts; None when they are too many to read so."""
    key_of: Any = None
    """The key of the outer query's image (a correlated scalar subquery): the gone images
    probe theirs, so that the gone images drive the count of those before a key."""
    own_keys: Select[Any] | None = None
    """The annotator's keys alone, on the key's index (gone images' too): a jump without a
    cursor skips there, reading no table row (`_skip_on_index`)."""


def _comment_key(conn: Connection, who: int) -> _KeptKey:
    key = labels.c.comment_key
    commented = _OWN.c.comment_key.is_not(None)
    return _KeptKey(
        key=key,
        outer=images.outerjoin(labels, _whole_file_label(who)),
        # An inner join, so the comment index can drive: commented rows all have a label.
        inner=labels.join(images, _whole_file_label(who)),
        keyed=_own_label(who, commented),
        empty_first=True,
        # The images without a comment, in queue order: found by the kept commented images
        # per case (`case_label_counts`), not by walking the queue past the commented ones.
        nth_empty=lambda nth: _nth_by_case(
            conn,
            nth,
            _per_case(conn, who, None, commented=True),
            ~_own_label(who, commented),
            counted=False,
        ),
        keyed_total=lambda: sum(_per_case(conn, who, None, commented=True).values()),
        key_of=select(_OWN.c.comment_key)
        .where(_OWN.c.image_id == images.c.id, _OWN.c.annotator_id == who, _OWN.c.frame == 0)
        .scalar_subquery(),
        own_keys=select(key).where(
            labels.c.annotator_id == who, labels.c.frame == 0, key.is_not(None)
        ),
    )


def _seconds_key(conn: Connection, who: int, annotator: str) -> _KeptKey:
    kept = image_seconds
    on = and_(kept.c.image_id == images.c.id, kept.c.actor == annotator)
    timed = select(kept.c.image_id).where(on).exists()

    def timed_total() -> int:
        found = conn.execute(
            select(func.sum(case_timed.c.timed)).where(case_timed.c.actor == annotator)
        ).scalar()
        return int(found or 0)

    return _KeptKey(
        key=kept.c.active_ms,
        outer=images.outerjoin(kept, on),
        inner=kept.join(images, on).outerjoin(labels, _whole_file_label(who)),
        keyed=timed,
        empty_first=False,
        # The images without time come first descending, and are those an annotator has not
        # reached yet: usually after every timed one. Found by case, not by walking past those.
        nth_empty=lambda nth: _nth_untimed(conn, annotator, nth),
        keyed_total=timed_total,
        # The unlabelled images with time are those timed less those timed and labelled (kept
        # per case and label): usually none, whose group is then not walked at all.
        nth_empty_unlabelled=lambda nth: _nth_by_case(
            conn,
            nth,
            _untimed_unlabelled_others(conn, who, annotator),
            ~_own_label(who) & ~timed,
            counted=False,
        ),
        keyed_total_unlabelled=lambda: (
            timed_total()
            - sum(_per_case(conn, who, None, column=case_label_counts.c.timed).values())
        ),
        keyed_unlabelled=lambda: _timed_unlabelled(conn, who, annotator),
        own_keys=select(kept.c.active_ms).where(kept.c.actor == annotator),
        key_of=select(kept.c.active_ms).where(on).scalar_subquery(),
    )


def _kept_key_window(
    conn: Connection,
    joined: Any,
    filters: list[ColumnElement[bool]],
    query: ReviewQuery,
    kept: _KeptKey,
    *,
    offset: int,
    limit: int,
    who: int,
    total: int,
    known: tuple[Any] | None = None,
) -> list[int]:
    """Image ids of the window sorted by a kept key (comment, seconds), in two groups: images
    without one (no label or an empty comment; no time) in queue order, first ascending for a
    comment (the empty text sorted first) and last ascending for seconds (no time sorted last),
    and those with one by the key, ties in queue order.

    The empty group is read on the queue's index, the keyed one on the key's index
    (`labels.comment_key`, migration 0010; `image_seconds`, migration 0012), each stopping
    when the window is full; a cursor starts in its row's group right after it; only a jump
    past the first group counts the keyed rows (one range of the key's index).
    """
    descending = query.descending
    key = kept.key
    bare = [*filters, ~kept.keyed]
    keyed = [*filters, key.is_not(None)]
    bare_first = kept.empty_first != descending
    cursor_key: Any = None
    in_bare: bool | None = None
    if query.after is not None:
        found = (query.after, known[0]) if known is not None else None
        found = (
            found
            or conn.execute(
                select(images.c.seq, key).select_from(kept.outer).where(images.c.seq == query.after)
            ).first()
        )
        if found is not None:
            in_bare, cursor_key, offset = found[1] is None, found[1], 0

    unfiltered = query.label is None and not query.unlabelled and query.whole_queue
    only_unlabelled = query.unlabelled and query.whole_queue
    nth_empty = (
        kept.nth_empty if unfiltered else kept.nth_empty_unlabelled if only_unlabelled else None
    )
    keyed_total = (
        kept.keyed_total if unfiltered else kept.keyed_total_unlabelled if only_unlabelled else None
    )
    few_keyed: list[list[tuple[Any, int, int]] | None] = []

    def bare_rows(
        skip: int, count: int, after: int | None, *, backwards: bool = False
    ) -> list[int]:
        if after is None and not backwards and nth_empty is not None:
            # Start at the skip-th image of the group, found from kept counts per case.
            start = nth_empty(skip)
            if start is not None:
                skip, after = 0, start - 1
        statement = select(images.c.id).select_from(joined).where(*bare)
        if after is not None:
            statement = statement.where(images.c.seq > after)
        order = images.c.seq.desc() if backwards else images.c.seq.asc()
        statement = statement.order_by(order).offset(skip).limit(count)
        return [int(r[0]) for r in conn.execute(statement)]

    def keyed_rows(
        skip: int, count: int, after: int | None, *, backwards: bool = False
    ) -> list[int]:
        if only_unlabelled and kept.keyed_unlabelled is not None:
            # The unlabelled images with a key are found by case from kept counts (time is
            # spent on the images one labels: they are few), not by walking the key's index.
            if not few_keyed:
                few_keyed.append(kept.keyed_unlabelled())
            found_few = few_keyed[0]
            if found_few is not None:
                # The order asked: by key, ties in queue order (backwards: all reversed).
                rows = sorted(found_few, key=lambda r: r[1], reverse=backwards)
                rows = sorted(rows, key=lambda r: r[0], reverse=descending != backwards)
                if after is not None and cursor_key is not None:
                    rows = [
                        r
                        for r in rows
                        if (r[0] < cursor_key if descending else r[0] > cursor_key)
                        or (r[0] == cursor_key and r[1] > after)
                    ]
                return [r[2] for r in rows[skip : skip + count]]
        statement = select(images.c.id).select_from(kept.inner).where(*keyed)
        if after is None and unfiltered and kept.own_keys is not None and skip >= _SKIP_WALK:
            # A jump: the key the row has, found on the key's index alone; then only the rows
            # of that key before it are stepped over (`_skip_on_index`).
            found = _skip_on_index(conn, kept, skip, descending=descending != backwards)
            if found is not None:
                bound, skip = found
                statement = statement.where(
                    key <= bound if descending != backwards else key >= bound
                )
        if after is not None and cursor_key is not None:
            if descending:
                statement = statement.where(
                    key <= cursor_key, or_(key < cursor_key, images.c.seq > after)
                )
            else:
                statement = statement.where(
                    key >= cursor_key, or_(key > cursor_key, images.c.seq > after)
                )
        # Backwards: the same order with every part reversed (read from the group's end).
        order = key.desc() if descending != backwards else key.asc()
        tie = images.c.seq.desc() if backwards else images.c.seq.asc()
        statement = statement.order_by(order, tie).offset(skip).limit(count)
        return [int(r[0]) for r in conn.execute(statement)]

    readers: list[Callable[[int, int, int | None], list[int]]] = (
        [bare_rows, keyed_rows] if bare_first else [keyed_rows, bare_rows]
    )
    if in_bare is not None:
        # The cursor's group, right after its row, then the group after it (if any).
        first = 0 if in_bare == bare_first else 1
        ids = readers[first](0, limit, query.after)
        if first == 0 and len(ids) < limit:
            ids += readers[1](0, limit - len(ids), None)
        return ids
    if offset:
        with_key = (
            keyed_total()
            if keyed_total is not None
            else int(
                conn.execute(
                    select(func.count())
                    .select_from(kept.inner)
                    .where(*_filters(query, who=who, counting=True), key.is_not(None))
                ).scalar_one()
            )
        )
        first_size = total - with_key if bare_first else with_key
        if offset >= first_size:
            # The second group, read from its end when that is nearer (the last window: none
            # of its rows stepped over).
            second = bare_rows if not bare_first else keyed_rows
            return _from_end(second, offset - first_size, limit, total - first_size)
    ids = readers[0](offset, limit, None)
    if len(ids) < limit:
        ids += readers[1](0, limit - len(ids), None)
    return ids


_SKIP_WALK = 1000
"""A jump stepping over fewer rows than this walks them (cheaper than the index's look-ups)."""


def _skip_on_index(
    conn: Connection, kept: _KeptKey, skip: int, *, descending: bool
) -> tuple[Any, int] | None:
    """Where the `skip`-th present row of the keyed group (by key, then queue order) lies: its
    key and how many rows of that key (and of keys after it, none) come before it.

    The group's order walked with OFFSET joined each stepped-over row to its image (its queue
    position breaks ties; gone images are left out): 0.3-0.5 s at a million images for a jump
    to the middle. The annotator's keys alone are one range of the key's index: OFFSET there
    reads no table row (a few ms). That range holds the keys of gone images too, so it finds a
    key at or after the row's; the rows before that key are counted on the same index, less
    the gone images' (few: a range of the queue's index, `seq IS NULL`, each probing its key),
    and the window then steps over the rest of the row's key only.
    """
    assert kept.own_keys is not None
    key = kept.key
    ordered = kept.own_keys.order_by(key.desc() if descending else key.asc())
    found = _key_at(conn, ordered, skip)
    if found is None:
        return None
    bound, on_index = found
    if on_index is None:
        earlier = key > bound if descending else key < bound
        on_index = _count(conn, kept.own_keys.where(earlier))
    # The gone images drive (the queue's index, `seq IS NULL`), each probing its key: joined,
    # the planner started from the key's range and probed every image (0.4 s at a million).
    gone_key = kept.key_of
    gone = _count(
        conn,
        select(images.c.id).where(
            images.c.seq.is_(None), gone_key > bound if descending else gone_key < bound
        ),
    )
    return bound, skip - (on_index - gone)


_TIES_READ = 1000
"""Keys read before a jump's row to count the ties before it without a second walk."""


def _key_at(conn: Connection, ordered: Select[Any], skip: int) -> tuple[Any, int | None] | None:
    """The key of the `skip`-th row of `ordered` (one key column, read on an index alone) and
    how many rows have a key before it, or None there when the key's ties before the row are
    more than `_TIES_READ` (the caller counts them); None past the last row.

    The keys from `_TIES_READ` rows before the row up to it are read in one OFFSET (no longer
    than reading the row's alone): the row's ties among them are those before it, so the rows
    with a key before it are the rest, with no count of the range before the key."""
    start = max(skip - _TIES_READ, 0)
    keys = list(conn.execute(ordered.offset(start).limit(skip - start + 1)).scalars())
    if len(keys) < skip - start + 1:
        return None
    bound = keys[-1]
    ties = 0
    while ties < len(keys) - 1 and keys[-2 - ties] == bound:
        ties += 1
    if start and ties == len(keys) - 1:
        return bound, None  # every key read is a tie: more before, uncounted
    return bound, skip - ties


def _count(conn: Connection, rows: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(rows.subquery())).scalar_one())


def _from_end(rows: Callable[..., list[int]], skip: int, limit: int, size: int) -> list[int]:
    """Rows [skip, skip + limit) of a group of `size` read in its order; from its end (the order
    backwards) when that steps over fewer rows: a deep jump into the group last in the order
    then reads a few rows, not the group."""
    if skip <= size // 2:
        return rows(skip, limit, None)
    count = max(min(limit, size - skip), 0)
    return rows(size - skip - count, count, None, backwards=True)[::-1]


def _ranked(groups: Sequence[Any], *, descending: bool) -> list[tuple[list[str | None], int]]:
    """Groups of values in display order with their row counts.

    Values equal but for letter case (`Img1`, `img1`) form one group, as they tied in the page's
    old sort: their rows then follow queue order together.
    """
    named = [(str(g[0]), int(g[1])) for g in groups if g[0] is not None]
    named.sort(key=lambda g: natural_key(g[0]), reverse=descending)
    merged: list[tuple[list[str | None], int]] = []
    previous: object = None
    for value, count in named:
        # natural_key's first part is case-folded with numbers as ints: the tie that merges.
        key = natural_key(value)[0]
        if merged and key == previous:
            merged[-1][0].append(value)
            merged[-1] = (merged[-1][0], merged[-1][1] + count)
        else:
            merged.append(([value], count))
        previous = key
    empty: list[tuple[list[str | None], int]] = [
        ([None], int(g[1])) for g in groups if g[0] is None
    ]
    return [*empty, *merged] if descending else [*merged, *empty]


def _rows(
    conn: Connection, ids: list[int], *, who: int, annotator: str | None, sort: str
) -> list[ReviewRow]:
    """The rows of `ids`, in that order, with this annotator's frame labels and each row's
    `cursor` in the order `sort`."""
    if not ids:
        return []
    key = _sort_key(sort, who, annotator)
    found = {
        int(r[0]): r
        for r in conn.execute(
            select(
                images.c.id,
                images.c.seq,
                images.c.case_name,
                images.c.visit,
                images.c.file,
                labels.c.label,
                labels.c.comment,
                image_seconds.c.active_ms,
                *([] if key is None else [key]),
            )
            .select_from(
                images.outerjoin(labels, _whole_file_label(who)).outerjoin(
                    image_seconds,
                    and_(
                        image_seconds.c.image_id == images.c.id,
                        image_seconds.c.actor == (annotator or ""),
                    ),
                )
            )
            .where(images.c.id.in_(ids))
        )
    }
    frames = frame_labels_of(conn, image_ids=list(ids), annotator_id=None if who < 0 else who)
    drawn = region_counts(conn, list(ids), annotator_id=None if who < 0 else who)
    rows: list[ReviewRow] = []
    for image_id in ids:
        r = found[image_id]
        rows.append(
            ReviewRow(
                image_id=image_id,
                position=int(r[1]),
                case=r[2],
                visit=r[3],
                file=r[4],
                label=r[5],
                comment=r[6] or "",
                annotator=annotator if r[5] is not None else None,
                seconds=None if r[7] is None else int(r[7]) / 1000.0,
                frame_labels=tuple(frames.get(image_id, ())),
                regions=drawn.get(image_id, 0),
                cursor=_cursor_token(sort, image_id, None if key is None else r[8]),
            )
        )
    return rows


def case_names(conn: Connection) -> list[str]:
    """Cases of the queue in queue order, which is their natural order: read from the visits
    the scan keeps (`store.case_counts`, a row per visit), not grouped over every image."""
    statement = (
        select(queue_visits.c.case_name)
        .group_by(queue_visits.c.case_name)
        .order_by(func.min(queue_visits.c.first_seq))
    )
    return [str(r[0]) for r in conn.execute(statement)]
