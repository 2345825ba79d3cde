"""Scan speed against a bare os.scandir walk in the same run, and peak memory on a million images.

    .venv/bin/python benchmarks/bench_scan.py [--images 100000] [--memory-images 1000000]
                                              [--repeat 5] [--skip-memory] [--skip-init]

Trees of tiny files (`make_bench_tree`) are built once under benchmarks/out/ (git-ignored) and
reused. Nothing is dropped from the page cache: every contender runs once untimed to warm it,
then the timed runs alternate and the median counts. Target: `scan_batch` within 2.5x of the bare
walk that makes the same system calls (a stat per file, and since issue 10 an open, one read of its
first bytes and a close, which decide what enters the queue); peak RSS of a million-image scan
well under 500 MB. The ratio to the walk with stat alone is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clinlabel.demo.batch import make_bench_tree
from clinlabel.discovery import scan_batch
from clinlabel.domain import ScanResult

OUT = Path(__file__).resolve().parent / "out"
TARGET_RATIO = 2.5
TARGET_RSS_MB = 500

_MEMORY_CHILD = """
import resource, sys
from pathlib import Path
from clinlabel.discovery import scan_batch
from clinlabel.domain import ScanResult

def peak():
    # VmHWM belongs to this process image; ru_maxrss may carry the parent's peak across fork+exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale

before = peak()
count = 0
for _ in scan_batch(Path(sys.argv[1]), ScanResult()):
    count += 1
print(count, before, peak())
"""


def bench_tree(images: int) -> Path:
    """The batch folder of a tree with `images` images, built on first use."""
    home = OUT / f"scan_tree_{images}"
    batch = home / "Batch"
    done = home / "complete"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        print(f"building a tree of {images:,} tiny images in {home} ...", flush=True)
        started = time.perf_counter()
        make_bench_tree(batch, images=images)
        done.write_text(f"{images}\n")
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return batch


def walk_names(root: str) -> int:
    """The floor: a recursive os.scandir walk that only reads names and entry types."""
    count = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    count += 1
    return count


def walk_stat(root: str) -> int:
    """The baseline: the same walk with the stat call per file that the scan needs for size."""
    count = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    entry.stat()
                    count += 1
    return count


def walk_sniff(root: str) -> int:
    """The baseline: the walk with the stat and the first-bytes read per file the scan needs."""
    count = 0
    stack = [root]
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    entry.stat()
                    fd = os.open(entry.path, flags)
                    os.read(fd, 1024)
                    os.close(fd)
                    count += 1
    return count


def scan(root: Path) -> int:
    count = 0
    for _ in scan_batch(root, ScanResult()):
        count += 1
    return count


def alternate(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per contender; one untimed warm-up each, then interleaved timed runs."""
    for run in contenders.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, run in contenders.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def time_init(batch: Path, repeat: int) -> float | None:
    """Median seconds of a full project init (scan into the database), or None if not built yet."""
    try:
        from clinlabel.labelling.project import init_project
    except ImportError:
        return None
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(dir=OUT) as scratch:
            started = time.perf_counter()
            init_project(batch, Path(scratch) / "project", parallel=True)  # as `init` does
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss(batch: Path) -> tuple[int, float, float]:
    """Images, and peak RSS in MB before and after scanning `batch` in a fresh interpreter."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(batch)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    count, before, after = (int(part) for part in done.stdout.split())
    return count, before / 2**20, after / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--memory-images", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs each (median; >= 3)")
    parser.add_argument("--skip-memory", action="store_true", help="no million-image tree")
    parser.add_argument("--skip-init", action="store_true", help="no project init timing")
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    OUT.mkdir(parents=True, exist_ok=True)

    batch = bench_tree(args.images)
    root = str(batch)
    medians = alternate(
        {
            "bare walk (names)": lambda: walk_names(root),
            "bare walk + stat": lambda: walk_stat(root),
            "bare walk + stat + sniff": lambda: walk_sniff(root),
            "scan_batch": lambda: scan(batch),
        },
        repeat,
    )
    found = scan(batch)
    if found != args.images:
        sys.exit(f"scan_batch found {found:,} images, expected {args.images:,}")
    baseline = medians["bare walk + stat + sniff"]
    print(f"\n{args.images:,} images, median of {repeat} alternated runs after a warm-up:")
    for name, seconds in medians.items():
        print(
            f"  {name:<24} {seconds:8.3f} s  {args.images / seconds:>12,.0f} images/s"
            f"  {seconds / baseline:5.2f}x bare walk + stat + sniff"
        )

    init_seconds = None if args.skip_init else time_init(batch, repeat=3)
    if args.skip_init:
        init_line = "skipped (--skip-init)"
    elif init_seconds is None:
        init_line = "not available (clinlabel.labelling.project.init_project)"
    else:
        ratio = init_seconds / baseline
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
        init_line = (
            f"{init_seconds:.3f} s, {args.images / init_seconds:,.0f} images/s, "
            f"{ratio:.2f}x bare walk + stat + sniff (target <= {TARGET_RATIO}x: {verdict})"
        )
    print(f"  init_project (scan into the database, median of 3): {init_line}")

    memory_line = "skipped (--skip-memory)"
    if not args.skip_memory:
        if sys.platform == "win32":
            memory_line = "not measured on Windows (no resource module)"
        else:
            big = bench_tree(args.memory_images)
            count, before, after = peak_rss(big)
            memory_line = (
                f"{after:.0f} MB peak RSS scanning {count:,} images "
                f"(interpreter and imports alone: {before:.0f} MB; target < {TARGET_RSS_MB} MB)"
            )
        print(f"  memory: {memory_line}")

    ratio = medians["scan_batch"] / baseline
    stat_ratio = medians["scan_batch"] / medians["bare walk + stat"]
    print("\n==== summary: bench_scan ====")
    print(f"images                 {args.images:,}")
    print(f"bare walk + stat       {medians['bare walk + stat']:.3f} s")
    print(f"  + sniff (baseline)   {baseline:.3f} s")
    print(
        f"scan_batch             {medians['scan_batch']:.3f} s  ratio {ratio:.2f}x "
        f"(target <= {TARGET_RATIO}x: {'ok' if ratio <= TARGET_RATIO else 'MISSED'}); "
        f"{stat_ratio:.2f}x the walk with stat alone"
    )
    print(f"init_project           {init_line}")
    print(f"peak memory            {memory_line}")


if __name__ == "__main__":
    main()
