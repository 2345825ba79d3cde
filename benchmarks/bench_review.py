"""Review table windows on 100,000 images, against a bare page and the old whole-queue load.

    .venv/bin/python benchmarks/bench_review.py [--images 100000] [--labelled 0.6] [--repeat 5]
                                                [--per-visit 50] [--project DIR] [--only TEXT]

The project exists only in the database (synthetic image rows, no files; labels and timed
events written in bulk by `_common.bulk_label`, the first `--labelled` share of the queue), in
a temporary folder, or in `--project DIR`: built there when DIR holds no project, reused as it
is otherwise (a million images take minutes to build; `--images` is then what DIR holds).
Each query is one window of WINDOW rows, the size the page asks for (review-pages.js BLOCK),
through `LabellingSession.review` (the use case the web route calls), sorted and filtered as a
user can (`--only` keeps the orders whose name contains TEXT), at four places:

- first: offset 0, no total (the page's first request of an order: the filtered total counted);
- next: the window after it, by keyset (`after` = its last row, as the page sends when scrolling);
- middle: a jump to the middle without a cursor (a drag of the scroll bar, or "go to row");
- deep: the last window without a cursor (a drag to the bottom, the last page).
Windows after the first pass back the total, as the page does. Two baselines from the run:

- bare page: a raw sqlite3 SELECT of one window by `seq` with the label joined (the floor);
- old page: what review.js did before, the whole queue through `LabellingSession.queue` in
  pages of 5,000 (sorting and filtering then ran in the browser, not counted here).

Target (issue 14): at a million images every window under 100 ms, first or deep. The table shows
how far each order is from the floor, how much of the old load (which the table waited for
before it showed a row) one window costs, and its CPU time (this process's: on a shared machine
under load the wall time also waits for a core; the CPU time is the window's own cost).
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label, median_time, synthetic_refs
from clinlabel.audit.log import utc_now
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.review import ReviewQuery
from clinlabel.store.store import Store

WINDOW = 200  # rows per request, as the page asks (src/clinlabel/web/static/js/review-pages.js)
OLD_PAGE = 5000  # the old review.js fetched /api/queue in pages of this many
ANNOTATOR = "bench"

MIDDLE_CASE = "<the middle case>"  # replaced by the name of the queue's middle case when run
# (name, sort, descending, filters): the orders a user clicks, alone and with filters.
QUERIES: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("position", "position", False, {}),
    ("position desc", "position", True, {}),
    ("case", "case", False, {}),
    ("file", "file", False, {}),
    ("file desc", "file", True, {}),
    ("label", "label", False, {}),
    ("seconds", "seconds", False, {}),
    ("seconds desc", "seconds", True, {}),
    ("visit", "visit", False, {}),
    ("comment", "comment", False, {}),
    ("frames", "frames", False, {}),
    ("annotator", "annotator", False, {}),
    ("position, label=NA", "position", False, {"label": "NA"}),
    ("position, unlabelled", "position", False, {"unlabelled": True}),
    ("file, label=NA", "file", False, {"label": "NA"}),
    ("file desc, label=NA", "file", True, {"label": "NA"}),
    ("case, label=NA", "case", False, {"label": "NA"}),
    ("case desc, label=NA", "case", True, {"label": "NA"}),
    ("visit, label=NA", "visit", False, {"label": "NA"}),
    ("visit desc, label=NA", "visit", True, {"label": "NA"}),
    ("seconds, unlabelled", "seconds", False, {"unlabelled": True}),
    ("label, one case", "label", False, {"case": MIDDLE_CASE}),
    ("file, one case + NA", "file", False, {"case": MIDDLE_CASE, "label": "NA"}),
]


def build_project(root: Path, *, images: int, labelled: int, per_visit: int) -> Path:
    project_dir = root / "project"
    project_dir.mkdir()
    store = Store.open_dir(project_dir)
    with store.write() as conn:
        meta.set_meta(conn, meta.BATCH_ROOT, str(root / "batch"))
        refs = synthetic_refs(images, per_visit=per_visit)
        rows = [image_rows.scan_row(seq, ref) for seq, ref in enumerate(refs, 1)]
        image_rows.sync_scan(conn, [rows], now=utc_now())
    store.close()
    bulk_label(project_dir, labelled, annotator=ANNOTATOR)
    return project_dir


class BarePage:
    """The floor: one window by seq with the whole-file label, straight from sqlite3."""

    SQL = (
        "SELECT i.id, i.seq, i.case_name, i.visit, i.file, l.label, l.comment FROM images i "
        "LEFT JOIN labels l ON l.image_id = i.id AND l.annotator_id = ? AND l.frame = 0 "
        "WHERE i.present AND i.seq BETWEEN ? AND ? ORDER BY i.seq"
    )

    def __init__(self, project_dir: Path) -> None:
        self.db = sqlite3.connect(project_dir / DATABASE_FILE)
        found = self.db.execute("SELECT id FROM annotators WHERE name = ?", (ANNOTATOR,)).fetchone()
        self.annotator_id = found[0]

    def page(self, first: int) -> int:
        rows = self.db.execute(self.SQL, (self.annotator_id, first, first + WINDOW - 1)).fetchall()
        return len(rows)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs after one untimed run (caches warm for every contender)."""
    fn()
    return median_time(fn, repeat=repeat)


