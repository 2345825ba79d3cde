"""Regions in the page (issue 11), in Chromium: brush strokes on a 2048 x 2048 image, and an
image with 500 regions opened.

    .venv/bin/python benchmarks/bench_regions_page.py [--dabs 400] [--regions 500]

Brush: each step of a stroke (`RegionLayer.strokeTo`: the disc into the mask's bits and onto
the canvas) is timed in the page; baseline, alternated with it in the same page: one
`fillRect` of the disc's bounding square on a canvas of the same size, the least any paint of
those pixels costs. Target: p95 under 8 ms (a stroke at screen refresh).

Opening: 500 regions (boxes, polygons, points) on one image, then `RegionLayer.load` of that
image timed from its call to every shape in the layer; baseline: fetching and parsing the
same regions answer alone. Target: under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from bench_label_latency import CHROMIUM_ARGS, INSTRUMENT, percentile

SCHEMA = '[[labels]]\nname = "Yes"\nkey = "1"\n[[regions]]\nname = "Lesion"\n'

STROKE = """async ({dabs}) => {
    const layer = window.clinlabel.regions;
    layer.setTool('brush');
    const ours = [], bare = [];
    const scratch = document.createElement('canvas');
    scratch.width = scratch.height = 2048;
    const sctx = scratch.getContext('2d');
    layer.startStroke({x: 100, y: 100}, 1);
    for (let i = 0; i < dabs; i++) {
        const x = 100 + (i * 37) % 1800, y = 100 + Math.floor(i / 48) * 40;
        let t = performance.now();
        sctx.fillRect(x - layer.brush, y - layer.brush, 2 * layer.brush, 2 * layer.brush);
        bare.push(performance.now() - t);
        t = performance.now();
        layer.strokeTo({x, y});
        ours.push(performance.now() - t);
        if (i % 16 === 0) await new Promise(requestAnimationFrame);
    }
    layer.finishDrawing(false);
    layer.setTool(null);
    return {ours, bare};
}"""

OPEN = """async ({rounds}) => {
    const app = window.clinlabel;
    const layer = app.regions;
    const view = app.view;
    const ours = [], bare = [];
    for (let i = 0; i < rounds; i++) {
        let t = performance.now();
        await (await fetch(`/api/images/${view.id}/regions`, {credentials: 'same-origin'})).json();
        bare.push(performance.now() - t);
        t = performance.now();
        await layer.load(view, 0, null);
        const shapes = layer.svg.querySelectorAll('.region-shape').length;
        ours.push(performance.now() - t);
        if (shapes !== layer.regions.size) throw new Error(`${shapes} shapes drawn`);
    }
    return {ours, bare, count: layer.regions.size};
}"""


def serve(batch: Path, out: Path, log: Path, schema: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`clinlabel label` with a schema that declares a region class; its URL."""
    command = [sys.executable, "-m", "clinlabel", "label", str(batch), "--out", str(out)]
    command += ["--annotator", "bench", "--no-browser", "--schema", str(schema)]
    with log.open("w") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (found := re.search(r"Open: (http://\S+)", log.read_text())):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(log.read_text())
        time.sleep(0.05)
    return proc, found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dabs", type=int, default=400)
    parser.add_argument("--regions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-") as tmp:
        root = Path(tmp)
        folder = root / "batch" / "Case_1" / "Visit_1" / "XC"
        folder.mkdir(parents=True)
        ramp = (np.add.outer(np.arange(2048), np.arange(2048)) // 16 % 256).astype(np.uint8)
        Image.fromarray(ramp).save(folder / "big.png")
        (root / "schema.toml").write_text(SCHEMA)
        proc, url = serve(
            root / "batch", root / "project", root / "server.log", root / "schema.toml"
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
                )
                context = browser.new_context(
                    viewport={"width": 1400, "height": 860}, bypass_csp=True
                )
                context.add_init_script(INSTRUMENT)
                page = context.new_page()
                page.goto(url)
                try:
                    page.wait_for_function(
                        "() => window.clinlabel?.regions?.grid && window.clinlabel.viewer.img",
                        timeout=120_000,
                    )
                except Exception:
                    print((root / "server.log").read_text())
                    raise
                stroke = page.evaluate(STROKE, {"dabs": args.dabs})
                regions = []
                for i in range(args.regions):
                    x, y = 10 + (i * 53) % 1900, 10 + (i * 29) % 1900
                    if i % 3 == 0:
                        geometry: dict[str, object] = {"x": x, "y": y, "w": 60, "h": 40}
                        tool = "box"
                    elif i % 3 == 1:
                        geometry = {"points": [[x, y], [x + 50, y + 5], [x + 20, y + 45]]}
                        tool = "polygon"
                    else:
                        geometry, tool = {"x": x, "y": y}, "point"
                    regions.append({"class": "Lesion", "tool": tool, "geometry": geometry})
                page.evaluate(
                    """async (regions) => {
                        const id = window.clinlabel.view.id;
                        for (const [i, r] of regions.entries()) {
                            await fetch(`/api/regions/bench-${i}`, {
                                method: 'PUT', credentials: 'same-origin',
                                headers: {'Content-Type': 'application/json'},
                                body: JSON.stringify({...r, image_id: id}),
                            });
                        }
                    }""",
                    regions,
                )
                opened = page.evaluate(OPEN, {"rounds": args.rounds})
                context.close()
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)

    ours, bare = stroke["ours"], stroke["bare"]
    print(f"brush on 2048 x 2048, {len(ours)} stroke steps (radius 12 px)")
    print(
        f"  stroke step   p50 {statistics.median(ours):6.3f} ms  p95 {percentile(ours, 95):6.3f}"
        f" ms   one fillRect p50 {statistics.median(bare):6.3f} ms"
        f"  p95 {percentile(bare, 95):6.3f} ms"
    )
    print(f"  target p95 < 8 ms: {'met' if percentile(ours, 95) < 8 else 'NOT met'}")
    ours, bare = opened["ours"], opened["bare"]
    print(f"open an image with {opened['count']} regions, {len(ours)} rounds")
    print(
        f"  load + draw   p50 {statistics.median(ours):6.1f} ms  max {max(ours):6.1f} ms   "
        f"fetch + parse alone p50 {statistics.median(bare):6.1f} ms; "
        f"ratio x{statistics.median(ours) / max(statistics.median(bare), 1e-3):.1f}"
    )
    print(f"  target < 100 ms: {'met' if statistics.median(ours) < 100 else 'NOT met'}")
    print(json.dumps({"stroke_p95_ms": percentile(stroke["ours"], 95)}))


if __name__ == "__main__":
    main()
