"""Key press -> next image painted, in Chromium, with prefetch on and off (issue 3).

For each mode a fresh project (cold rendition cache) on the same demo batch (12 MP JPEGs
included) is served by a real `clinlabel label`; Chromium presses a label key, the page records
`performance.now()` from the key event to the `requestAnimationFrame` after the next image is
decoded and in the DOM, and the script waits for that frame, pauses like an annotator looking at
the picture (`--look-ms`), and presses again. Prints p50/p95 per mode and the ratio off/on.

    .venv/bin/python benchmarks/bench_label_latency.py [--labels 220] [--look-ms 250]
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from clinlabel.demo.batch import make_demo_batch

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# The page keeps its key-to-paint times (`clinlabel.metrics`) only when a test or a benchmark
# opened it: this runs before the page's own scripts (static/js/main.js).
INSTRUMENT = "window.__clinlabelInstrument = true;"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def start_server(batch: Path, out: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    handle = log.open("w")
    command = [sys.executable, "-m", "clinlabel", "label", str(batch), "--out", str(out)]
    command += ["--annotator", "bench", "--no-browser"]
    proc = subprocess.Popen(
        command,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Open: (http://\S+)", log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(log.read_text())


def run_mode(page: Page, url: str, *, labels: int, look_ms: int, prefetch: bool) -> list[float]:
    page.goto(url + ("&prefetch=0" if not prefetch else ""))
    page.wait_for_function("() => window.clinlabel && document.querySelector('#stage img')")
    rng = random.Random(7)
    for count in range(1, labels + 1):
        page.keyboard.press(rng.choice("12"))
        page.wait_for_function(f"() => window.clinlabel.metrics.length >= {count}", timeout=30_000)
        page.wait_for_timeout(look_ms)
    page.wait_for_function(
        "() => document.getElementById('save-status').textContent === 'All labels saved'"
    )
    metrics = page.evaluate("() => window.clinlabel.metrics")
    return [float(m["ms"]) for m in metrics if not m.get("failed")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=220, help="consecutive labels per mode")
    parser.add_argument("--look-ms", type=int, default=250, help="pause after each paint")
    parser.add_argument("--large", type=int, default=24, help="12 MP JPEGs in the batch")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        root = Path(tmp)
        per_visit = 10
        cases = max(2, -(-(args.labels + 10) // (2 * per_visit)))
        batch = make_demo_batch(
            root / "demo", cases=cases, visits=2, images_per_visit=per_visit, large_jpegs=args.large
        )
        print(f"demo batch: {cases} cases x 2 visits x {per_visit} photos, {args.large} 12 MP")
        results: dict[bool, list[float]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
            )
            for prefetch in (True, False):
                out = root / f"project-{'on' if prefetch else 'off'}"
                proc, url = start_server(batch, out, root / f"server-{prefetch}.log")
                try:
                    # CSP forbids string evaluation in the page; the benchmark's probes need it.
                    context = browser.new_context(
                        viewport={"width": 1400, "height": 860}, bypass_csp=True
                    )
                    context.add_init_script(INSTRUMENT)
                    page = context.new_page()
                    results[prefetch] = run_mode(
                        page, url, labels=args.labels, look_ms=args.look_ms, prefetch=prefetch
                    )
                    context.close()
                finally:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(timeout=30)
            browser.close()

    for prefetch in (True, False):
        values = results[prefetch]
        print(
            f"prefetch {'on ' if prefetch else 'off'}: n={len(values)}  "
            f"p50={statistics.median(values):6.1f} ms  p95={percentile(values, 95):6.1f} ms  "
            f"max={max(values):6.1f} ms"
        )
    on, off = results[True], results[False]
    print(
        f"ratio off/on: p50 x{statistics.median(off) / statistics.median(on):.1f}  "
        f"p95 x{percentile(off, 95) / percentile(on, 95):.1f}"
    )
    print(f"target p95 < 50 ms with prefetch: {'met' if percentile(on, 95) < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
