"""Label writes: 10,000 labels saved one at a time through the engine, each durable and audited.

    .venv/bin/python benchmarks/bench_label_write.py [--labels 10000]

Baseline, in the same run and folder: a bare sqlite3 INSERT + COMMIT per row in the same mode
(WAL, synchronous=FULL). Target (issue 2): the engine's p99 within 3x of the baseline's p99.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import percentile
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession

LABELS = ("Suspicious", "Non-Suspicious", "NA")


def make_batch(root: Path, n: int) -> Path:
    for i in range(n):
        folder = root / f"Case_{i // 200 + 1}" / f"Visit_{(i // 50) % 4 + 1}" / "XC"
        if i % 50 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"img{i % 50 + 1}.jpg").write_bytes(b"\xff\xd8\xff" + str(i).encode())
    return root


class BareWriter:
    """The baseline: one bare sqlite3 INSERT + COMMIT per label, WAL and synchronous=FULL."""

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "bare.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, image_id INTEGER, label TEXT, comment TEXT,"
            " at TEXT)"
        )

    def write(self, i: int) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO t (image_id, label, comment, at) VALUES (?, ?, ?, ?)",
            (i, LABELS[i % 3], "c" if i % 3 == 2 else "", "2026-11-22T00:00:00Z"),
        )
        self.db.execute("COMMIT")


def run(root: Path, batch: Path, n: int) -> tuple[list[float], list[float]]:
    """Alternate one bare write and one engine save, so both see the same machine noise."""
    init_project(batch, root / "project")
    bare = BareWriter(root)
    bare_times: list[float] = []
    ours: list[float] = []
    with open_project(root / "project") as project:
        session = LabellingSession(project, annotator="bench")
        session.start()
        ids = [view.id for view in session.queue(1, n)]
        for i, image_id in enumerate(ids):
            start = time.perf_counter()
            bare.write(i)
            bare_times.append(time.perf_counter() - start)
            label = LABELS[i % 3]
            start = time.perf_counter()
            session.save_label(image_id, label, "blurred" if label == "NA" else None)
            ours.append(time.perf_counter() - start)
        assert session.progress().labelled == n
        session.close()
    bare.db.close()
    return bare_times, ours


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-", dir=Path.cwd()) as tmp:
        root = Path(tmp)
        batch = make_batch(root / "batch", args.labels)
        bare, ours = run(root, batch, args.labels)
    for name, times in (("bare sqlite3 insert+commit", bare), ("clinlabel save_label", ours)):
        print(
            f"{name:28s} p50 {percentile(times, 50) * 1000:7.3f} ms   "
            f"p99 {percentile(times, 99) * 1000:7.3f} ms   n={len(times)}"
        )
    ratio99 = percentile(ours, 99) / percentile(bare, 99)
    ratio50 = percentile(ours, 50) / percentile(bare, 50)
    print(f"ratio p50 {ratio50:.2f}x   ratio p99 {ratio99:.2f}x (target p99 <= 3x)")


if __name__ == "__main__":
    main()
