"""Every operation of clinlabel at several batch sizes, and how each grows (issue 14).

    .venv/bin/python benchmarks/bench_scale.py [SIZE ...] [--keep] [--repeat 3]

Sizes default to 10000 30000 (a few minutes); the issue's figures are for 10000 100000 1000000
(the last takes about an hour and 10 GB of disk). For each size a batch of tiny real PNG files
(`Case_N/Visit_V/XC_CLINICAL/imgK.png`, 200 images a case, one 4x4 PNG's bytes written to every
path, unpadded numbers so that natural order matters) is written under benchmarks/out, then:

- scan: `discovery.scan.scan_batch` over the batch (headers read, as `clinlabel scan` does);
- init: `init_project` into a new project; half the images are then labelled in bulk
  (`_common.bulk_label`: hash-chained events, as the use case writes them);
- rescan unchanged: `init_project` again (what a second `init` and every launch does);
- label launch: `clinlabel label BATCH --out PROJECT --annotator bench --no-browser` as a
  subprocess, from its start until the first image's rendition answers 200, and until its
  background rescan has ended (the per-request figures are taken after that: the rescan runs
  in the server's process and slowed every request measured beside it);
- over HTTP (httpx) to that server: save p50 (`PUT /api/images/{id}/label` on images spread over
  the queue), `/api/progress`, review windows of 200 rows (first, next by keyset cursor, and deep
  by offset: the last window) for every sort, `/api/cases` and `/api/review/cases`;
- import: `clinlabel import` of a CSV naming every image (another annotator), as a subprocess:
  its time and peak RSS (VmHWM, the child's own: ru_maxrss survives exec and would report
  this benchmark's size); and its floor: the same rows (an event and a label each)
  written by plain sqlite3 `executemany` in one transaction in a fresh process (time, peak
  RSS), with the ratio of the two (issue 12: within 5x) and the import's memory per row;
- export, report, audit verify: `export_csv`, `write_report`, `verify_project` in process;
- rescan changed: after 10 % of the files were removed, 10 % added (new cases) and 1 %
  rewritten, `init_project` again.

For each operation: its time at each size and the growth exponent between consecutive sizes
(log of the time ratio over log of the size ratio). Operations that should not grow with the
project (per request) are shown in ms and marked "constant": they are flagged when they pass
their budget (issue 14: a window under 100 ms; a save within 1.2x of the smallest size). The
others are flagged when an exponent is over 1.1.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label, percentile
from clinlabel.discovery.scan import scan_batch
from clinlabel.domain import ScanResult
from clinlabel.labelling.audit_trail import verify_project
from clinlabel.labelling.outputs import export_csv, write_report
from clinlabel.labelling.project import init_project, open_project

OUT = Path(__file__).resolve().parent / "out"
PER_CASE = 200
VISITS = 2
WINDOW = 200
SAVES = 60
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
SORTS = ("position", "case", "visit", "file", "label", "comment", "seconds", "frames", "annotator")


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (4, 4), 128).save(out, "PNG")
    return out.getvalue()


def make_tree(root: Path, images: int, *, first_case: int = 1, prefix: str = "Case_") -> None:
    """`images` copies of one tiny PNG (plain files: no links, each its own identity)."""
    content = tiny_png()
    written = 0
    case = first_case
    while written < images:
        for visit in range(1, VISITS + 1):
            folder = os.path.join(
                os.fspath(root), f"{prefix}{case}", f"Visit_{visit}", "XC_CLINICAL"
            )
            os.makedirs(folder, exist_ok=True)
            for number in range(1, PER_CASE // VISITS + 1):
                if written == images:
                    break
                fd = os.open(os.path.join(folder, f"img{number}.png"), FLAGS, 0o644)
                try:
                    os.write(fd, content)
                finally:
                    os.close(fd)
                written += 1
        case += 1


def change_tree(batch: Path, images: int) -> None:
    """Remove 10 % of the files, add 10 % as new cases, rewrite 1 % with other bytes."""
    files = sorted(batch.rglob("*.png"))
    for path in files[::10]:
        path.unlink()
    changed = tiny_png() + b"\x00changed"
    for path in files[5::100]:
        path.write_bytes(changed)
    make_tree(batch, images // 10, prefix="Added_")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass
class Op:
    name: str
    constant: bool
    budget_ms: float | None = None
    """For constant operations: flagged above this many ms."""
    seconds: dict[int, float] = field(default_factory=dict)
    note: str = ""


class Results:
    def __init__(self) -> None:
        self.ops: dict[str, Op] = {}
        self.rss_mb: dict[int, float] = {}
        self.bare_rss_mb: dict[int, float] = {}

    def put(
        self,
        name: str,
        size: int,
        seconds: float,
        *,
        constant: bool = False,
        budget_ms: float | None = None,
    ) -> None:
        op = self.ops.setdefault(name, Op(name, constant, budget_ms))
        op.seconds[size] = seconds


class Server:
    """`clinlabel label` as a subprocess; the address and token from the line it prints."""

    def __init__(self, batch: Path, project: Path) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clinlabel",
                "label",
                str(batch),
                "--out",
                str(project),
                "--annotator",
                "bench",
                "--no-browser",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(),
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"Open: (http://[^/]+)/\?token=(\S+)", line)
            if found:
                self.base, token = found.group(1), found.group(2)
                break
        else:
            raise SystemExit(f"clinlabel label did not start (exit {self.process.wait()})")
        self.client = httpx.Client(
            base_url=self.base,
            headers={"X-Clinlabel-Token": token, "Origin": self.base},
            timeout=600,
        )

    def first_image(self) -> float:
        """Seconds from the start until the first image's rendition answered 200."""
        while True:
            queue = self.client.get("/api/queue", params={"start": 1, "count": 1})
            if queue.status_code == 200 and queue.json():
                image_id = queue.json()[0]["id"]
                if self.client.get(f"/api/images/{image_id}/rendition").status_code == 200:
                    return time.perf_counter() - self.started
            time.sleep(0.02)

    def rescan_done(self) -> float:
        """Seconds from the start until the background rescan (issue 14) reports an end."""
        while True:
            state = self.client.get("/api/rescan").json().get("state")
            if state in ("done", "failed", "stopped"):
                return time.perf_counter() - self.started
            time.sleep(0.05)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def median_of(action: Callable[[], object], repeat: int) -> float:
    action()  # warm
    return statistics.median(timed(action) for _ in range(repeat))


