"""A jump deep into the unlabelled images (a filter, or a group of the label and annotator
orders) is found by the kept counts per case, not by walking the queue (issue 14: 3 to 7 s at a
million images for a scroll-bar drag with the filter).

Every jump must land on the same rows as the plain order, both directions, whatever the labels
(including labels of images gone from the batch, which are not counted), and the database work
of a jump to the end must be that of a jump near the start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.store import Store

from .labelled_store import hundred_a_case as _ref

IMAGES = 3000  # 30 cases of 100 images


def _label(conn: Any, who: int, image_id: int, label: str) -> None:
    label_rows.put_label(
        conn,
        image_id=image_id,
        annotator_id=who,
        frame=0,
        label=label,
        comment="",
        labelled_at="t0",
        sha256=None,
        event_id=image_id,
        exists=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The first 40 % labelled (as an annotator works through the queue), a few more here and
    there, another annotator's labels, and then case 7 gone from the batch."""
    store = Store.open_dir(tmp_path_factory.mktemp("jumps"))
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
        )
        who = people.annotator_id(conn, "alice", now="t0")
        other = people.annotator_id(conn, "bob", now="t0")
        for image_id in [*range(1, 1201), *range(1500, IMAGES + 1, 37)]:
            _label(conn, who, image_id, "NA" if image_id % 3 else "Suspicious")
        for image_id in range(1000, 2000, 2):
            _label(conn, other, image_id, "NA")
    kept = [i for i in range(IMAGES) if i // 100 != 7]
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(s, _ref(i)) for s, i in enumerate(kept, 1)]], now="t1"
        )
    yield store, who
    store.close()


def _plain(conn: Any, who: int) -> list[tuple[int, str | None]]:
    return [
        (int(r[0]), r[1])
        for r in conn.exec_driver_sql(
            "SELECT images.seq, labels.label FROM images LEFT JOIN labels ON labels.image_id = "
            "images.id AND labels.annotator_id = ? AND labels.frame = 0 WHERE images.seq IS NOT "
            "NULL ORDER BY images.seq",
            (who,),
        )
    ]


def _window(conn: Any, who: int, **fields: Any) -> list[int]:
    page = review_page(conn, ReviewQuery(limit=50, **fields), annotator_id=who, annotator="alice")
    return [r.position for r in page.rows]


@pytest.mark.parametrize("descending", [False, True])
def test_a_jump_into_the_unlabelled_lands_on_the_plain_orders_rows(
    project: Any, descending: bool
) -> None:
    store, who = project
    with store.read() as conn:
        plain = _plain(conn, who)
        unlabelled = [p for p, label in plain if label is None]
        labelled = [p for p, label in plain if label is not None]
        natural = {"NA": 0, "Suspicious": 1}
        by_label = sorted(labelled, key=lambda p: (natural[dict(plain)[p]], p))
        if descending:
            unlabelled_order = unlabelled[::-1]
            label_order = unlabelled + sorted(labelled, key=lambda p: (-natural[dict(plain)[p]], p))
            annotator_order = unlabelled + labelled
        else:
            unlabelled_order = unlabelled
            label_order = by_label + unlabelled
            annotator_order = labelled + unlabelled
        for offset in (1, 49, 50, 777, len(unlabelled) // 2, len(unlabelled) - 50):
            got = _window(conn, who, unlabelled=True, offset=offset, descending=descending)
            assert got == unlabelled_order[offset : offset + 50], offset
        for offset in (1, 300, len(labelled) + 10, len(plain) - 60, len(plain) - 1):
            for sort, order in (("label", label_order), ("annotator", annotator_order)):
                got = _window(conn, who, sort=sort, offset=offset, descending=descending)
                assert got == order[offset : offset + 50], (sort, offset)


def _steps(store: Store, who: int, query: ReviewQuery) -> int:
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def on_connect(conn: Any) -> None:
        conn.connection.driver_connection.set_progress_handler(count, 1)

    event.listen(Engine, "engine_connect", on_connect)
    try:
        with store.read() as conn:
            assert review_page(conn, query, annotator_id=who, annotator="alice").rows
    finally:
        event.remove(Engine, "engine_connect", on_connect)
    return steps[0]


@pytest.mark.parametrize(
    "near, far",
    [
        (ReviewQuery(unlabelled=True, offset=60), ReviewQuery(unlabelled=True, offset=850)),
        (
            ReviewQuery(unlabelled=True, offset=60, descending=True),
            ReviewQuery(unlabelled=True, offset=850, descending=True),
        ),
        (ReviewQuery(sort="label", offset=1200), ReviewQuery(sort="label", offset=2800)),
        (ReviewQuery(sort="annotator", offset=60), ReviewQuery(sort="annotator", offset=950)),
    ],
    ids=["unlabelled", "unlabelled desc", "label", "annotator"],
)
def test_a_deep_jump_costs_what_a_near_one_does(
    project: Any, near: ReviewQuery, far: ReviewQuery
) -> None:
    store, who = project
    near_steps, far_steps = _steps(store, who, near), _steps(store, who, far)
    # Walking the ~1,600 rows between the two would add tens of thousands of steps.
    assert far_steps <= near_steps + 5000, (near_steps, far_steps)


def _prefix_labelled(folder: Path, labelled: int) -> tuple[Store, int]:
    """An annotator who labelled the first `labelled` images of the queue."""
    folder.mkdir()
    store = Store.open_dir(folder)
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, _ref(i)) for i in range(IMAGES)]], now="t0"
        )
        who = people.annotator_id(conn, "alice", now="t0")
        for image_id in range(1, labelled + 1):
            _label(conn, who, image_id, "NA")
    return store, who


@pytest.mark.parametrize(
    "query",
    [
        ReviewQuery(unlabelled=True, limit=50),
        ReviewQuery(sort="label", descending=True, limit=50),
        ReviewQuery(sort="annotator", descending=True, limit=50),
        ReviewQuery(sort="annotator", offset=IMAGES - 1000, limit=50),  # into the unlabelled
    ],
    ids=["unlabelled", "label desc", "annotator desc", "annotator into unlabelled"],
)
def test_the_first_unlabelled_rows_are_found_by_case_not_by_a_walk(
    tmp_path: Path, query: ReviewQuery
) -> None:
    """The unlabelled come after the labelled in the queue, as an annotator works through it:
    their first window costs the same after 100 labels as after 2,000."""
    found: dict[int, tuple[int, list[int]]] = {}
    for labelled in (100, 2000):
        store, who = _prefix_labelled(tmp_path / str(labelled), labelled)
        steps = _steps(store, who, query)
        with store.read() as conn:
            page = review_page(conn, query, annotator_id=who, annotator="alice")
            rows = [r.position for r in page.rows]
        store.close()
        found[labelled] = (steps, rows)
        unlabelled = list(range(labelled + 1, IMAGES + 1))
        if query.offset:
            start = query.offset - labelled
            assert rows == unlabelled[start : start + 50], labelled
        else:
            assert rows == unlabelled[:50], labelled
    # Walking the 1,900 more labelled images would add tens of thousands of steps.
    assert found[2000][0] <= found[100][0] + 5000, (found[100][0], found[2000][0])