def timed_cpu(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and median CPU seconds (this process's) of `repeat` runs after one untimed
    run. On a shared machine under load the wall time waits for the cores; the CPU time is
    what the window itself costs, and stays comparable between runs."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def old_whole_queue(session: LabellingSession, total: int) -> int:
    rows = 0
    for start in range(1, total + 1, OLD_PAGE):
        rows += len(session.queue(start, OLD_PAGE))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--labelled", type=float, default=0.6, help="share of images labelled")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs each (median; >= 3)")
    parser.add_argument(
        "--per-visit", type=int, default=50, help="images per visit = distinct file names"
    )
    parser.add_argument(
        "--project", type=Path, help="build the project here if absent, else reuse it (kept)"
    )
    parser.add_argument("--only", default="", help="only the orders whose name contains this")
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    n = args.images
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        root = Path(tmp) if args.project is None else args.project.resolve()
        root.mkdir(parents=True, exist_ok=True)
        project_dir = root / "project"
        if (project_dir / DATABASE_FILE).exists():
            existing = Store.open_dir(project_dir)
            with existing.read() as conn:
                n = image_rows.queue_length(conn)
            existing.close()
            print(f"reusing the project in {project_dir}: {n:,} images")
        else:
            started = time.perf_counter()
            project_dir = build_project(
                root, images=n, labelled=int(n * args.labelled), per_visit=args.per_visit
            )
            print(
                f"built a project of {n:,} images, {int(n * args.labelled):,} labelled, "
                f"{args.per_visit} file names per visit, in {time.perf_counter() - started:.1f} s"
            )
        bare = BarePage(project_dir)
        with open_project(project_dir) as project:
            session = LabellingSession(project, annotator=ANNOTATOR)
            session.start()
            try:
                run(session, bare, n, repeat, only=args.only)
            finally:
                session.close()
                bare.db.close()


def run(session: LabellingSession, bare: BarePage, n: int, repeat: int, *, only: str = "") -> None:
    assert bare.page(1) == WINDOW
    bare_first = timed(lambda: bare.page(1), repeat * 4)
    bare_deep = timed(lambda: bare.page(n - WINDOW + 1), repeat * 4)
    # The old whole-queue load is linear and long at a million: measured once below 300,000.
    old = timed(lambda: old_whole_queue(session, n), repeat) if n <= 300_000 else float("nan")
    results: list[tuple[str, str, float, int, float]] = []
    cases = session.review_cases()
    middle = cases[len(cases) // 2]
    for name, sort, descending, given in QUERIES:
        if only not in name:
            continue
        filters = {k: middle if v == MIDDLE_CASE else v for k, v in given.items()}
        query = ReviewQuery(offset=0, limit=WINDOW, sort=sort, descending=descending, **filters)
        first_page = session.review(query)
        total = first_page.total
        cursor = first_page.rows[-1].position if len(first_page.rows) == WINDOW else None
        windows = [
            ("first", query),
            ("next", dataclasses.replace(query, offset=WINDOW, after=cursor, total=total)),
            ("middle", dataclasses.replace(query, offset=total // 2, total=total)),
            ("deep", dataclasses.replace(query, offset=max(0, total - WINDOW), total=total)),
        ]
        for where, window in windows:
            rows = len(session.review(window).rows)
            assert rows == max(0, min(WINDOW, total - window.offset)), (name, where, rows)
            wall, cpu = timed_cpu(lambda w=window: session.review(w), repeat)
            results.append((name, where, wall, total, cpu))
    bare_ms = statistics.median([bare_first, bare_deep]) * 1000
    old_ms = old * 1000
    print(f"\n{n:,} images, windows of {WINDOW} rows, median of {repeat} runs after a warm-up:")
    print(
        f"  bare page (sqlite3, by seq)     first {bare_first * 1000:7.2f} ms"
        f"   deep {bare_deep * 1000:7.2f} ms"
    )
    print(f"  old page (whole queue, {OLD_PAGE:,}s)  {old_ms:9.1f} ms")
    heading = f"{'order and filter':<24} {'window':<6} {'rows':>8} {'ms':>9}"
    print(f"\n  {heading} {'x bare':>8} {'x old':>7} {'cpu ms':>8}")
    for name, where, seconds, total, cpu in results:
        ms = seconds * 1000
        print(
            f"  {name:<24} {where:<6} {total:>8,} {ms:9.2f} {ms / bare_ms:8.1f} {ms / old_ms:7.3f}"
            f" {cpu * 1000:8.2f}"
        )
    worst = max(results, key=lambda r: r[2])
    worst_ms = worst[2] * 1000
    worst_cpu = max(results, key=lambda r: r[4])
    print("\n==== summary: bench_review ====")
    print(f"images                 {n:,}")
    print(f"bare page              {bare_ms:.2f} ms")
    print(f"old whole-queue load   {old_ms:.1f} ms (before any sorting or rows in the browser)")
    print(
        f"slowest window         {worst_ms:.1f} ms ({worst[0]}, {worst[1]}): "
        f"{worst_ms / bare_ms:.0f}x bare page, {worst_ms / old_ms:.3f}x old load"
    )
    print(f"most CPU               {worst_cpu[4] * 1000:.1f} ms ({worst_cpu[0]}, {worst_cpu[1]})")


if __name__ == "__main__":
    main()
