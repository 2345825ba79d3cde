"""Every review window, by jump and by cursor, against a plain Python sort of the same rows.

A synthetic project with random labels (NA with comments, spellings equal but for case,
unlabelled images, three annotators), kept active time, frame labels on some images, several
cases and one case gone from the batch. Every (sort, direction, filter) is checked at its first,
middle and last windows and a few offsets between, by offset (a jump: the scroll bar, "go to
row") and by keyset (`after`, as the page scrolls), against the rows sorted in Python the way
the page's old in-browser sort did. Then labels, comments, time and frame labels change between
two windows, and the jumps right after the change must show the changed order exactly (no row
twice, none skipped). Both with the jumps' shortcuts taken at every offset (`_SKIP_WALK` = 0)
and only deep (the default), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinlabel.discovery.naming import natural_key
from clinlabel.domain import ImageKind, ImageRef
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people, review
from clinlabel.store.label_counts import _PER_LABEL_NOW
from clinlabel.store.review import REVIEW_SORTS, ReviewQuery, review_page
from clinlabel.store.schema import case_label_counts, images, labels
from clinlabel.store.seconds import add_event_time
from clinlabel.store.store import Store

WHO = "alice"
CASES = ["Case_1", "case_2", "Case_10", "Case_3", "Case_20"]
GONE_CASE = "Case_3"
LABELS = ["NA", "Suspicious", "Non-Suspicious", "na"]
COMMENTS = ["", "", "blurred", "Blurred", "retake 2", "retake 10", "motion #3", "x"]
WINDOW = 7


def _refs(rng: random.Random) -> list[ImageRef]:
    """Images case by case (as the scan walks), names that sort wrong as plain text."""
    refs: list[ImageRef] = []
    for case in CASES:
        for visit_no in (2, 10, 1)[: rng.randint(2, 3)]:
            visit = f"Visit_{visit_no}"
            for index in range(rng.randint(8, 20)):
                name = rng.choice(["img", "Img", "scan"]) + f"{index}." + rng.choice(["jpg", "png"])
                refs.append(
                    ImageRef(
                        relpath=f"{case}/{visit}/XC/{name}",
                        case=case,
                        visit=visit,
                        folder="XC",
                        file=f"XC/{name}",
                        kind=ImageKind.RASTER,
                        size=9,
                        mtime_ns=1,
                    )
                )
    return refs


@dataclass
class Model:
    """What was written, kept in Python: the oracle's own record of every image's values."""

    who: int
    others: list[int]
    rng: random.Random
    label: dict[int, tuple[str, str]] = field(default_factory=dict)
    ms: dict[int, int] = field(default_factory=dict)
    frames: dict[int, dict[int, str]] = field(default_factory=dict)
    event: int = 0

    def put(self, conn: Any, image_id: int, label: str, comment: str, frame: int = 0) -> None:
        self.event += 1
        exists = image_id in self.label if frame == 0 else frame in self.frames.get(image_id, {})
        label_rows.put_label(
            conn,
            image_id=image_id,
            annotator_id=self.who,
            frame=frame,
            label=label,
            comment=comment,
            labelled_at="t",
            sha256=None,
            event_id=self.event,
            exists=exists,
        )
        if frame == 0:
            self.label[image_id] = (label, comment)
        else:
            self.frames.setdefault(image_id, {})[frame] = label

    def clear(self, conn: Any, image_id: int, frame: int = 0) -> None:
        label_rows.remove_label(conn, image_id=image_id, annotator_id=self.who, frame=frame)
        if frame == 0:
            self.label.pop(image_id, None)
        else:
            self.frames.get(image_id, {}).pop(frame, None)
            if not self.frames.get(image_id):
                self.frames.pop(image_id, None)

    def add_time(self, conn: Any, image_id: int, ms: int) -> None:
        add_event_time(conn, [{"actor": WHO, "image_id": image_id, "active_ms": ms}])
        self.ms[image_id] = self.ms.get(image_id, 0) + ms

    def values(self, image_id: int, sort: str, row: tuple[int, str, str, str]) -> Any:
        position, case, visit, file = row
        given = self.label.get(image_id)
        if sort == "frames":
            frames = self.frames.get(image_id)
            return None if not frames else (min(frames), frames[min(frames)])
        return {
            "position": position,
            "case": case,
            "visit": visit,
            "file": file,
            "label": None if given is None else given[0],
            "comment": "" if given is None else given[1],
            "annotator": None if given is None else WHO,
            "seconds": self.ms.get(image_id),
        }[sort]


def _compare(a: Any, b: Any, sort: str) -> int:
    """The page's old `compare`: natural, case-blind text; empty last (frames: first)."""
    if sort == "frames":
        if a is None or b is None:
            return (a is not None) - (b is not None)
        return (a > b) - (a < b)
    if a is None or b is None:
        return (a is None) - (b is None)
    if isinstance(a, str):
        a, b = natural_key(a)[0], natural_key(b)[0]
    return (a > b) - (a < b)


