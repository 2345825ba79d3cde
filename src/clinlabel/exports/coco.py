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


def mask_columns(
    width: int, height: int, runs: list[int], box: tuple[int, int, int, int, int] | None = None
) -> list[int]:
    """COCO's uncompressed RLE counts (runs over the frame read column by column, from 0s) of a
    mask given as clinlabel's row-major runs, reading only its bounding box (never the whole
    frame, which a mask is a small part of).
    `box`: the mask's `runs_bbox`, when the caller has it already."""
    x, y, w, h, area = runs_bbox(width, runs) if box is None else box
    if area == 0:
        return [width * height]
    lengths = np.asarray(runs, dtype=np.int64)
    ends = np.cumsum(lengths)
    # Rows y..y+h as one flat band: each run clipped to it, then expanded.
    low, high = y * width, (y + h) * width
    inside = np.clip(ends, low, high) - np.clip(ends - lengths, low, high)
    values = np.zeros(lengths.size, dtype=bool)
    values[1::2] = True
    # The box's columns with a row of zeros above and below: read column by column, a change
    # of value there is one in the frame's column-major order, at the same row of the same
    # column (the padding rows stand for the zeros outside the box, which never change). Only
    # the box's pixels are read, not whole columns of the frame.
    padded = np.zeros((h + 2, w), dtype=bool)
    padded[1:-1] = np.repeat(values, inside).reshape(h, width)[:, x : x + w]
    flat = padded.ravel(order="F")
    column, row = np.divmod(np.flatnonzero(flat[1:] != flat[:-1]) + 1, h + 2)
    changes = (x + column) * height + (y - 1) + row
    if h == height:
        # A column painted to the bottom and the next from the top: the two changes at the
        # padding fall on the same pixel and cancel (no run of zeros between them).
        same = changes[1:] == changes[:-1]
        keep = np.ones(changes.size, dtype=bool)
        keep[1:] &= ~same
        keep[:-1] &= ~same
        changes = changes[keep]
    if changes.size and changes[-1] == width * height:
        changes = changes[:-1]  # painted to the frame's last pixel: its end, not a change
    edges = np.concatenate(([0], changes, [width * height]))
    counts: list[int] = np.diff(edges).tolist()
    return counts


def rle_string(counts: Sequence[int]) -> str:
    """pycocotools' compressed counts (`rleToString`): each count less the one two before it
    (from the fourth on), in 5-bit groups, low first, with a continuation bit (0x20), offset
    into printable ASCII from '0'. A loop over plain ints, as the C code: through NumPy (one
    array operation per group, for all counts at once) a mask's few hundred counts took
    two and a half times as long."""
    out = bytearray()
    append = out.append
    before = last = 0  # the counts two and one places back
    for i, value in enumerate(counts):
        x = value - before if i > 2 else value
        before, last = last, value
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift: negative differences end at -1, as in the C code
            more = x != -1 if c & 0x10 else x != 0
            append((c | 0x20 if more else c) + 48)
    return out.decode("ascii")


def _annotation(region: DrawnRegion, ann_id: int, image_id: int, category: int) -> dict[str, Any]:
    g = region.geometry
    if is_mask(region.tool):
        width, height = int(g["width"]), int(g["height"])
        box = runs_bbox(width, g["rle"])
        x, y, w, h, pixels = box
        segmentation: Any = {
            "size": [height, width],
            # The box found once: finding it took a sixth of a mask-heavy export.
            "counts": rle_string(mask_columns(width, height, g["rle"], box)),
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
