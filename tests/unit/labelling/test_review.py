"""The review table's pages: sorted and filtered by the database, on SQLite and PostgreSQL.

Every order is checked against a Python model of the page's old in-browser sort (natural,
case-insensitive names; empty values last ascending and first descending; ties by position), over
every window of the result, so that paging never skips or repeats a row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinlabel.discovery.naming import natural_key
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.review import MAX_REVIEW_LIMIT, REVIEW_SORTS, ReviewQuery, ReviewRow

from .conftest import FakeClock, make_batch

# Names chosen so that plain text order is wrong (Case_10 / Case_2, img10 / img2) and so that a
# visit or file name recurs across parents, where queue order alone cannot rank it.
LAYOUT = {
    "Case_2/Visit_10/XC": ["img2.jpg", "img10.jpg"],
    "Case_2/Visit_2/XC": ["Img1.jpg", "img3.jpg"],
    "Case_10/Visit_1/XC": ["img1.jpg", "img10.jpg", "b.png"],
    "Case_1/Visit_2/XC": ["img2.jpg", "a.png"],
    "Case_1/Visit_1/XC": ["img1.jpg"],
}


@pytest.fixture
def session(tmp_path: Path, database_url: str | None) -> Iterator[LabellingSession]:
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project", database_url=database_url)
    clock = FakeClock()
    with open_project(tmp_path / "project") as project:
        session = LabellingSession(project, annotator="Dr A", clock=clock)
        session.start()
        _label(session, clock)
        yield session
        session.close()


def _label(session: LabellingSession, clock: FakeClock) -> None:
    """Labels, comments, frame labels and time on some images; others left unlabelled."""
    views = session.queue(1, 100)
    plan: dict[int, tuple[str, str | None, float]] = {
        1: ("Suspicious", "check 10", 3.0),
        2: ("NA", "blurred", 1.5),
        4: ("Non-Suspicious", None, 7.0),
        5: ("Suspicious", "check 2", 0.0),
        8: ("NA", "Blurred", 2.0),
        10: ("Non-Suspicious", "", 4.0),
    }
    for view in views:
        if view.position in plan:
            label, comment, seconds = plan[view.position]
            session.show(view.position)
            clock.advance(seconds)
            session.save_label(view.id, label, comment)
    # Frame labels on three images (jpgs can carry them as well as any multi-frame file).
    session.save_label(views[2].id, "Suspicious", frame=7)
    session.save_label(views[2].id, "NA", "edge", frame=12)
    session.save_label(views[5].id, "Non-Suspicious", frame=3)
    session.save_label(views[8].id, "NA", "x", frame=7)


def _all_rows(session: LabellingSession, query: ReviewQuery) -> list[ReviewRow]:
    page = session.review(ReviewQuery(**{**_fields(query), "offset": 0, "limit": 500}))
    return page.rows


def _fields(query: ReviewQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in ReviewQuery.__dataclass_fields__}


def _value(row: ReviewRow, key: str) -> Any:
    if key == "frames":
        first = row.frame_labels[0] if row.frame_labels else None
        return None if first is None else (first.frame, first.label)
    return {
        "position": row.position,
        "case": row.case,
        "visit": row.visit,
        "file": row.file,
        "label": row.label,
        "comment": row.comment,
        "annotator": row.annotator,
        "seconds": row.seconds,
    }[key]


def _compare(a: Any, b: Any, key: str) -> int:
    """The page's old `compare`, with natural case-insensitive text as localeCompare had it."""
    if key == "frames":
        # Images without frame labels showed empty text, which sorted first.
        if a is None or b is None:
            return (a is not None) - (b is not None)
        return (a > b) - (a < b)
    if a is None and b is None:
        return 0
    if a is None:
        return 1
    if b is None:
        return -1
    if isinstance(a, str):
        ka, kb = natural_key(a)[0], natural_key(b)[0]
        return (ka > kb) - (ka < kb)
    return (a > b) - (a < b)


