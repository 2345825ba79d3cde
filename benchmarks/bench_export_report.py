"""Export and report of 1,000,000 labels, against a bare csv.writer of the same rows.

    .venv/bin/python benchmarks/bench_export_report.py [--labels 1000000]

Targets (issue 2): the export within 3x of the bare writer; the report under 10 s.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label, synthetic_refs
from clinlabel.audit.log import utc_now
from clinlabel.labelling.outputs import export_csv, write_report
from clinlabel.labelling.project import Project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import images as image_rows
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.store import Store


def build_project(root: Path, n: int) -> Path:
    project_dir = root / "project"
    project_dir.mkdir()
    store = Store.open_dir(project_dir)
    with store.write() as conn:
        from clinlabel.store import meta

        meta.set_meta(conn, meta.BATCH_ROOT, str(root / "batch"))
        rows = [image_rows.scan_row(seq, ref) for seq, ref in enumerate(synthetic_refs(n), 1)]
        image_rows.sync_scan(conn, [rows], now=utc_now())
    store.close()
    bulk_label(project_dir, n)
    return project_dir


_BARE_QUERY = (
    "SELECT i.case_name, i.visit, i.file, l.label, l.comment FROM images i "
    "JOIN labels l ON l.image_id = i.id WHERE i.seq IS NOT NULL ORDER BY i.seq"
)


def bare_rows(project_dir: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(project_dir / DATABASE_FILE) as raw:
        return raw.execute(_BARE_QUERY).fetchall()


def bare_query_and_write(project_dir: Path, path: Path) -> None:
    """Second baseline: a bare sqlite3 query streamed into a bare csv.writer."""
    with (
        sqlite3.connect(project_dir / DATABASE_FILE) as raw,
        open(path, "w", newline="", encoding="utf-8") as handle,
    ):
        handle.write("\ufeff")
        writer = csv.writer(handle)
        cursor = raw.execute(_BARE_QUERY)
        while rows := cursor.fetchmany(10_000):
            writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        project_dir = build_project(root, args.labels)
        print(f"built a project with {args.labels:,} labels in {time.perf_counter() - start:.1f} s")
        rows = bare_rows(project_dir)

        bare, bare_db, ours, guarded, report = [], [], [], [], []
        with open_project(project_dir) as project:
            for _ in range(args.repeat):
                bare.append(timed(lambda: bare_write(root / "bare.csv", rows)))
                bare_db.append(timed(lambda: bare_query_and_write(project_dir, root / "b2.csv")))
                ours.append(
                    timed(lambda: export(project, root / "clinical_labels.csv", args.labels))
                )
                report.append(timed(lambda: write_report(project, root / "summary.txt", actor="b")))
            # One comment typed as a formula sends every row through the per-cell guard.
            session = LabellingSession(project, annotator="bench")
            shown = session.start().view
            # A label is only ever given to a file that is there (it is hashed at the save).
            on_disk = root / "batch" / shown.relpath
            on_disk.parent.mkdir(parents=True, exist_ok=True)
            on_disk.write_bytes(b"\xff\xd8\xff synthetic")
            session.save_label(shown.id, "NA", '=HYPERLINK("x")')
            session.close()
            for _ in range(args.repeat):
                guarded.append(timed(lambda: export(project, root / "guarded.csv", args.labels)))
        text = (root / "summary.txt").read_text(encoding="utf-8")
        assert "OK" in text, "the audit chain of the benchmark project must verify"
        bare_s, ours_s, guarded_s, report_s = min(bare), min(ours), min(guarded), min(report)
        bare_db_s = min(bare_db)
        print(f"bare csv.writer of the same rows      : {bare_s:6.2f} s")
        db_ratio = bare_db_s / bare_s
        print(f"bare sqlite3 query + csv.writer       : {bare_db_s:6.2f} s   {db_ratio:.2f}x")
        print(
            f"export                                : {ours_s:6.2f} s   {ours_s / bare_s:.2f}x"
            f"   ({ours_s / bare_db_s:.2f}x the bare query + writer)"
        )
        print(
            f"export with a formula-like comment    : {guarded_s:6.2f} s   "
            f"{guarded_s / bare_s:.2f}x"
        )
        print("(target: export within 3x of the bare writer of the same rows)")
        print(f"report (every figure + chain verified): {report_s:6.2f} s   (target < 10 s)")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_write(path: Path, rows: list[tuple[str, ...]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write("\ufeff")
        csv.writer(handle).writerows(rows)


def export(project: Project, path: Path, expected: int) -> None:
    assert export_csv(project, path, actor="bench") == expected


if __name__ == "__main__":
    main()
