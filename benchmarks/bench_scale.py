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
  this benchmark's size); and its floor (`IMPORT_FLOOR`, as `bench_import` runs it): the same
  CSV read and an event and a label a row written by plain sqlite3 `executemany` in one
  transaction in a fresh process (time, peak RSS), with the ratio of the two (issue 12:
  within 5x; the import also hashes every file here, none hashed yet) and its memory per row;
- export, report, audit verify: `export_csv`, `write_report`, `verify_project` in process;
- rescan changed: after 10 % of the files were removed, 10 % added (new cases) and 1 %
  rewritten, `init_project` again.

Beside them, in the same run, floors that do the same work with nothing of clinlabel's: the
filesystem walk a scan cannot avoid (`os.walk`, 64 bytes of each file), the bare sqlite3 +
csv.writer process an export is held to (bench_bulk_export's), and every event read and hashed
by plain sqlite3 (what a verify cannot avoid). The batch is synced to disk before the scan (and
after the changes before the rescan), so that no timing includes the kernel's write-back.

For each operation: its time at each size and the growth exponent between consecutive sizes
(log of the time ratio over log of the size ratio). Operations that should not grow with the
project (per request) are shown in ms and marked "constant": they are flagged when they pass
their budget (issue 14: a window under 100 ms; a save within 1.2x of the smallest size). The
others are flagged when an exponent is over 1.1. A second table gives the CPU time (user +
system, of this process's threads or of the child process) and its exponent beside the floor's:
on a shared machine the wall time also measures the wait for a core, and growth that the floor
shows too (B-tree depth, the kernel's caches) is the machine's, not clinlabel's. Last, the
rescans' ratios to `init` (issue 14: at most 1.5x unchanged, 2x changed).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import math
import os
import re
import resource
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
from clinlabel.store.engine import DATABASE_FILE

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
class Timing:
    wall: float
    cpu: float


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cpu_timed(action: Callable[[], object]) -> Timing:
    """Wall and CPU seconds of `action`, CPU counted over this process's threads and the child
    processes it waited for: on a shared machine the wall time also measures the queue for a
    core, and the CPU time's growth is the operation's own."""
    cpu, children = time.process_time(), _children_cpu()
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    return Timing(wall, time.process_time() - cpu + _children_cpu() - children)


def best_of(action: Callable[[], object], runs: int = 2) -> Timing:
    timings = [cpu_timed(action) for _ in range(runs)]
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def walk_floor(batch: Path) -> int:
    """The filesystem's part of a scan: every folder listed and every file's first bytes read
    (the scan reads each header), in plain Python, nothing else."""
    count = 0
    for folder, _, files in os.walk(batch):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read(64)
            count += 1
    return count


@dataclass
class Op:
    name: str
    constant: bool
    budget_ms: float | None = None
    """For constant operations: flagged above this many ms."""
    seconds: dict[int, float] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    """CPU seconds (user + system) of the process doing the work, where the benchmark knows it."""
    floor: str | None = None
    """The name of the same-run floor this operation's growth is read against."""
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
        cpu: float | None = None,
        floor: str | None = None,
    ) -> None:
        op = self.ops.setdefault(name, Op(name, constant, budget_ms, floor=floor))
        op.seconds[size] = seconds
        if cpu is not None:
            op.cpu[size] = cpu

    def put_timing(self, name: str, size: int, timing: Timing, *, floor: str | None = None) -> None:
        self.put(name, size, timing.wall, cpu=timing.cpu, floor=floor)


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


IMPORT_FLOOR = (
    "import csv, hashlib, json, resource, sqlite3, sys\n"
    "table, path = sys.argv[1], sys.argv[2]\n"
    "db = sqlite3.connect(path, isolation_level=None)\n"
    "db.execute('PRAGMA journal_mode = WAL')\n"
    "db.execute('PRAGMA synchronous = FULL')\n"
    "db.execute('CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, actor TEXT, kind TEXT,"
    " image TEXT, frame INTEGER, data TEXT, hash TEXT)')\n"
    "db.execute('CREATE TABLE labels (id INTEGER PRIMARY KEY, image TEXT, annotator_id INTEGER,"
    " frame INTEGER, label TEXT, comment TEXT, event_id INTEGER, UNIQUE (image, annotator_id,"
    " frame))')\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "with open(table, newline='', encoding='utf-8') as handle:\n"
    "    rows = csv.reader(handle)\n"
    "    next(rows)\n"
    "    events, labels = [], []\n"
    "    for k, (case, visit, file, label, comment) in enumerate(rows, start=1):\n"
    "        image = f'{case}/{visit}/{file}'\n"
    "        data = json.dumps({'new': {'label': label, 'comment': comment}})\n"
    "        events.append((k, '2026-12-06T10:00:00.000000Z', 'imported', 'label_saved', image,"
    " 0, data, hashlib.sha256(data.encode()).hexdigest()))\n"
    "        labels.append((k, image, 1, 0, label, comment, k))\n"
    "        if len(events) == 2000:\n"
    "            db.executemany('INSERT INTO events VALUES (?,?,?,?,?,?,?,?)', events)\n"
    "            db.executemany('INSERT INTO labels VALUES (?,?,?,?,?,?,?)', labels)\n"
    "            events, labels = [], []\n"
    "    db.executemany('INSERT INTO events VALUES (?,?,?,?,?,?,?,?)', events)\n"
    "    db.executemany('INSERT INTO labels VALUES (?,?,?,?,?,?,?)', labels)\n"
    "db.execute('COMMIT')\n"
    f"{_PEAK}print('PEAK_RSS_KB', peak_kb(), file=sys.stderr)\n"
)
"""The floor an import is measured against (issue 12's "within 5x of a bare process"), in a fresh
Python process: the same labels CSV read with `csv.reader`, and an event (its data as JSON, a
SHA-256) and a label a row inserted into a new SQLite file (WAL, synchronous=FULL) by
`executemany` in one transaction; nothing else. Also a process's own memory (its peak RSS).
`bench_import` runs the same."""


EXPORT_FLOOR = (
    "import csv, os, sqlite3, sys\n"
    "query = ('SELECT i.case_name, i.visit, i.file, l.label, l.comment FROM images i '\n"
    "         'JOIN labels l ON l.image_id = i.id WHERE i.seq IS NOT NULL ORDER BY i.seq')\n"
    "with sqlite3.connect(sys.argv[1]) as raw, open(sys.argv[2], 'w', newline='',"
    " encoding='utf-8') as f:\n"
    "    writer = csv.writer(f)\n"
    "    writer.writerow(['case', 'visit', 'file', 'label', 'comment'])\n"
    "    cursor = raw.execute(query)\n"
    "    while rows := cursor.fetchmany(10_000):\n"
    "        writer.writerows(rows)\n"
    "    f.flush()\n"
    "    os.fsync(f.fileno())\n"
)
"""The labels CSV by plain sqlite3 and csv.writer in a fresh process (bench_bulk_export's bare
process): what an export's growth is read against."""

VERIFY_FLOOR = (
    "import hashlib, json, sqlite3, sys\n"
    "raw = sqlite3.connect(sys.argv[1])\n"
    "dumps = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False).encode\n"
    "previous = '0' * 64\n"
    "cursor = raw.execute('SELECT id, ts_utc, tz_offset_min, actor, session_id, kind, image_id,"
    " image, frame, active_ms, idle_ms, data, app_version, prev_hash FROM events ORDER BY id')\n"
    "while rows := cursor.fetchmany(10_000):\n"
    "    for row in rows:\n"
    "        previous = hashlib.sha256(dumps(list(row)).encode()).hexdigest()\n"
    "print(previous)\n"
)
"""Every event read in order and hashed as the chain hashes it, by plain sqlite3 in a fresh
process, checking nothing: what audit verify's growth is read against."""


def _bare(code: str, *args: str) -> None:
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)


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
        # Written files reach the disk in the background; without this the first reads below
        # would also time the kernel's write-back of a million new files.
        os.sync()
        result = ScanResult()
        # Best of two for both, alternated: the first walk of a fresh tree pays for caches.
        floor_runs, scan_runs = [], []
        for _ in range(2):
            floor_runs.append(cpu_timed(lambda: walk_floor(batch)))
            scan_runs.append(cpu_timed(lambda: sum(1 for _ in scan_batch(batch, result))))
        for name, runs in (
            ("scan floor (os.walk, 64 bytes a file)", floor_runs),
            ("scan", scan_runs),
        ):
            results.put(
                name,
                size,
                min(t.wall for t in runs),
                cpu=min(t.cpu for t in runs),
                floor="scan floor (os.walk, 64 bytes a file)" if name == "scan" else None,
            )
        results.put_timing("init", size, cpu_timed(lambda: init_project(batch, project)))
        labelled = size // 2
        started = time.perf_counter()
        bulk_label(project, labelled)
        print(f"  {labelled:,} labelled in bulk in {time.perf_counter() - started:.1f} s")
        results.put_timing(
            "rescan unchanged", size, cpu_timed(lambda: init_project(batch, project))
        )
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
        children = _children_cpu()
        seconds, rss = run_with_rss(
            "import", str(project), "--csv", str(table), "--annotator", "imported"
        )
        import_floor = "import floor (bare sqlite3 executemany)"
        results.put("import", size, seconds, cpu=_children_cpu() - children, floor=import_floor)
        results.rss_mb[size] = rss
        children = _children_cpu()
        bare, bare_rss = run_with_rss(str(table), str(scratch / "bare.sqlite"), code=IMPORT_FLOOR)
        results.put(import_floor, size, bare, cpu=_children_cpu() - children)
        results.bare_rss_mb[size] = bare_rss
        print("  export, report, verify ...", flush=True)
        database = str(project / DATABASE_FILE)
        export_floor = "export floor (sqlite3 + csv.writer)"
        results.put_timing(
            export_floor,
            size,
            cpu_timed(lambda: _bare(EXPORT_FLOOR, database, str(scratch / "bare.csv"))),
        )
        with open_project(project) as opened:
            results.put_timing(
                "export",
                size,
                cpu_timed(lambda: export_csv(opened, scratch / "out.csv", actor="bench")),
                floor=export_floor,
            )
            results.put_timing(
                "report",
                size,
                cpu_timed(lambda: write_report(opened, scratch / "report.txt", actor="bench")),
            )
        verify_floor = "verify floor (sqlite3, sha256 an event)"
        results.put_timing(verify_floor, size, cpu_timed(lambda: _bare(VERIFY_FLOOR, database)))
        results.put_timing(
            "audit verify", size, cpu_timed(lambda: verify_project(project)), floor=verify_floor
        )
        print("  rescan after changes ...", flush=True)
        change_tree(batch, size)
        os.sync()
        results.put_timing("rescan changed", size, cpu_timed(lambda: init_project(batch, project)))
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def exponent(times: dict[int, float], a: int, b: int) -> float | None:
    """The growth exponent of `times` (seconds by size) between sizes a and b."""
    ta, tb = times.get(a), times.get(b)
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
        exps = [exponent(op.seconds, a, b) for a, b in pairs]
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
        elif "floor" in op.name:
            flag = "floor: the reference, not flagged"
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
    show_cpu(results, sizes, pairs)
    init = results.ops.get("init")
    for name, target in (("rescan unchanged", 1.5), ("rescan changed", 2.0)):
        rescan = results.ops.get(name)
        if init and rescan:
            ratios = "".join(
                f"{rescan.seconds[s] / init.seconds[s]:>11.2f}x"
                if s in rescan.seconds and init.seconds.get(s)
                else f"{'-':>12}"
                for s in sizes
            )
            print(f"{f'{name} / init (target <= {target}x)':<42}{ratios}")
    print(f"\nflagged: {', '.join(flagged) if flagged else 'none'}")


def show_cpu(results: Results, sizes: list[int], pairs: list[tuple[int, int]]) -> None:
    """CPU time and its growth, beside the growth of the same-run floor the operation is read
    against (the filesystem's for the scan, plain sqlite3's for import, export and verify): an
    exponent the floor shares is the machine's (B-tree depth, caches), not clinlabel's."""
    timed_ops = [op for op in results.ops.values() if op.cpu and not op.constant]
    if not timed_ops:
        return
    head = "".join(f"{s:>12,}" for s in sizes)
    grow = "".join(f"{f'{a // 1000}k->{b // 1000}k':>12}" for a, b in pairs)
    print("\n==== CPU time (user + system of the working process), growth exponent ====")
    print(f"{'operation':<42}{head}{grow}  floor's exponent")
    for op in timed_ops:
        cells = "".join(f"{op.cpu[s]:>10.2f} s" if s in op.cpu else f"{'-':>12}" for s in sizes)
        exps = [exponent(op.cpu, a, b) for a, b in pairs]
        grows = "".join(f"{e:>12.2f}" if e is not None else f"{'-':>12}" for e in exps)
        floor = results.ops.get(op.floor) if op.floor else None
        beside = ""
        if floor is not None:
            floors = [exponent(floor.cpu, a, b) for a, b in pairs]
            beside = "  " + " ".join(f"{e:.2f}" if e is not None else "-" for e in floors)
        print(f"{op.name:<42}{cells}{grows}{beside}")


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
