"""Rescan against creating the project, in the same run, and how each grows with the batch.

    .venv/bin/python benchmarks/bench_rescan.py [--sizes 10000,100000] [--repeat 3]

For each size a fresh tree of tiny real files is written (`make_bench_tree`), then:
- create: `init_project` into a new project folder (scan + insert), the baseline;
- rescan, unchanged: `init_project` again on that project (what every `clinlabel label` launch
  and second `init` does);
- rescan, changed: after 10 % of the files were removed, 10 % added (new visits) and 1 %
  rewritten with other bytes (another size), the first rescan that sees it;
- label launch: from starting `clinlabel label BATCH --out PROJECT --annotator A` on the
  existing project (a subprocess, interpreter start included) to the first image's rendition
  answered (`/api/images/ID/rendition`); the rescan runs in the background meanwhile, and
  its own end is timed too (`/api/rescan` done);
- Ctrl+C: `clinlabel init` of a new project interrupted half-way through (by the create time
  measured before): seconds from SIGINT to the process's end.
Targets (issue 14): unchanged within 1.5x of create, changed within 2x, at every size; the growth
exponent (log time ratio / log size ratio) of each operation at most 1.1 between sizes.
"""

from __future__ import annotations

import argparse
import itertools
import json
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
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from PIL import Image

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


def _default_sigint() -> None:
    # Started from a background job, this process ignores SIGINT, and its children would
    # inherit that (Python keeps an ignored SIGINT ignored): give them the default back.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"X-Clinlabel-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url}: {exc.code} {exc.read().decode(errors='replace')}") from exc


def launch_to_first_image(batch: Path, project: Path) -> tuple[float, float]:
    """Seconds from starting `clinlabel label` to the first image's rendition, and to the
    background rescan's end."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "clinlabel", "label", str(batch), "--out", str(project),
         "--annotator", "bench", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        for line in server.stdout:
            found = re.search(r"Open: (http://[^/]+)/\?token=(\S+)", line)
            if found:
                base, token = found.groups()
                break
        else:
            raise RuntimeError("clinlabel label printed no link")
        linked = time.perf_counter() - started
        session = json.loads(_get(f"{base}/api/session", token))
        image_id = session["shown"]["image"]["id"]
        _get(f"{base}/api/images/{image_id}/rendition", token)
        first_image = time.perf_counter() - started
        print(f"  label: link printed after {linked:.2f} s, first image after {first_image:.2f} s")
        while json.loads(_get(f"{base}/api/rescan", token))["state"] not in (
            "done", "failed", "none"
        ):  # fmt: skip
            time.sleep(0.05)
        rescanned = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)
    return first_image, rescanned


def open_in_process(batch: Path, project: Path) -> float:
    """Seconds for a labelling server to open the existing project and have its first image
    ready to serve (`Workbench.open`, no interpreter start): before issue 14 this included a
    whole rescan."""
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    bench = Workbench(WebSettings(batch=batch.resolve(), token="t" * 32, port=1))
    try:
        started = time.perf_counter()
        bench.call_now(bench.open, project, "bench")
        took = time.perf_counter() - started
        assert bench.rescan is not None
        bench.rescan.wait()
    finally:
        bench.shutdown()
    return took


def startup_time() -> float:
    """Seconds for `clinlabel init --help` to start and end: the interpreter and the imports."""
    return timed(
        lambda: subprocess.run(
            [sys.executable, "-m", "clinlabel", "init", "--help"],
            check=True,
            capture_output=True,
        )
    )


def interrupt_after(batch: Path, project: Path, delay: float) -> float:
    """Seconds from Ctrl+C (SIGINT), sent `delay` seconds into `clinlabel init`, to its end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "clinlabel", "init", str(batch), "--out", str(project)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    time.sleep(delay)
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=600)
    took = time.perf_counter() - sent
    if process.returncode != 130 or "Interrupted: nothing was changed." not in err:
        print(f"  (init ended before Ctrl+C or otherwise: status {process.returncode})")
    return took


def measure(size: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=OUT) as scratch_name:
        scratch = Path(scratch_name)
        batch = scratch / "Batch"
        make_bench_tree(batch, images=size)
        first = min(batch.glob("Case_*/Visit_1/XC_CLINICAL/img1.jpg"))
        Image.new("RGB", (64, 48), (120, 80, 60)).save(first)  # decodable: a real first image
        creates = []
        for attempt in range(repeat):
            project = scratch / f"project{attempt}"
            creates.append(timed(lambda p=project: init_project(batch, p)))
        project = scratch / "project0"
        unchanged = statistics.median(
            timed(lambda: init_project(batch, project)) for _ in range(repeat)
        )
        launch, background = launch_to_first_image(batch, project)
        opened = open_in_process(batch, project)
        change_tree(batch)
        changed = timed(lambda: init_project(batch, project))
        # Half-way through the scan: past the interpreter's start, then half the create time.
        delay = startup_time() + statistics.median(creates) / 2
        stop = interrupt_after(batch, scratch / "interrupted", delay)
        for attempt in range(1, repeat):
            shutil.rmtree(scratch / f"project{attempt}", ignore_errors=True)
        os.sync()
    return {
        "create": statistics.median(creates),
        "unchanged": unchanged,
        "changed": changed,
        "launch": launch,
        "open": opened,
        "background": background,
        "interrupt": stop,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000")
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
    heads = ("launch->1st image", "ratio", "rescan done", "open", "Ctrl+C->exit")
    print(
        f"\n{'images':>10} {heads[0]:>18} {heads[1]:>6} {heads[2]:>12} {heads[3]:>7} {heads[4]:>13}"
    )
    for size, r in results.items():
        print(
            f"{size:>10,} {r['launch']:17.2f}s {r['launch'] / r['create']:6.2f} "
            f"{r['background']:11.2f}s {r['open']:6.2f}s {r['interrupt']:12.2f}s"
        )
    print(
        "launch: a subprocess, interpreter start included; open: Workbench.open in process "
        "(what waited for a whole rescan before); ratio: launch / create"
    )
    print("targets: first image under 2 s at 1M images; Ctrl+C within a second")
    for small, large in itertools.pairwise(sizes):
        growth = math.log(large / small)
        exponents = {
            name: math.log(results[large][name] / results[small][name]) / growth
            for name in ("create", "unchanged", "changed", "launch", "open")
        }
        shown = ", ".join(f"{name} {value:.2f}" for name, value in exponents.items())
        print(f"growth exponent {small:,} -> {large:,}: {shown} (target <= 1.1)")


if __name__ == "__main__":
    main()
