"""COCO instances (`instances.json`): what detection and segmentation training code reads.

Format (https://cocodataset.org/#format-data, "Object Detection")
    images       one entry per frame or slice with at least one region: `file_name` is the
                 image's path below the batch, `width`/`height` its drawing grid, and clinlabel's
                 own keys `frame` (0: the whole file; DICOM frames and slices from 1), `plane`
                 (a volume's slice plane, else null) and `case`.
    categories   the schema's region classes in order, ids from 1.
    annotations  polygons as `segmentation: [[x1, y1, x2, y2, ...]]` with their shoelace area;
                 boxes as `bbox` with `segmentation: []` (a box says nothing about a mask) and
                 area w*h; brush masks (and accepted or interpolated masks) as compressed COCO RLE
                 (column-major counts, as `pycocotools.mask` encodes them) with `bbox` and `area`
                 from the painted pixels. `iscrowd` is 0: every region is one object.
                 `attributes` carries the annotator, tool, comment and region id.
    Points are not objects in COCO's instance format; they are left out and counted in the
    export's audit event (the PNG, NIfTI and labelme exports keep them).

The RLE string is made here (the few lines of pycocotools' `rleToString`), so the export needs
no compiled dependency; the tests decode every mask with pycocotools itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clinlabel.atomic import atomic_writer
from clinlabel.exports.region_data import DrawnRegion, RegionExport, is_mask

NAME = "instances.json"


def column_major_runs(painted: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts: runs over the mask read column by column, from 0s.

    Only the columns holding painted pixels are read; the empty columns before and after them
    are one run of zeros each, added by arithmetic (a mask is a small part of its frame).
    """
    grid = np.asarray(painted, dtype=bool)
    height, width = grid.shape
    cols = np.flatnonzero(grid.any(axis=0))
    if cols.size == 0:
        return [height * width]
    first, last = int(cols[0]), int(cols[-1])
    flat = grid[:, first : last + 1].ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs: list[int] = np.diff(edges).tolist()
    if flat[0]:
        runs = [0, *runs]
    runs[0] += first * height
    trailing = (width - 1 - last) * height
    if trailing:
        if flat[-1]:
            runs.append(trailing)
        else:
            runs[-1] += trailing
    return runs


