"""Rescan against creating the project, in the same run, and how each grows with the batch.

    .venv/bin/python benchmarks/bench_rescan.py [--sizes 10000,100000] [--repeat 3]

For each size a fresh tree of tiny real files is written (`make_bench_tree`), then:
- create: `init_project` into a new project folder (scan + insert), the baseline;
- rescan, unchanged: `init_project` again on that project (what every `clinlabel label` launch
  and second `init` does);
- rescan, changed: after 10 % of the files were removed, 10 % added (new visits) and 1 %
  rewritten with other bytes (another size), the first rescan that sees it.
Targets (issue 14): unchanged within 1.5x of create, changed within 2x, at every size; the growth
exponent (log time ratio / log size ratio) of each operation at most 1.1 between sizes.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clinlabel.demo.batch import make_bench_tree
from clinlabel.labelling.project import init_project

OUT = Path(__file__).resolve().parent / "out"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def change_tree(batch: Path) -> None:
    """Remove 10 % of the files, add as many in new visits, rewrite 1 % with other bytes."""
    files = sorted(batch.rglob("*.jpg"))
    for path in files[::10]:
        path.unlink()
    for index, path in enumerate(files[5::100]):
        path.write_bytes(b"\xff\xd8\xff\xe0" + index.to_bytes(4, "big") * 8 + b"\xff\xd9")
    added = len(files) // 10
    make_bench_tree(batch / "_added_root", images=added)
    # Move the added cases into the batch as new cases (names that sort after the others).
    for case in sorted((batch / "_added_root").iterdir()):
        case.rename(batch / f"Zcase_{case.name}")
    (batch / "_added_root").rmdir()


def measure(size: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=OUT) as scratch_name:
        scratch = Path(scratch_name)
        batch = scratch / "Batch"
        make_bench_tree(batch, images=size)
        creates = []
        for attempt in range(repeat):
            project = scratch / f"project{attempt}"
            creates.append(timed(lambda p=project: init_project(batch, p)))
        project = scratch / "project0"
        unchanged = statistics.median(
            timed(lambda: init_project(batch, project)) for _ in range(repeat)
        )
        change_tree(batch)
        changed = timed(lambda: init_project(batch, project))
        for attempt in range(1, repeat):
            shutil.rmtree(scratch / f"project{attempt}", ignore_errors=True)
        os.sync()
    return {"create": statistics.median(creates), "unchanged": unchanged, "changed": changed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    OUT.mkdir(exist_ok=True)
    results = {}
    for size in sizes:
        print(f"measuring {size:,} images ...", flush=True)
        results[size] = measure(size, args.repeat)
    print("\n=== bench_rescan (seconds; ratio = rescan / create in the same run) ===")
    print(
        f"{'images':>10} {'create':>8} {'unchanged':>10} {'ratio':>6} {'changed':>8} {'ratio':>6}"
    )
    for size, r in results.items():
        print(
            f"{size:>10,} {r['create']:9.2f} {r['unchanged']:9.2f} "
            f"{r['unchanged'] / r['create']:9.2f} {r['changed']:9.2f} "
            f"{r['changed'] / r['create']:9.2f}"
        )
    print("targets: unchanged <= 1.5x, changed <= 2x")
    for small, large in itertools.pairwise(sizes):
        growth = math.log(large / small)
        exponents = {
            name: math.log(results[large][name] / results[small][name]) / growth
            for name in ("create", "unchanged", "changed")
        }
        shown = ", ".join(f"{name} {value:.2f}" for name, value in exponents.items())
        print(f"growth exponent {small:,} -> {large:,}: {shown} (target <= 1.1)")


if __name__ == "__main__":
    main()
