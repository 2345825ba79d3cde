"""Region exports (issue 12): the COCO export of N regions against writing the same
dictionaries with `json.dump`.

    .venv/bin/python benchmarks/bench_exports.py [--regions 5000] [--repeat 5]

The export is `exports.coco.write_coco` on regions as the project holds them (half polygons of
40 vertices, half brush masks as row-major run lengths on a 512 x 512 grid): it turns each mask
into column-major COCO RLE, computes its box and area, and writes the file atomically. The
baseline writes the finished COCO dictionary (made once, outside the timing) with `json.dump`
to a plain file, flushed and fsynced the same way. Target: the export within 3x the baseline
(median of the repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from clinlabel.domain.regions import mask_from_array
from clinlabel.exports.coco import coco_document, write_coco
from clinlabel.exports.region_data import DrawnImage, DrawnRegion, RegionExport

SIZE = 512


def make_export(count: int) -> RegionExport:
    images = [
        DrawnImage(f"Case_{n // 10:04d}/Visit_1/XC/img{n % 10}.png", 0, None, f"Case_{n // 10:04d}",
                   "raster", SIZE, SIZE)
        for n in range(max(1, count // 4))
    ]  # fmt: skip
    regions = []
    for i in range(count):
        image = images[i % len(images)]
        if i % 2 == 0:
            angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
            cx, cy, r = 100 + i % 300, 120 + i % 250, 20 + i % 60
            points = [[round(cx + r * np.cos(a), 3), round(cy + r * np.sin(a), 3)] for a in angles]
            regions.append(DrawnRegion(f"p{i}", image, "Dr A", "Lesion", "polygon",
                                       {"points": points}, ""))  # fmt: skip
        else:
            painted = np.zeros((SIZE, SIZE), dtype=bool)
            y, x = 20 + i % 400, 30 + i % 380
            painted[y : y + 60, x : x + 70] = True
            painted[y + 5 : y + 25, x + 75 : x + 100] = True
            regions.append(DrawnRegion(f"m{i}", image, "Dr A", "Vessel", "brush",
                                       mask_from_array(painted), ""))  # fmt: skip
    return RegionExport(("Lesion", "Vessel"), ("#e4572e", "#29335c"), tuple(regions), tuple(images))


def baseline(document: dict[str, object], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    export = make_export(args.regions)
    document, _ = coco_document(export)
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):
            start = time.perf_counter()
            write_coco(export, folder / "export")
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            baseline(document, folder / "baseline.json")
            theirs.append(time.perf_counter() - start)
        size = (folder / "export" / "instances.json").stat().st_size
    export_s, base_s = statistics.median(ours), statistics.median(theirs)
    ratio = export_s / base_s
    print(f"COCO export of {args.regions} regions ({size / 1e6:.1f} MB), median of {args.repeat}")
    print(f"  clinlabel write_coco   {export_s * 1000:8.1f} ms")
    print(f"  json.dump baseline     {base_s * 1000:8.1f} ms")
    verdict = "met" if ratio <= 3 else "NOT met"
    print(f"  ratio                  {ratio:8.2f}x  (target <= 3x: {verdict})")


if __name__ == "__main__":
    main()