def _expected(rows: list[ReviewRow], key: str, descending: bool) -> list[int]:
    sign = -1 if descending else 1

    def order(x: ReviewRow, y: ReviewRow) -> int:
        return sign * _compare(_value(x, key), _value(y, key), key) or x.position - y.position

    return [r.position for r in sorted(rows, key=functools.cmp_to_key(order))]


FILTERS = [
    {},
    {"label": "NA"},
    {"unlabelled": True},
    {"case": "Case_2"},
    {"case": "Case_10", "label": "Suspicious"},
]


@pytest.mark.parametrize("sort", REVIEW_SORTS)
def test_every_sort_and_filter_matches_the_old_page_order_in_every_window(
    session: LabellingSession, sort: str
) -> None:
    everything = _all_rows(session, ReviewQuery())
    assert len(everything) == 10
    for filters in FILTERS:
        expected_rows = [r for r in everything if _passes(r, filters)]
        for descending in (False, True):
            expected = _expected(expected_rows, sort, descending)
            query = ReviewQuery(sort=sort, descending=descending, **filters)
            assert [r.position for r in _all_rows(session, query)] == expected, (filters, sort)
            # Every window of every size gives the same slice of that order.
            for limit in (1, 2, 3):
                for offset in range(len(expected) + 1):
                    page = session.review(
                        ReviewQuery(
                            offset=offset, limit=limit, sort=sort, descending=descending, **filters
                        )
                    )
                    assert page.total == len(expected)
                    assert page.all == 10
                    got = [r.position for r in page.rows]
                    assert got == expected[offset : offset + limit], (filters, offset, limit)
            # Walked as the page scrolls: each window after the last row of the one before.
            walked: list[int] = []
            while len(walked) < len(expected):
                step = ReviewQuery(
                    offset=len(walked),
                    limit=2,
                    sort=sort,
                    descending=descending,
                    after=walked[-1] if walked else None,
                    total=len(expected),
                    **filters,
                )
                rows = session.review(step).rows
                assert rows, (filters, walked)
                walked += [r.position for r in rows]
            assert walked == expected, (filters, sort, descending)


def _passes(row: ReviewRow, filters: dict[str, Any]) -> bool:
    if "case" in filters and row.case != filters["case"]:
        return False
    if filters.get("unlabelled"):
        return row.label is None
    return "label" not in filters or row.label == filters["label"]


def test_rows_carry_the_columns_of_the_table(session: LabellingSession) -> None:
    rows = _all_rows(session, ReviewQuery())
    first, third = rows[0], rows[2]
    assert (first.case, first.visit, first.file) == ("Case_1", "Visit_1", "XC/img1.jpg")
    assert (first.label, first.comment, first.annotator) == ("Suspicious", "check 10", "Dr A")
    assert first.seconds == pytest.approx(3.0)
    assert third.label is None and third.annotator is None and third.comment == ""
    assert [(f.frame, f.label, f.comment) for f in third.frame_labels] == [
        (7, "Suspicious", ""),
        (12, "NA", "edge"),
    ]
    assert [r.position for r in rows] == list(range(1, 11))


def test_case_names_are_in_natural_order(session: LabellingSession) -> None:
    assert session.review_cases() == ["Case_1", "Case_2", "Case_10"]


def test_an_unknown_sort_is_refused_and_the_limit_is_clamped(session: LabellingSession) -> None:
    with pytest.raises(ValidationError, match="cannot be sorted"):
        session.review(ReviewQuery(sort="file; DROP TABLE images"))
    page = session.review(ReviewQuery(limit=MAX_REVIEW_LIMIT * 10))
    assert len(page.rows) == 10
    assert session.review(ReviewQuery(offset=50)).rows == []


def test_another_annotator_sees_only_their_own_labels(project: Project) -> None:
    first = LabellingSession(project, annotator="Dr A")
    image = first.start().view
    first.save_label(image.id, "NA", "blurred")
    first.close()
    second = LabellingSession(project, annotator="Dr B")
    second.start()
    rows = second.review(ReviewQuery()).rows
    assert all(r.label is None and r.annotator is None for r in rows)
    assert second.review(ReviewQuery(unlabelled=True)).total == len(rows)
    second.close()