def over_http(server: Server, size: int, results: Results, repeat: int) -> None:
    """Per-request costs on the running server (HTTP through httpx, as the page asks)."""
    total = size
    # Saves on unlabelled images spread over the queue (the second half is unlabelled).
    positions = [total // 2 + 1 + k * (total // 2 - 1) // SAVES for k in range(SAVES)]
    saves = []
    for position in positions:
        [view] = server.get("/api/queue", start=position, count=1)
        started = time.perf_counter()
        answer = server.client.put(f"/api/images/{view['id']}/label", json={"label": "Suspicious"})
        saves.append(time.perf_counter() - started)
        answer.raise_for_status()
    results.put("save (HTTP) p50", size, statistics.median(saves), constant=True, budget_ms=50)
    results.put("save (HTTP) p95", size, percentile(saves, 95), constant=True, budget_ms=100)
    results.put(
        "/api/progress",
        size,
        median_of(lambda: server.get("/api/progress"), repeat * 3),
        constant=True,
        budget_ms=20,
    )
    results.put(
        "/api/cases",
        size,
        median_of(lambda: server.get("/api/cases"), repeat),
        constant=True,
        budget_ms=100,
    )
    results.put(
        "/api/review/cases",
        size,
        median_of(lambda: server.get("/api/review/cases"), repeat),
        constant=True,
        budget_ms=100,
    )
    for sort in SORTS:
        for direction in ("asc", "desc"):
            if direction == "desc" and sort not in ("position", "case", "file", "label"):
                continue
            query = {"sort": sort, "dir": direction, "limit": WINDOW}
            first = server.get("/api/review", **query)
            last = first["rows"][-1]["position"]
            known = first["total"]
            name = f"review {sort} {direction}"
            results.put(
                f"{name} first",
                size,
                median_of(lambda q=query: server.get("/api/review", **q), repeat),
                constant=True,
                budget_ms=100,
            )
            following = {**query, "offset": WINDOW, "after": last, "total": known}
            results.put(
                f"{name} next (keyset)",
                size,
                median_of(lambda q=following: server.get("/api/review", **q), repeat),
                constant=True,
                budget_ms=100,
            )
            deep = {**query, "offset": max(0, known - WINDOW), "total": known}
            results.put(
                f"{name} deep (offset)",
                size,
                median_of(lambda q=deep: server.get("/api/review", **q), repeat),
                constant=True,
                budget_ms=100,
            )
    for name, query in (
        ("review position label=NA", {"label": "NA"}),
        ("review file unlabelled", {"sort": "file", "unlabelled": "true"}),
    ):
        results.put(
            f"{name} first",
            size,
            median_of(lambda q=query: server.get("/api/review", **q, limit=WINDOW), repeat),
            constant=True,
            budget_ms=100,
        )


def import_csv(project: Path, path: Path) -> None:
    """A labels CSV naming every image of the project once."""
    from clinlabel.store import images as image_rows

    cycle = ["Suspicious", "Non-Suspicious", "NA"]
    with (
        open_project(project) as opened,
        opened.store.read() as conn,
        path.open("w", encoding="utf-8", newline="") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for k, (_, _, case, visit, file) in enumerate(image_rows.all_images(conn)):
            label = cycle[k % 3]
            writer.writerow([case, visit, file, label, f"retake #{k}" if label == "NA" else ""])


_PEAK = (
    "def peak_kb():\n"
    "    # VmHWM: this process's own peak since its exec. ru_maxrss is not: Linux keeps it across\n"
    "    # execve, so a child started from this (large) benchmark would report the parent's size.\n"
    "    try:\n"
    "        with open('/proc/self/status') as status:\n"
    "            for line in status:\n"
    "                if line.startswith('VmHWM:'):\n"
    "                    return int(line.split()[1])\n"
    "    except OSError:\n"
    "        pass\n"
    "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)

_RSS = (
    "import resource, runpy, sys\n"
    "sys.argv = ['clinlabel', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('clinlabel', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "else:\n"
    "    code = 0\n"
    f"{_PEAK}print('PEAK_RSS_KB', peak_kb(), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


_BARE = (
    "import resource, sqlite3, sys\n"
    "path, n = sys.argv[1], int(sys.argv[2])\n"
    "db = sqlite3.connect(path, isolation_level=None)\n"
    "db.execute('PRAGMA journal_mode = WAL')\n"
    "db.execute('PRAGMA synchronous = FULL')\n"
    "db.execute('CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, actor TEXT, kind TEXT,"
    " image_id INTEGER, image TEXT, frame INTEGER, data TEXT, prev_hash TEXT, hash TEXT)')\n"
    "db.execute('CREATE TABLE labels (id INTEGER PRIMARY KEY, image_id INTEGER,"
    " annotator_id INTEGER, frame INTEGER, label TEXT, comment TEXT, event_id INTEGER,"
    " UNIQUE (image_id, annotator_id, frame))')\n"
    "h = '0' * 64\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "db.executemany('INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)', ((k + 1,"
    " '2026-12-06T10:00:00.000000Z', 'imported', 'label_saved', k + 1,"
    " f'Case_{k // 200}/Visit_1/XC_CLINICAL/img{k}.png', 0,"
    ' \'{"new": {"label": "NA", "comment": ""}}\', h, h) for k in range(n)))\n'
    "db.executemany('INSERT INTO labels VALUES (?,?,?,?,?,?,?)',"
    " ((k + 1, k + 1, 1, 0, 'NA', '', k + 1) for k in range(n)))\n"
    "db.execute('COMMIT')\n"
    f"{_PEAK}print('PEAK_RSS_KB', peak_kb(), file=sys.stderr)\n"
)
"""The same rows an import writes (an event and a label each), by plain sqlite3 executemany in
one transaction, in a fresh Python process: the floor an import is measured against (issue 12's
"within 5x of a bare process") and a process's own memory (its peak RSS)."""


def run_with_rss(*args: str, code: str = _RSS) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of a clinlabel command (or `code`) in its own process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env()
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"clinlabel {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    found = re.search(r"PEAK_RSS_KB (\d+)", done.stderr)
    assert found, done.stderr
    return seconds, int(found.group(1)) / 1024


def measure(size: int, results: Results, repeat: int, keep: bool) -> None:
    scratch = Path(tempfile.mkdtemp(dir=OUT, prefix=f"scale-{size}-"))
    try:
        batch, project = scratch / "Batch", scratch / "project"
        print(f"\n{size:,} images: writing the batch ...", flush=True)
        print(f"  batch written in {timed(lambda: make_tree(batch, size)):.1f} s", flush=True)
        result = ScanResult()
        results.put("scan", size, timed(lambda: sum(1 for _ in scan_batch(batch, result))))
        results.put("init", size, timed(lambda: init_project(batch, project)))
        labelled = size // 2
        started = time.perf_counter()
        bulk_label(project, labelled)
        print(f"  {labelled:,} labelled in bulk in {time.perf_counter() - started:.1f} s")
        results.put("rescan unchanged", size, timed(lambda: init_project(batch, project)))
        print("  launching clinlabel label ...", flush=True)
        server = Server(batch, project)
        try:
            results.put(
                "label launch to first image",
                size,
                server.first_image(),
                constant=True,
                budget_ms=2000,
            )
            # The launch's background rescan shares the server's process (and its GIL): the
            # per-request figures are taken once it has ended, its own time reported apart.
            results.put("label launch: background rescan ends", size, server.rescan_done())
            over_http(server, size, results, repeat)
        finally:
            server.stop()
        print("  import ...", flush=True)
        table = scratch / "import.csv"
        import_csv(project, table)
        seconds, rss = run_with_rss(
            "import", str(project), "--csv", str(table), "--annotator", "imported"
        )
        results.put("import", size, seconds)
        results.rss_mb[size] = rss
        bare, bare_rss = run_with_rss(str(scratch / "bare.sqlite"), str(size), code=_BARE)
        results.put("import floor (bare sqlite3 executemany)", size, bare)
        results.bare_rss_mb[size] = bare_rss
        print("  export, report, verify ...", flush=True)
        with open_project(project) as opened:
            results.put(
                "export",
                size,
                timed(lambda: export_csv(opened, scratch / "out.csv", actor="bench")),
            )
            results.put(
                "report",
                size,
                timed(lambda: write_report(opened, scratch / "report.txt", actor="bench")),
            )
        results.put("audit verify", size, timed(lambda: verify_project(project)))
        print("  rescan after changes ...", flush=True)
        change_tree(batch, size)
        results.put("rescan changed", size, timed(lambda: init_project(batch, project)))
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def exponent(sizes: list[int], op: Op, a: int, b: int) -> float | None:
    ta, tb = op.seconds.get(a), op.seconds.get(b)
    if not ta or not tb:
        return None
    return math.log(tb / ta) / math.log(b / a)


def show(results: Results, sizes: list[int]) -> None:
    pairs = list(itertools.pairwise(sizes))
    head = "".join(f"{s:>12,}" for s in sizes)
    grow = "".join(f"{f'{a // 1000}k->{b // 1000}k':>12}" for a, b in pairs)
    print("\n==== bench_scale: time per size, growth exponent between sizes ====")
    print(f"{'operation':<42}{head}{grow}  flag")
    flagged = []
    for op in results.ops.values():
        if op.constant:
            cells = "".join(
                f"{op.seconds[s] * 1000:>9.1f} ms" if s in op.seconds else f"{'-':>12}"
                for s in sizes
            )
        else:
            cells = "".join(
                f"{op.seconds[s]:>10.2f} s" if s in op.seconds else f"{'-':>12}" for s in sizes
            )
        exps = [exponent(sizes, op, a, b) for a, b in pairs]
        grows = "".join(f"{e:>12.2f}" if e is not None else f"{'-':>12}" for e in exps)
        if op.constant:
            over = [
                s
                for s in sizes
                if s in op.seconds
                and op.budget_ms is not None
                and op.seconds[s] * 1000 > op.budget_ms
            ]
            flag = "constant" + (f"  OVER {op.budget_ms:.0f} ms at {over[0]:,}" if over else "")
            if over:
                flagged.append(op.name)
        else:
            steep = [e for e in exps if e is not None and e > 1.1]
            flag = "FLAG: exponent > 1.1" if steep else ""
            if steep:
                flagged.append(op.name)
        print(f"{op.name:<42}{cells}{grows}  {flag}")
    if results.rss_mb:
        rss = "".join(
            f"{results.rss_mb[s]:>9.0f} MB" if s in results.rss_mb else f"{'-':>12}" for s in sizes
        )
        print(f"{'import peak RSS':<42}{rss}")
        bare = "".join(
            f"{results.bare_rss_mb[s]:>9.0f} MB" if s in results.bare_rss_mb else f"{'-':>12}"
            for s in sizes
        )
        print(f"{'bare sqlite3 process peak RSS':<42}{bare}")
        # Below 10,000 rows the process's fixed size hides the slope.
        grown = [
            (a, b)
            for a, b in pairs
            if a in results.rss_mb and b in results.rss_mb and b > a >= 10_000
        ]
        for a, b in grown:
            per_row = (results.rss_mb[b] - results.rss_mb[a]) * 1024 * 1024 / (b - a)
            at_million = results.rss_mb[b] + per_row * (1_000_000 - b) / (1024 * 1024)
            print(
                f"  import memory {a:,} -> {b:,} rows: {per_row:.0f} bytes a row;"
                f" {at_million:.0f} MB at 1,000,000 rows by that slope (target: under 300 MB)"
            )
    imports = results.ops.get("import")
    floor = results.ops.get("import floor (bare sqlite3 executemany)")
    if imports and floor:
        ratios = "".join(
            f"{imports.seconds[s] / floor.seconds[s]:>11.1f}x"
            if s in imports.seconds and floor.seconds.get(s)
            else f"{'-':>12}"
            for s in sizes
        )
        print(f"{'import time / bare floor (target <= 5x)':<42}{ratios}")
    print(f"\nflagged: {', '.join(flagged) if flagged else 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 30_000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per request (median)")
    parser.add_argument("--keep", action="store_true", help="keep the batches and projects")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    if any(size < 2 * WINDOW for size in sizes):
        parser.error(f"sizes must be at least {2 * WINDOW}")
    OUT.mkdir(exist_ok=True)
    results = Results()
    for size in sizes:
        measure(size, results, max(1, args.repeat), args.keep)
    show(results, sizes)


if __name__ == "__main__":
    main()
