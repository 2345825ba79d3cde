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
from clinlabel.domain.regions import mask_to_array
from clinlabel.exports.region_data import DrawnRegion, RegionExport, is_mask, mask_bbox

NAME = "instances.json"


def column_major_runs(painted: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts: runs over the mask read column by column, from 0s."""
    flat = np.asarray(painted, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs: list[int] = np.diff(edges).tolist()
    return [0, *runs] if flat[0] else runs


def rle_string(counts: Sequence[int]) -> str:
    """pycocotools' compressed counts: each count less the one two before it (from the third),
    in 5-bit groups with a continuation bit, offset into printable ASCII from '0'."""
    out: list[str] = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift: negative differences end at -1, as in the C code
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def _annotation(region: DrawnRegion, ann_id: int, image_id: int, category: int) -> dict[str, Any]:
    g = region.geometry
    if is_mask(region.tool):
        painted = mask_to_array(int(g["width"]), int(g["height"]), g["rle"])
        x, y, w, h = mask_bbox(painted)
        segmentation: Any = {
            "size": [int(g["height"]), int(g["width"])],
            "counts": rle_string(column_major_runs(painted)),
        }
        bbox: list[float] = [x, y, w, h]
        area = float(painted.sum())
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
    with atomic_writer(path) as handle:
        json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
    return [path], points
