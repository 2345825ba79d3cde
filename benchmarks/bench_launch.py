"""Where `clinlabel label` spends its time before the first image (issue 14: under 2 s at 1M).

    .venv/bin/python benchmarks/bench_launch.py [SIZE ...] [--root DIR] [--repeat 3]

For each size (default 10000 100000) a batch of tiny real PNG files and its project (`init`,
half labelled in bulk) are made under `--root` (kept and reused: a second run only launches).
Then `clinlabel label BATCH --out PROJECT --annotator bench --no-browser` is started `--repeat`
times as a subprocess wrapped by a tracer that prints the wall time, since the process was
started, of each step of the launch:

- interpreter: Python up, before clinlabel is imported;
- imports: `clinlabel.cli` imported (the command line's own modules);
- label command: the command's body reached (click parsed, its lazy imports done);
- migrations: `Store.migrate` (the schema check each open does) began and ended;
- project open: `Workbench.open` began and ended (lock, open, session, first image);
- server ready: uvicorn's startup done (the socket answers);
- first answer, first image: the first `/api/queue` answer and the first image's rendition,
  timed here by the parent on the same clock;
- image statements before ready: statements naming the images table run on any thread
  between the process start and "server ready" (the background rescan's compare reads the
  whole table: it must come after).
The background rescan's end is printed too (it shares the process).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _common import bulk_label
from bench_scale import make_tree
from clinlabel.labelling.project import init_project
from clinlabel.store.engine import DATABASE_FILE

_TRACER = r"""
import os, sys, time, threading
T0 = float(os.environ["LAUNCH_T0"])
def mark(what):
    print(f"@@ {what} {time.time() - T0:.3f}", file=sys.stderr, flush=True)
mark("interpreter")
import clinlabel.cli as cli
mark("imports")
from clinlabel.cli import label as label_cli
body = label_cli.label_command.callback
def traced_body(*a, **k):
    mark("label command")
    import uvicorn
    from sqlalchemy import event
    from clinlabel.store.store import Store
    from clinlabel.web.workbench import Workbench
    ready = threading.Event()
    counted = [0]
    original_init = Store.__init__
    def store_init(self, engine, *args, **kwargs):
        original_init(self, engine, *args, **kwargs)
        def before(_c, _cur, sql, *_):
            if not ready.is_set() and " images" in sql:
                counted[0] += 1
        event.listen(engine, "before_cursor_execute", before)
    Store.__init__ = store_init
    migrate = Store.migrate
    def traced_migrate(self):
        mark("migrations begin")
        try:
            return migrate(self)
        finally:
            mark("migrations end")
    Store.migrate = traced_migrate
    open_ = Workbench.open
    def traced_open(self, *args):
        mark("project open begin")
        try:
            return open_(self, *args)
        finally:
            mark("project open end")
    Workbench.open = traced_open
    startup = uvicorn.Server.startup
    async def traced_startup(self, *args, **kwargs):
        await startup(self, *args, **kwargs)
        ready.set()
        mark("server ready")
        print(f"@@ image statements before ready {counted[0]}", file=sys.stderr, flush=True)
    uvicorn.Server.startup = traced_startup
    return body(*a, **k)
label_cli.label_command.callback = traced_body
sys.argv = ["clinlabel", *sys.argv[1:]]
cli.main()
"""


def build(root: Path, size: int) -> tuple[Path, Path]:
    batch, project = root / f"batch-{size}", root / f"project-{size}"
    if not (project / DATABASE_FILE).exists():
        started = time.perf_counter()
        make_tree(batch, size)
        init_project(batch, project)
        bulk_label(project, size // 2)
        print(f"built {size:,} images in {time.perf_counter() - started:.1f} s", flush=True)
    return batch, project


def launch(batch: Path, project: Path) -> dict[str, float]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    started = time.time()
    env["LAUNCH_T0"] = repr(started)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _TRACER,
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
        env=env,
    )
    marks: dict[str, float] = {}
    assert process.stdout is not None
    base = token = ""
    for line in process.stdout:
        found = re.match(r"@@ (.+) (\S+)$", line.strip())
        if found:
            marks.setdefault(found.group(1), float(found.group(2)))
        url = re.search(r"Open: (http://[^/]+)/\?token=(\S+)", line)
        if url:
            base, token = url.group(1), url.group(2)
        if "server ready" in marks and "image statements before ready" in marks and base:
            break
    client = httpx.Client(
        base_url=base, headers={"X-Clinlabel-Token": token, "Origin": base}, timeout=600
    )
    try:
        while True:
            queue = client.get("/api/queue", params={"start": 1, "count": 1})
            marks.setdefault("first answer", time.time() - started)
            if queue.status_code == 200 and queue.json():
                image_id = queue.json()[0]["id"]
                if client.get(f"/api/images/{image_id}/rendition").status_code == 200:
                    marks["first image"] = time.time() - started
                    break
            time.sleep(0.02)
        while client.get("/api/rescan").json().get("state") not in ("done", "failed", "stopped"):
            time.sleep(0.05)
        marks["background rescan ends"] = time.time() - started
    finally:
        client.close()
        process.send_signal(2)
        process.wait(timeout=60)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--root", type=Path, default=Path("/tmp/clinlabel-bench-launch"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes:
        batch, project = build(args.root / str(size), size)
        runs = [launch(batch, project) for _ in range(max(1, args.repeat))]
        print(f"\n{size:,} images, median of {len(runs)} launches (seconds since process start):")
        for name in runs[0]:
            values = [run[name] for run in runs if name in run]
            unit = "" if name == "image statements before ready" else " s"
            print(f"  {name:<32} {statistics.median(values):8.3f}{unit}")


if __name__ == "__main__":
    main()
