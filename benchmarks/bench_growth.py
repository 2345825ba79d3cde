"""How report, audit verify, scan and rescan grow with the project, on CPU time (issue 14).

    .venv/bin/python benchmarks/bench_growth.py [SIZE ...] [--only NAME ...] [--keep]

Sizes default to 100000 300000 (add 1000000 when asked: about 4 GB of small files and most of
an hour). `bench_scale` times every operation by wall clock on a shared machine, where load
and growth look alike; this one times each operation in this process by CPU time
(user and system time of this process, `getrusage`, plus those of spawned children that
ended, `RUSAGE_CHILDREN`) beside its wall time, and prints the growth exponent between sizes
on CPU time and the CPU time per item, so a reader sees where an operation grows.

What each operation needs is built as cheaply as possible, under a fresh folder in /tmp:

- report and audit verify: a project that exists only in the database (synthetic image rows,
  no files), half of it labelled by one annotator and all of it by a second (as `bench_scale`'s
  project is after its import), by `_common.bulk_label`: hash-chained events, as the use case
  writes them. `write_report` and `verify_project` as `bench_scale` calls them.
- scan, init, rescans: real tiny files, written as `bench_scale.make_tree` writes them. `scan` is
  `scan_batch` alone; its floors, over the same tree, are `os.scandir` with a `stat` of every
  file (what any walk must do) and the same plus the open, 1 KB read and close the scan's
  admission makes of every file; the kernel's (system) CPU per file is printed for all three,
  so the filesystem's own growth shows apart from the scan's Python. `init` creates the
  project (in this process, not spawned); `rescan unchanged` is `init_project` again;
  `rescan changed` follows `bench_scale.change_tree` (10 % removed, 10 % added, 1 %
  rewritten). The issue's targets: unchanged within 1.5x of init, changed within 2x, printed
  as ratios of CPU and of wall time.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label, synthetic_refs
from bench_scale import change_tree, make_tree
from clinlabel.audit.log import utc_now
from clinlabel.discovery.scan import scan_batch
from clinlabel.domain import ScanResult
from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.outputs import write_report
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store.store import Store

OPERATIONS = ("report", "audit verify", "scan", "scandir floor", "init", "rescan unchanged")
ALL = (*OPERATIONS, "rescan changed")


@dataclass
class Timing:
    cpu: float
    wall: float
    items: int
    system: float = 0.0
    """The part of `cpu` spent in the kernel (system calls: the filesystem's share of a walk)."""


@dataclass
class Results:
    times: dict[str, dict[int, Timing]] = field(default_factory=dict)

    def put(self, name: str, size: int, timing: Timing) -> None:
        self.times.setdefault(name, {})[size] = timing
        print(
            f"  {name:<18} cpu {timing.cpu:8.2f} s (system {timing.system:6.2f} s)   "
            f"wall {timing.wall:8.2f} s   "
            f"{timing.cpu / max(1, timing.items) * 1e6:7.1f} us cpu/item",
            flush=True,
        )


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and its ended children: (user + system, system)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = own.ru_stime + children.ru_stime
    return own.ru_utime + children.ru_utime + system, system


def timed(action: Callable[[], object], items: int) -> Timing:
    (cpu, system), wall = _cpu(), time.perf_counter()
    action()
    (cpu_after, system_after) = _cpu()
    return Timing(cpu_after - cpu, time.perf_counter() - wall, items, system_after - system)


def build_db_project(root: Path, size: int) -> Path:
    """A project of `size` synthetic images, half labelled by one reader, all by another."""
    project = root / "project"
    project.mkdir(parents=True)
    store = Store.open_dir(project)
    with store.write() as conn:
        meta.set_meta(conn, meta.BATCH_ROOT, str(root / "batch"))
        rows = [image_rows.scan_row(seq, ref) for seq, ref in enumerate(synthetic_refs(size), 1)]
        image_rows.sync_scan(conn, [rows], now=utc_now())
    store.close()
    bulk_label(project, size // 2, annotator="bench")
    bulk_label(project, size, annotator="imported")
    return project


def scandir_floor(root: Path, *, read: bool = False) -> int:
    """Every folder listed and every file stat'ed: what any walk of the batch must do; with
    `read`, also what the scan's admission does to each file (open, read 1 KB, close)."""
    count = 0
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    entry.stat()
                    if read:
                        fd = os.open(entry.path, os.O_RDONLY)
                        try:
                            os.read(fd, 1024)
                        finally:
                            os.close(fd)
                    count += 1
    return count


def measure(size: int, results: Results, only: set[str], keep: bool) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-growth-{size}-"))
    print(f"\n{size:,} images in {scratch}", flush=True)
    try:
        if only & {"report", "audit verify"}:
            started = time.perf_counter()
            project = build_db_project(scratch / "db", size)
            print(f"  database project built in {time.perf_counter() - started:.1f} s")
            events = size // 2 + size
            if "report" in only:
                with open_project(project) as opened:
                    out = scratch / "report.txt"
                    results.put(
                        "report",
                        size,
                        timed(lambda: write_report(opened, out, actor="bench"), events),
                    )
            if "audit verify" in only:
                results.put("audit verify", size, timed(lambda: verify_project(project), events))
        if only & {"scan", "scandir floor", "init", "rescan unchanged", "rescan changed"}:
            batch, project = scratch / "Batch", scratch / "files" / "project"
            started = time.perf_counter()
            make_tree(batch, size)
            print(f"  batch written in {time.perf_counter() - started:.1f} s", flush=True)
            scandir_floor(batch)  # the same warm dentry cache for scan and its floor
            if "scandir floor" in only:
                results.put("scandir floor", size, timed(lambda: scandir_floor(batch), size))
                results.put(
                    "scandir+read floor",
                    size,
                    timed(lambda: scandir_floor(batch, read=True), size),
                )
            if "scan" in only:
                result = ScanResult()
                results.put(
                    "scan",
                    size,
                    timed(lambda: sum(1 for _ in scan_batch(batch, result)), size),
                )
            if only & {"init", "rescan unchanged", "rescan changed"}:
                results.put("init", size, timed(lambda: init_project(batch, project), size))
                bulk_label(project, size // 2)
            if "rescan unchanged" in only:
                results.put(
                    "rescan unchanged", size, timed(lambda: init_project(batch, project), size)
                )
            if "rescan changed" in only:
                change_tree(batch, size)
                results.put(
                    "rescan changed", size, timed(lambda: init_project(batch, project), size)
                )
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def exponent(a: tuple[int, float], b: tuple[int, float]) -> float | None:
    if a[1] <= 0 or b[1] <= 0:
        return None
    return math.log(b[1] / a[1]) / math.log(b[0] / a[0])


def show(results: Results, sizes: list[int]) -> None:
    pairs = list(itertools.pairwise(sizes))
    print("\n==== bench_growth: CPU s (wall s), CPU us per item, exponent on CPU time ====")
    head = "".join(f"{f'{s:,}':>20}" for s in sizes)
    per = "".join(f"{f'us/item {s // 1000}k':>14}" for s in sizes)
    grow = "".join(f"{f'{a // 1000}k->{b // 1000}k':>12}" for a, b in pairs)
    print(f"{'operation':<18}{head}{per}{grow}  flag")
    for name, by_size in results.times.items():
        cells = "".join(
            f"{f'{by_size[s].cpu:.2f} ({by_size[s].wall:.2f})':>20}"
            if s in by_size
            else f"{'-':>20}"
            for s in sizes
        )
        items = "".join(
            f"{by_size[s].cpu / max(1, by_size[s].items) * 1e6:>14.1f}"
            if s in by_size
            else f"{'-':>14}"
            for s in sizes
        )
        exps = [
            exponent((a, by_size[a].cpu), (b, by_size[b].cpu))
            if a in by_size and b in by_size
            else None
            for a, b in pairs
        ]
        grows = "".join(f"{e:>12.2f}" if e is not None else f"{'-':>12}" for e in exps)
        flag = "FLAG: exponent > 1.1" if any(e is not None and e > 1.1 for e in exps) else ""
        print(f"{name:<18}{cells}{items}{grows}  {flag}")
    scan = results.times.get("scan", {})
    for name in ("scandir floor", "scandir+read floor"):
        floor = results.times.get(name, {})
        if floor and scan:
            ratios = "".join(
                f"{scan[s].cpu / floor[s].cpu:>11.1f}x"
                if s in scan and s in floor
                else f"{'-':>12}"
                for s in sizes
            )
            print(f"{'scan / ' + name + ' (cpu)':<34}{ratios}")
    # The kernel's share per file: what the filesystem itself costs as the tree grows.
    for name in ("scan", "scandir floor", "scandir+read floor"):
        by_size = results.times.get(name, {})
        if by_size:
            cells = "".join(
                f"{by_size[s].system / max(1, by_size[s].items) * 1e6:>12.2f}"
                if s in by_size
                else f"{'-':>12}"
                for s in sizes
            )
            print(f"{name + ': system us/item':<34}{cells}")
    init = results.times.get("init", {})
    for name, target in (("rescan unchanged", 1.5), ("rescan changed", 2.0)):
        rescan = results.times.get(name, {})
        for s in sizes:
            if s in rescan and s in init:
                print(
                    f"{name} / init at {s:,}: cpu {rescan[s].cpu / init[s].cpu:.2f}x, wall "
                    f"{rescan[s].wall / init[s].wall:.2f}x (target <= {target}x)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 300_000])
    parser.add_argument(
        "--only", action="append", choices=ALL, help="these operations only (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the batches and projects")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    only = set(args.only or ALL)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # Loaded before any timing: the report's renderers bring numpy, whose import is no part of it.
    for module in ("clinlabel.labelling.agreement", "clinlabel.reports.text"):
        importlib.import_module(module)
    results = Results()
    for size in sizes:
        measure(size, results, only, args.keep)
    show(results, sizes)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
