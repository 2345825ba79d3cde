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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label, synthetic_refs
from clinlabel.audit.log import utc_now
from clinlabel.labelling.outputs import export_csv, write_report
from clinlabel.labelling.project import open_project
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


def bare_rows(project_dir: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(project_dir / DATABASE_FILE) as raw:
        return raw.execute(
            "SELECT i.case_name, i.visit, i.file, l.label, l.comment FROM labels l "
            "JOIN images i ON i.id = l.image_id ORDER BY i.seq"
        ).fetchall()


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

        bare, ours, report = [], [], []
        with open_project(project_dir) as project:
            for _ in range(args.repeat):
                start = time.perf_counter()
                with open(root / "bare.csv", "w", newline="", encoding="utf-8") as handle:
                    handle.write("\ufeff")
                    csv.writer(handle).writerows(rows)
                bare.append(time.perf_counter() - start)

                start = time.perf_counter()
                written = export_csv(project, root / "clinical_labels.csv", actor="bench")
                ours.append(time.perf_counter() - start)
                assert written == args.labels

                start = time.perf_counter()
                text = write_report(project, root / "summary.txt", actor="bench")
                report.append(time.perf_counter() - start)
        assert "Audit" in text or "audit" in text
        bare_s, ours_s, report_s = min(bare), min(ours), min(report)
        print(f"bare csv.writer of the same rows : {bare_s:6.2f} s")
        ratio = ours_s / bare_s
        print(
            f"clinlabel export (db -> csv)     : {ours_s:6.2f} s   ratio {ratio:.2f}x"
            " (target <= 3x)"
        )
        print(f"clinlabel report (incl. verify)  : {report_s:6.2f} s   (target < 10 s)")


if __name__ == "__main__":
    main()
