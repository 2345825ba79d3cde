"""Regions (issue 11): saving a region, durable and audited; the vessel assist on a 1024 frame.

    .venv/bin/python benchmarks/bench_regions.py [--regions 2000] [--frames 5]

Region saves: polygons of 40 vertices and brush masks, alternated with a baseline in the same
run and folder, a bare sqlite3 INSERT + COMMIT of the same geometry bytes (WAL,
synchronous=FULL). Target: the engine's p99 within 3x of the baseline's p99.

Vessel assist: the Frangi map of a 1024 x 1024 frame, computed fresh each time (target under
300 ms), against a baseline measured alongside: one Gaussian blur (sigma 3) of the same frame,
the filter's smallest building block.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import percentile
from bench_label_write import make_batch
from clinlabel.domain.regions import Extent, mask_from_array
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.regions import RegionEdit, RegionEditor
from clinlabel.labelling.service import LabellingSession

GRID = Extent(2048, 2048)
SCHEMA = '[[labels]]\nname = "Yes"\nkey = "1"\n[[regions]]\nname = "Lesion"\n'


def _shapes(i: int) -> tuple[str, dict[str, object]]:
    if i % 2 == 0:
        angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        cx, cy, r = 300 + i % 1000, 400 + i % 900, 50 + i % 40
        points = [[cx + r * np.cos(a) + 0.125, cy + r * np.sin(a)] for a in angles]
        return "polygon", {"points": [[float(x), float(y)] for x, y in points]}
    painted = np.zeros((GRID.height, GRID.width), dtype=bool)
    y, x = 200 + i % 1500, 100 + i % 1700
    painted[y : y + 60, x : x + 90] = True
    painted[y + 10 : y + 20, x + 100 : x + 140] = True
    return "brush", mask_from_array(painted)


class BareWriter:
    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "bare.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, uid TEXT, geometry TEXT)")

    def write(self, uid: str, geometry: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO t (uid, geometry) VALUES (?, ?)", (uid, geometry))
        self.db.execute("COMMIT")


def bench_saves(n: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="clinlabel-bench-", dir=Path.cwd()) as tmp:
        root = Path(tmp)
        batch = make_batch(root / "batch", 200)
        (root / "schema.toml").write_text(SCHEMA)
        init_project(batch, root / "project", schema_path=root / "schema.toml")
        bare = BareWriter(root)
        bare_times: list[float] = []
        ours: list[float] = []
        with open_project(root / "project") as project:
            session = LabellingSession(project, annotator="bench")
            session.start()
            editor = RegionEditor(session)
            ids = [view.id for view in session.queue(1, 200)]
            for i in range(n):
                tool, geometry = _shapes(i)
                text = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
                start = time.perf_counter()
                bare.write(f"r{i}", text)
                bare_times.append(time.perf_counter() - start)
                edit = RegionEdit(f"r{i}", ids[i % len(ids)], "Lesion", tool, geometry)
                start = time.perf_counter()
                editor.save(edit, extent=GRID, frames=1)
                ours.append(time.perf_counter() - start)
            session.close()
        bare.db.close()
    return bare_times, ours


def bench_assist(frames: int) -> tuple[list[float], list[float]]:
    from scipy.ndimage import gaussian_filter

    from clinlabel.imaging.vesselness import vessel_map

    rng = np.random.default_rng(1)
    rows, cols = np.mgrid[:1024, :1024]
    blur: list[float] = []
    ours: list[float] = []
    vessel_map(rng.normal(1000, 20, (256, 256)), spacing_mm=0.3)  # imports, first-call costs
    for i in range(frames):
        frame = rng.normal(1000, 20, (1024, 1024))
        frame[np.abs(rows - (0.4 + 0.1 * i) * cols - 100) < 4] -= 300
        frame = frame.astype(np.int16)
        start = time.perf_counter()
        gaussian_filter(frame.astype(np.float32), 3.0)
        blur.append(time.perf_counter() - start)
        start = time.perf_counter()
        vessel_map(frame, spacing_mm=0.3)
        ours.append(time.perf_counter() - start)
    return blur, ours


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=5)
    args = parser.parse_args()
    bare, ours = bench_saves(args.regions)
    for name, times in (("bare sqlite3 insert+commit", bare), ("clinlabel region save", ours)):
        print(
            f"{name:28s} p50 {percentile(times, 50) * 1000:7.3f} ms   "
            f"p99 {percentile(times, 99) * 1000:7.3f} ms   n={len(times)}"
        )
    ratio = percentile(ours, 99) / percentile(bare, 99)
    print(f"region save ratio p99 {ratio:.2f}x (target <= 3x)")
    blur, assist = bench_assist(args.frames)
    median_blur, median_assist = percentile(blur, 50), percentile(assist, 50)
    print(
        f"vessel assist 1024x1024: median {median_assist * 1000:.0f} ms (target < 300 ms); "
        f"one Gaussian blur {median_blur * 1000:.0f} ms; ratio {median_assist / median_blur:.1f}x"
    )


if __name__ == "__main__":
    main()