def _expected(
    conn: Any, model: Model, sort: str, descending: bool, filters: dict[str, Any]
) -> list[int]:
    present = {
        int(r[0]): (int(r[1]), str(r[2]), str(r[3]), str(r[4]))
        for r in conn.execute(
            select(
                images.c.id, images.c.seq, images.c.case_name, images.c.visit, images.c.file
            ).where(images.c.seq.is_not(None))
        )
    }
    kept = []
    for image_id, row in present.items():
        given = model.label.get(image_id)
        if "case" in filters and row[1] != filters["case"]:
            continue
        if filters.get("unlabelled") and given is not None:
            continue
        if "label" in filters and (given is None or given[0] != filters["label"]):
            continue
        kept.append((row[0], model.values(image_id, sort, row)))
    sign = -1 if descending else 1

    def order(x: tuple[int, Any], y: tuple[int, Any]) -> int:
        return sign * _compare(x[1], y[1], sort) or x[0] - y[0]

    return [p for p, _ in sorted(kept, key=functools.cmp_to_key(order))]


FILTERS: list[dict[str, Any]] = [
    {},
    {"label": "NA"},
    {"unlabelled": True},
    {"case": "Case_10"},
    {"case": "case_2", "label": "NA"},
]


@pytest.fixture(params=[0, None], ids=["shortcut-always", "shortcut-deep"])
def jump_from(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param is not None:
        monkeypatch.setattr(review, "_SKIP_WALK", request.param)


@pytest.fixture
def project(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Store, Model]]:
    rng = random.Random(14)
    store = Store.open_dir(tmp_path) if database_url is None else Store.open_url(database_url)
    refs = _refs(rng)
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, r) for i, r in enumerate(refs)]], now="t0"
        )
        model = Model(
            who=people.annotator_id(conn, WHO, now="t0"),
            others=[people.annotator_id(conn, name, now="t0") for name in ("bob", "carol")],
            rng=rng,
        )
        ids = [int(r[0]) for r in conn.execute(select(images.c.id).order_by(images.c.seq))]
        for image_id in ids:
            if rng.random() < 0.65:
                label = rng.choice(LABELS)
                comment = rng.choice(COMMENTS) if label in ("NA", "na") else rng.choice(["", "x"])
                model.put(conn, image_id, label, comment)
            if rng.random() < 0.5:
                model.add_time(conn, image_id, rng.choice([0, 1500, 1500, 2500, 9000, 12000]))
            if rng.random() < 0.1:
                for frame in rng.sample(range(1, 13), rng.randint(1, 3)):
                    model.put(conn, image_id, rng.choice(LABELS), "", frame=frame)
            for other in model.others:  # other annotators' labels never show
                if rng.random() < 0.4:
                    label_rows.put_label(
                        conn,
                        image_id=image_id,
                        annotator_id=other,
                        frame=0,
                        label=rng.choice(LABELS),
                        comment="other's",
                        labelled_at="t",
                        sha256=None,
                        event_id=0,
                        exists=False,
                    )
    # A case leaves the batch: its labels and time stay but must not count.
    kept = [r for r in refs if r.case != GONE_CASE]
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, r) for i, r in enumerate(kept)]], now="t1"
        )
    with store.read() as conn:
        _kept_counts_match(conn)
        _copied_keys_match(conn)
    yield store, model
    store.close()


def _positions(conn: Any, model: Model, **fields: Any) -> list[int]:
    page = review_page(conn, ReviewQuery(**fields), annotator_id=model.who, annotator=WHO)
    return [r.position for r in page.rows]


