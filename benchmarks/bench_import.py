"""`clinlabel import --csv` against a bare process writing the same rows (issues 12 and 14).

    .venv/bin/python benchmarks/bench_import.py [SIZE ...] [--repeat N] [--keep]

Sizes default to 10000 100000. For each size a batch of tiny real PNG files is written under
benchmarks/out (`bench_scale.make_tree`), a project made with `init_project`, and a labels CSV
naming every image once (`bench_scale.import_csv`; no image hashed yet, so the import hashes
every file). Then, in the same run and each in its own fresh process:

- import: `clinlabel import PROJECT --csv FILE --annotator imported`: time and peak memory
  (VmHWM, the child's own high-water mark since its exec);
- floor: a bare Python process that reads the same CSV with `csv.reader` and inserts one event
  and one label per row into a new SQLite file (WAL, synchronous=FULL) by `executemany` in one
  transaction: time and peak memory.

With `--repeat N` the floor and the import run N times each, alternated (every import on a
fresh copy of the project as it was before the first), and the medians are printed with every
run's figures: on a shared machine one pair of runs can differ by a tenth from the next.

Printed: the load average before each size (a shared machine's load shows in the times),
both times, their ratio (issue 12: within 5x), both CPU times (user + system: on a
shared, loaded machine wall times wait for a core) and their ratio, the growth exponent of the
import's time between sizes (issue 14: at most 1.1), the import's memory and that memory
projected at a million rows from the per-row slope between the sizes (issue 14: under 300 MB).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_scale import IMPORT_FLOOR, OUT, import_csv, make_tree, run_with_rss
from clinlabel.labelling.project import init_project


@contextlib.contextmanager
def _cpu() -> Iterator[list[float]]:
    """CPU seconds (user + system) of the child processes run in the block, in a one-item list
    filled when it ends: on a shared, loaded machine wall times wait for a core, CPU times much
    less, so both ratios are printed."""
    found = [0.0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    yield found
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found[0] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--keep", action="store_true", help="keep the batches and projects")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of the floor and the import, alternated"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    figures: dict[int, tuple[float, float, float, float]] = {}
    for size in args.sizes:
        scratch = Path(tempfile.mkdtemp(dir=OUT, prefix=f"import-{size}-"))
        try:
            batch, project, table = scratch / "Batch", scratch / "project", scratch / "in.csv"
            started = time.perf_counter()
            make_tree(batch, size)
            init_project(batch, project)
            import_csv(project, table)
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"{size:,} rows: set up in {time.perf_counter() - started:.1f} s"
                f" (load average {load}; {os.cpu_count()} cores)",
                flush=True,
            )
            before = scratch / "project-before"
            if args.repeat > 1:
                shutil.copytree(project, before)
            runs: list[tuple[float, float, float, float, float, float]] = []
            for run in range(args.repeat):
                if run:  # every import starts from the same project
                    shutil.rmtree(project)
                    shutil.copytree(before, project)
                    (scratch / "floor.sqlite").unlink(missing_ok=True)
                    for suffix in ("-wal", "-shm"):
                        (scratch / f"floor.sqlite{suffix}").unlink(missing_ok=True)
                with _cpu() as floor_cpu:
                    floor, floor_mb = run_with_rss(
                        str(table), str(scratch / "floor.sqlite"), code=IMPORT_FLOOR
                    )
                with _cpu() as cpu:
                    seconds, mb = run_with_rss(
                        "import", str(project), "--csv", str(table), "--annotator", "imported"
                    )
                runs.append((seconds, mb, floor, floor_mb, cpu[0], floor_cpu[0]))
                if args.repeat > 1:
                    print(
                        f"    run {run + 1}: import {seconds:.2f} s, CPU {cpu[0]:.2f} s;"
                        f" floor {floor:.2f} s, CPU {floor_cpu[0]:.2f} s;"
                        f" ratios {seconds / floor:.2f}x, CPU {cpu[0] / floor_cpu[0]:.2f}x",
                        flush=True,
                    )
            seconds, mb, floor, floor_mb, import_cpu, floor_cpu_s = (
                statistics.median(run[k] for run in runs) for k in range(6)
            )
            figures[size] = (seconds, mb, floor, floor_mb)
            median = " (medians)" if args.repeat > 1 else ""
            print(
                f"  import {seconds:.2f} s ({mb:.0f} MB)   floor {floor:.2f} s ({floor_mb:.0f} MB)"
                f"   ratio {seconds / floor:.1f}x (target <= 5x){median}\n"
                f"  CPU: import {import_cpu:.2f} s   floor {floor_cpu_s:.2f} s"
                f"   ratio {import_cpu / floor_cpu_s:.1f}x{median}",
                flush=True,
            )
        finally:
            if not args.keep:
                shutil.rmtree(scratch, ignore_errors=True)
    sizes = sorted(figures)
    for a, b in itertools.pairwise(sizes):
        exponent = math.log(figures[b][0] / figures[a][0]) / math.log(b / a)
        per_row = (figures[b][1] - figures[a][1]) * 2**20 / (b - a)
        million = figures[b][1] + per_row * (1_000_000 - b) / 2**20
        print(
            f"{a:,} -> {b:,}: time exponent {exponent:.2f} (target <= 1.1); memory"
            f" {per_row:.0f} bytes a row, {million:.0f} MB projected at 1,000,000 (target < 300)"
        )


if __name__ == "__main__":
    main()