def runs_bbox(width: int, runs: list[int]) -> tuple[int, int, int, int, int]:
    """(x, y, w, h, area) of a mask from its row-major runs, without making its grid."""
    lengths = np.asarray(runs, dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    painted = slice(1, None, 2)
    s, e = starts[painted], ends[painted]
    keep = e > s
    s, e = s[keep], e[keep] - 1
    if s.size == 0:
        return 0, 0, 0, 0, 0
    top, bottom = int(s.min() // width), int(e.max() // width)
    # A run that wraps onto the next row holds the last column of one row and the first of
    # the next: the box is then the full width.
    if ((s // width) != (e // width)).any():
        left, right = 0, width - 1
    else:
        left, right = int((s % width).min()), int((e % width).max())
    return left, top, right - left + 1, bottom - top + 1, int(lengths[painted].sum())


def mask_columns(width: int, height: int, runs: list[int]) -> list[int]:
    """`column_major_runs` of a mask given as clinlabel's row-major runs, reading only the
    columns of its bounding box (never the whole frame, which a mask is a small part of)."""
    x, y, w, h, area = runs_bbox(width, runs)
    if area == 0:
        return [width * height]
    lengths = np.asarray(runs, dtype=np.int64)
    ends = np.cumsum(lengths)
    # Rows y..y+h as one flat band: each run clipped to it, then expanded.
    low, high = y * width, (y + h) * width
    inside = np.clip(ends, low, high) - np.clip(ends - lengths, low, high)
    values = np.zeros(lengths.size, dtype=bool)
    values[1::2] = True
    band = np.repeat(values, inside).reshape(h, width)
    strip = np.zeros((height, w), dtype=bool)
    strip[y : y + h] = band[:, x : x + w]
    counts = column_major_runs(strip)
    counts[0] += x * height
    trailing = (width - x - w) * height
    if trailing:
        if len(counts) % 2 == 0:  # the strip ends painted: a new run of zeros
            counts.append(trailing)
        else:
            counts[-1] += trailing
    return counts


def rle_string(counts: Sequence[int]) -> str:
    """pycocotools' compressed counts (`rleToString`): each count less the one two before it
    (from the third on), in 5-bit groups, low first, with a continuation bit (0x20), offset
    into printable ASCII from '0'. Done for all counts at once, one 5-bit group per round."""
    values = np.asarray(counts, dtype=np.int64)
    if values.size == 0:
        return ""
    x = values.copy()
    x[3:] -= values[1:-2]
    rounds = 13  # 64 bits in 5-bit groups
    chars = np.zeros((x.size, rounds), dtype=np.uint8)
    valid = np.zeros((x.size, rounds), dtype=bool)
    active = np.ones(x.size, dtype=bool)
    for k in range(rounds):
        c = x & 0x1F
        x >>= 5  # arithmetic shift: negative differences end at -1, as in the C code
        more = np.where((c & 0x10) != 0, x != -1, x != 0)
        chars[:, k] = (c | np.where(more, 0x20, 0)) + 48
        valid[:, k] = active
        active &= more
        if not active.any():
            break
    return chars[valid].tobytes().decode("ascii")


def _annotation(region: DrawnRegion, ann_id: int, image_id: int, category: int) -> dict[str, Any]:
    g = region.geometry
    if is_mask(region.tool):
        width, height = int(g["width"]), int(g["height"])
        x, y, w, h, pixels = runs_bbox(width, g["rle"])
        segmentation: Any = {
            "size": [height, width],
            "counts": rle_string(mask_columns(width, height, g["rle"])),
        }
        bbox: list[float] = [x, y, w, h]
        area = float(pixels)
    elif region.tool == "polygon":
        points = g["points"]
        flat = [float(v) for point in points for v in point]
        xs, ys = flat[0::2], flat[1::2]
        segmentation = [flat]
        bbox = [min(xs), min(ys), round(max(xs) - min(xs), 3), round(max(ys) - min(ys), 3)]
        area = round(_shoelace(xs, ys), 3)
    else:  # box
        segmentation = []
        bbox = [float(g["x"]), float(g["y"]), float(g["w"]), float(g["h"])]
        area = round(float(g["w"]) * float(g["h"]), 3)
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category,
        "segmentation": segmentation,
        "area": area,
        "bbox": bbox,
        "iscrowd": 0,
        "attributes": {
            "annotator": region.annotator,
            "tool": region.tool,
            "comment": region.comment,
            "region": region.uid,
        },
    }


def _shoelace(xs: Sequence[float], ys: Sequence[float]) -> float:
    twice = 0.0
    for i in range(len(xs)):
        j = (i + 1) % len(xs)
        twice += xs[i] * ys[j] - xs[j] * ys[i]
    return abs(twice) / 2


def coco_document(export: RegionExport) -> tuple[dict[str, Any], int]:
    """The COCO dictionary of an export, and how many points it had to leave out."""
    image_ids = {image.key: n for n, image in enumerate(export.images, start=1)}
    images = [
        {
            "id": image_ids[image.key],
            "file_name": image.relpath,
            "width": image.width,
            "height": image.height,
            "frame": image.frame,
            "plane": image.plane,
            "case": image.case,
        }
        for image in export.images
    ]
    annotations: list[dict[str, Any]] = []
    points = 0
    for region in export.regions:
        if region.tool == "point":
            points += 1
            continue
        annotations.append(
            _annotation(
                region,
                len(annotations) + 1,
                image_ids[region.image.key],
                export.label_of(region.region_class),
            )
        )
    document = {
        "info": {
            "description": "clinlabel region export",
            "version": "1.0",
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": i, "name": name, "supercategory": "region"}
            for i, name in enumerate(export.classes, start=1)
        ],
    }
    return document, points


def write_coco(export: RegionExport, folder: Path, *, name: str = NAME) -> tuple[list[Path], int]:
    """Write `folder/name` atomically; the files written and the number of points left out."""
    document, points = coco_document(export)
    path = folder / name
    # One string from the C encoder: `json.dump` to a file runs the pure-Python encoder.
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    with atomic_writer(path) as handle:
        handle.write(text)
        handle.write("\n")
    return [path], points
