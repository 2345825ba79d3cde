"""Bulk export at the speed of the database (issue 12): `clinlabel export --csv` of N labels as
a process, against a bare process that queries the same table and writes it with csv.writer,
both measured in the same run; and the COCO export of N regions against json.dump of the same
dictionaries (bench_exports.py's comparison, at bulk size).

    .venv/bin/python benchmarks/bench_bulk_export.py [--labels 100000] [--regions 100000]
        [--before-src DIR]

Each command runs as its own process, as a user runs it (start-up included on both sides);
the figure is the median of --repeat runs, as wall time and as the process's CPU time (user +
system, which waits less on a shared, loaded machine), each with its ratio to the bare
process. The first export of a project verifies the whole audit trail; later ones verify only
the events since the head verified last (kept in `meta`), which is what a user exporting again
and again pays: both are shown.
`--before-src DIR` (a `src` folder of another version, e.g. `git archive BASE src`) also times
that version's `export --csv` in the same run, alternating with this one's, on the same project.
Targets: the CSV export within 3x of the bare process, COCO within 3x of json.dump.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_export_report import build_project

BARE = """
import csv, sqlite3, sys
query = (
    "SELECT i.case_name, i.visit, i.file, l.label, l.comment FROM images i "
    "JOIN labels l ON l.image_id = i.id WHERE i.seq IS NOT NULL ORDER BY i.seq"
)
with sqlite3.connect(sys.argv[1]) as raw, open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    f.write("\\ufeff")
    writer = csv.writer(f)
    writer.writerow(["case", "visit", "file", "label", "comment"])
    cursor = raw.execute(query)
    while rows := cursor.fetchmany(10_000):
        writer.writerows(rows)
    f.flush()
    import os
    os.fsync(f.fileno())
"""


BEFORE = "export --csv (--before-src)"
FIRST_BEFORE = "first export (--before-src)"

CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system) of each kind of process, by name: on a shared, loaded machine
the wall times wait for a core, the CPU times much less, so both ratios are printed."""


def run(args: list[str], name: str = "", src: str | None = None) -> float:
    env = {**os.environ} if src is None else {**os.environ, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(name, []).append(cpu)
    return wall


def csv_export(labels: int, repeat: int, before_src: str | None = None) -> None:
    from clinlabel.store.engine import DATABASE_FILE

    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        root = Path(tmp)
        project = build_project(root, labels)
        cli = [sys.executable, "-m", "clinlabel", "export", str(project)]
        bare_cmd = [sys.executable, "-c", BARE, str(project / DATABASE_FILE), str(root / "b.csv")]
        first_before: list[float] = []
        if before_src is not None:  # its first export on a copy: the trail as yet unchecked
            copy = root / "before"
            shutil.copytree(project, copy)
            first_before.append(
                run(
                    [*cli[:-1], str(copy), "--csv", str(root / "first-before.csv")],
                    FIRST_BEFORE,
                    src=before_src,
                )
            )
        first = run([*cli, "--csv", str(root / "first.csv")], "export (first: whole trail)")
        bare, plain, reported, older = [], [], [], []
        for _ in range(repeat):
            bare.append(run(bare_cmd, "bare"))
            if before_src is not None:
                older.append(run([*cli, "--csv", str(root / "old.csv")], BEFORE, src=before_src))
            plain.append(run([*cli, "--csv", str(root / "out.csv")], "export --csv"))
            reported.append(
                run(
                    [*cli, "--csv", str(root / "rep" / "out.csv"), "--report"],
                    "export --csv --report",
                )
            )
        lines = (root / "out.csv").read_text(encoding="utf-8-sig").count("\n")
        assert lines == labels + 1, lines
        if before_src is not None:
            assert (root / "old.csv").read_bytes() == (root / "out.csv").read_bytes()
        bare_s, bare_cpu = statistics.median(bare), statistics.median(CPU["bare"])
        print(f"clinlabel export --csv of {labels:,} labels, median of {repeat} (processes)")
        print(f"  {'':35} {'wall':>9} {'ratio':>7} {'CPU':>9} {'ratio':>7}")
        print(f"  bare sqlite3 + csv.writer process   {bare_s:7.2f} s {'':7} {bare_cpu:7.2f} s")
        for name, times in [
            *([(FIRST_BEFORE, first_before)] if first_before else []),
            ("export (first: whole trail)", [first]),
            *([(BEFORE, older)] if older else []),
            ("export --csv", plain),
            ("export --csv --report", reported),
        ]:
            value, cpu = statistics.median(times), statistics.median(CPU[name])
            print(
                f"  {name:35} {value:7.2f} s {value / bare_s:6.2f}x {cpu:7.2f} s"
                f" {cpu / bare_cpu:6.2f}x"
            )
        verdict = "met" if statistics.median(plain) / bare_s <= 3 else "NOT met"
        print(f"  (target: export --csv within 3x of the bare process: {verdict})")


def coco_export(regions: int, repeat: int) -> None:
    from bench_exports import baseline, make_export
    from clinlabel.exports.coco import coco_document, write_coco

    export = make_export(regions)
    document, _ = coco_document(export)
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        folder = Path(tmp)
        for _ in range(repeat):
            start = time.perf_counter()
            write_coco(export, folder / "export")
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            baseline(document, folder / "baseline.json")
            theirs.append(time.perf_counter() - start)
    ours_s, base_s = statistics.median(ours), statistics.median(theirs)
    ratio = ours_s / base_s
    print(f"COCO export of {regions:,} regions, median of {repeat}")
    print(f"  json.dump of the same dictionaries  {base_s:7.2f} s")
    print(f"  write_coco                          {ours_s:7.2f} s   {ratio:5.2f}x")
    print(f"  (target: within 3x: {'met' if ratio <= 3 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--regions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before-src", help="another version's src folder, timed alongside")
    args = parser.parse_args()
    if args.labels:
        csv_export(args.labels, args.repeat, args.before_src)
    if args.regions:
        coco_export(args.regions, args.repeat)


if __name__ == "__main__":
    main()