def _check(conn: Any, model: Model, sort: str, descending: bool, filters: dict[str, Any]) -> None:
    expected = _expected(conn, model, sort, descending, filters)
    n = len(expected)
    where = (sort, descending, filters)
    offsets = sorted({0, 1, n // 3, n // 2, n - WINDOW - 1, n - WINDOW, n - 1} - {-1})
    # The total and its key as the first window told them (the page passes both back).
    told = review_page(
        conn,
        ReviewQuery(sort=sort, descending=descending, limit=WINDOW, **filters),
        annotator_id=model.who,
        annotator=WHO,
    )
    assert told.total == n, where
    for offset in (o for o in offsets if 0 <= o < n):
        # A jump: no cursor, with and without the total the first window told.
        for total in (None, n):
            got = _positions(
                conn,
                model,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=WINDOW,
                total=total,
                total_key=told.total_key if total is not None else None,
                **filters,
            )
            assert got == expected[offset : offset + WINDOW], (*where, offset, total)
        if offset:
            # By keyset: right after the row before the window.
            got = _positions(
                conn,
                model,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=WINDOW,
                after=expected[offset - 1],
                total=n,
                total_key=told.total_key,
                **filters,
            )
            assert got == expected[offset : offset + WINDOW], (*where, "after", offset)


@pytest.mark.usefixtures("jump_from")
@pytest.mark.parametrize("sort", REVIEW_SORTS)
def test_every_window_by_jump_and_by_cursor_matches_a_plain_sort(
    project: tuple[Store, Model], sort: str
) -> None:
    store, model = project
    with store.read() as conn:
        for filters in FILTERS:
            for descending in (False, True):
                _check(conn, model, sort, descending, filters)


@pytest.mark.usefixtures("jump_from")
@pytest.mark.parametrize("sort", REVIEW_SORTS)
def test_a_jump_right_after_labels_change_is_exact(project: tuple[Store, Model], sort: str) -> None:
    store, model = project
    rng = random.Random(sort)
    with store.read() as conn:
        present = [
            int(r[0]) for r in conn.execute(select(images.c.id).where(images.c.seq.is_not(None)))
        ]
    for _round in range(3):
        with store.read() as conn:
            _positions(conn, model, sort=sort, offset=0, limit=WINDOW)  # the window before
        with store.write() as conn:
            for image_id in rng.sample(present, 25):
                action = rng.random()
                if action < 0.3 and image_id in model.label:
                    model.clear(conn, image_id)
                elif action < 0.7:
                    label = rng.choice(LABELS)
                    model.put(conn, image_id, label, rng.choice(COMMENTS))
                elif action < 0.85:
                    model.add_time(conn, image_id, rng.choice([1, 1500, 4000]))
                elif action < 0.9:
                    # Another annotator's label on an image this one has time on: never shown,
                    # but their own kept counts must follow too.
                    label_rows.put_label(
                        conn,
                        image_id=image_id,
                        annotator_id=model.others[0],
                        frame=0,
                        label=rng.choice(LABELS),
                        comment="",
                        labelled_at="t",
                        sha256=None,
                        event_id=0,
                        exists=False,
                    ) if not _has_label(
                        conn, image_id, model.others[0]
                    ) else label_rows.remove_label(
                        conn, image_id=image_id, annotator_id=model.others[0], frame=0
                    )
                elif image_id in model.frames:
                    model.clear(conn, image_id, frame=min(model.frames[image_id]))
                else:
                    model.put(conn, image_id, rng.choice(LABELS), "", frame=rng.randint(1, 9))
        with store.read() as conn:
            for filters in ({}, {"label": "NA"}, {"unlabelled": True}):
                for descending in (False, True):
                    _check(conn, model, sort, descending, filters)
            _kept_counts_match(conn)
            _copied_keys_match(conn)


def _has_label(conn: Any, image_id: int, annotator_id: int) -> bool:
    return (
        label_rows.current_label(conn, image_id=image_id, annotator_id=annotator_id, frame=0)
        is not None
    )


def _kept_counts_match(conn: Any) -> None:
    """The counts kept per case and label are those counted from the labels and times."""
    kept = {
        tuple(r[:3]): tuple(r[3:])
        for r in conn.execute(select(case_label_counts)).all()
        if any(r[3:])
    }
    counted = {tuple(r[:3]): tuple(r[3:]) for r in conn.execute(_PER_LABEL_NOW).all()}
    assert kept == counted


def _copied_keys_match(conn: Any) -> None:
    """Every label holds its image's name keys (migration 0014): the label-filtered name
    orders find their rows by them."""
    found = conn.execute(
        select(labels.c.id, labels.c.case_key, labels.c.visit_key, labels.c.file_key).join_from(
            labels, images, images.c.id == labels.c.image_id
        )
    ).all()
    expected = {
        int(r[0]): (r[1], r[2], r[3])
        for r in conn.execute(
            select(labels.c.id, images.c.case_key, images.c.visit_key, images.c.file_key).join_from(
                labels, images, images.c.id == labels.c.image_id
            )
        )
    }
    assert found and {int(r[0]): (r[1], r[2], r[3]) for r in found} == expected
    assert all(None not in keys for keys in expected.values())


def _change_row(conn: Any, model: Model, image_id: int, how: str) -> None:
    """One way the row's place in an order can change between two windows."""
    given = model.label.get(image_id)
    if how == "relabel":  # to a label of another group (or a first label)
        now = None if given is None else natural_key(given[0])[0]
        label = model.rng.choice([v for v in LABELS if natural_key(v)[0] != now])
        model.put(conn, image_id, label, "" if given is None else given[1])
    elif how == "comment":  # edited, emptied or given
        comment = "" if given is None else given[1]
        options = [c for c in COMMENTS if natural_key(c)[0] != natural_key(comment)[0]]
        model.put(conn, image_id, "NA" if given is None else given[0], model.rng.choice(options))
    elif how == "clear":
        if given is None:
            model.put(conn, image_id, "Suspicious", "x")
        else:
            model.clear(conn, image_id)
    elif how == "time":  # a view adds time: a first time, or more
        model.add_time(conn, image_id, model.rng.choice([1500, 60_000]))
    elif how == "frames":  # frame labels given, or the last cleared
        if image_id in model.frames:
            for frame in list(model.frames[image_id]):
                model.clear(conn, image_id, frame=frame)
        else:
            model.put(conn, image_id, "NA", "", frame=2)
    else:  # another annotator's label: never shown, never moves the row
        other = model.others[0]
        if _has_label(conn, image_id, other):
            label_rows.remove_label(conn, image_id=image_id, annotator_id=other, frame=0)
        else:
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=other,
                frame=0,
                label="NA",
                comment="",
                labelled_at="t",
                sha256=None,
                event_id=0,
                exists=False,
            )


CHANGES = ("relabel", "comment", "clear", "time", "frames", "other annotator")


@pytest.mark.parametrize("sort", REVIEW_SORTS)
def test_the_window_after_a_cursor_row_that_moved_is_the_fresh_walks(
    project: tuple[Store, Model], sort: str
) -> None:
    """The page asks for the next window with the last row it holds as the cursor (`after`) and
    that row's `cursor` token as it read it (`after_key`). If the row's key changed since (its
    label, comment, time, frame labels; here, in another tab, by a teammate), the window must be
    the one a fresh walk at that offset gives: no row skipped, none repeated."""
    store, model = project
    for filters in ({}, {"label": "NA"}):
        for descending in (False, True):
            for how in CHANGES:
                with store.read() as conn:
                    n = len(_expected(conn, model, sort, descending, filters))
                for end in sorted({WINDOW, n // 3, (2 * n) // 3}):
                    if not WINDOW <= end < n:
                        continue
                    fields: dict[str, Any] = {"sort": sort, "descending": descending, **filters}
                    with store.read() as conn:
                        held = review_page(
                            conn,
                            ReviewQuery(offset=end - WINDOW, limit=WINDOW, **fields),
                            annotator_id=model.who,
                            annotator=WHO,
                        ).rows
                    last = held[-1]
                    with store.write() as conn:
                        _change_row(conn, model, last.image_id, how)
                    with store.read() as conn:
                        expected = _expected(conn, model, sort, descending, filters)
                        fresh = _positions(conn, model, offset=end, limit=WINDOW, **fields)
                        got = _positions(
                            conn,
                            model,
                            offset=end,
                            limit=WINDOW,
                            after=last.position,
                            after_key=last.cursor,
                            **fields,
                        )
                    where = (sort, descending, filters, how, end)
                    assert fresh == expected[end : end + WINDOW], where
                    assert got == fresh, where


def test_a_cursor_row_that_did_not_move_still_starts_the_window(
    project: tuple[Store, Model],
) -> None:
    """While the row keeps its place, the cursor is used (the keyset's speed): a rescan that
    renumbered nothing, a change to another row."""
    store, model = project
    with store.read() as conn:
        first = review_page(
            conn, ReviewQuery(sort="label", limit=WINDOW), annotator_id=model.who, annotator=WHO
        )
        ids = [r.image_id for r in first.rows]
    other = next(i for i in model.label if i not in ids)
    with store.write() as conn:
        _change_row(conn, model, other, "relabel")
    with store.read() as conn:
        last = first.rows[-1]
        page = review_page(
            conn,
            ReviewQuery(
                sort="label",
                offset=WINDOW,
                limit=WINDOW,
                after=last.position,
                after_key=last.cursor,
            ),
            annotator_id=model.who,
            annotator=WHO,
        )
        expected = _expected(conn, model, "label", False, {})
    assert not page.moved
    start = expected.index(last.position) + 1
    assert [r.position for r in page.rows] == expected[start : start + WINDOW]
