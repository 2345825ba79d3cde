"""A label save and its progress answer, on a small and a large project, in the same run.

    .venv/bin/python benchmarks/bench_save_scale.py [--sizes 10000,100000] [--saves 200]

For each size a tree of tiny real files is written (`make_bench_tree`), a project created and
half of its images labelled through the use case (a few minutes at 100,000); then `--saves`
labels are saved through `LabellingSession.save_label` (hash, event, label) on images spread
over the queue, each followed by `progress()`, as the page's save does. Target (issue 14): the
save's p50 within 1.2x from the small to the large project; `progress()` constant.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import percentile
from clinlabel.demo.batch import make_bench_tree
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession

OUT = Path(__file__).resolve().parent / "out"


def measure(size: int, saves: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=OUT) as scratch_name:
        scratch = Path(scratch_name)
        batch = scratch / "Batch"
        make_bench_tree(batch, images=size)
        init_project(batch, scratch / "project")
        with open_project(scratch / "project") as project:
            session = LabellingSession(project, annotator="bench")
            session.start()
            views = session.queue(1, size)
            # Half the project labelled first, through the use case as an annotator would have.
            step = max(1, size // saves)
            chosen = [v.id for v in views[::step]][:saves]
            for view in views[: size // 2]:
                if view.id not in chosen:
                    session.save_label(view.id, "Non-Suspicious")
            save_ms, progress_ms = [], []
            for image_id in chosen:
                started = time.perf_counter()
                session.save_label(image_id, "Suspicious")
                save_ms.append((time.perf_counter() - started) * 1e3)
                started = time.perf_counter()
                session.progress()
                progress_ms.append((time.perf_counter() - started) * 1e3)
            session.close()
    return {
        "save_p50": statistics.median(save_ms),
        "save_p95": percentile(save_ms, 95),
        "progress_p50": statistics.median(progress_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    OUT.mkdir(exist_ok=True)
    results = {}
    for size in sizes:
        print(f"measuring {size:,} images ...", flush=True)
        results[size] = measure(size, args.saves)
    print("\n=== bench_save_scale (ms; ratio = this size / the smallest, same run) ===")
    first = results[sizes[0]]
    print(
        f"{'images':>10} {'save p50':>9} {'ratio':>6} {'save p95':>9} {'progress':>9} {'ratio':>6}"
    )
    for size, r in results.items():
        print(
            f"{size:>10,} {r['save_p50']:9.2f} {r['save_p50'] / first['save_p50']:9.2f} "
            f"{r['save_p95']:9.2f} {r['progress_p50']:9.3f} "
            f"{r['progress_p50'] / first['progress_p50']:9.2f}"
        )
    print("target: save p50 ratio <= 1.2")


if __name__ == "__main__":
    main()
