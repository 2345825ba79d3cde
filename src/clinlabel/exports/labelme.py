"""labelme JSON: one file per image, as labelme (https://github.com/wkentaro/labelme) saves it.

Layout
    Below the output folder, a tree mirroring the batch's: the regions of `Case/Visit/img.jpg`
    are in `Case/Visit/img.json`, whose `imagePath` leads from there back to the image in the
    batch (so labelme opens the pair), never a copy of it (`imageData` is null).
Keys
    `version, flags, shapes, imagePath, imageData, imageHeight, imageWidth`; each shape has
    `label` (the region class), `points`, `group_id` (null), `description` (the region's
    comment), `shape_type`, `flags` and `mask`. Boxes are `rectangle` with their two corners,
    polygons `polygon`, points `point`; masks are `mask` shapes as labelme writes them: `points`
    the first and last painted pixel (whole numbers, inclusive) and `mask` a base64 PNG of the
    painted pixels inside that rectangle.
Multi-frame DICOM
    medical-labelme's per-frame form: one file per DICOM file with `version, flags, image_path,
    total_frames, frames`, each frame `{frame, shapes, width, height}`, `frame` counted from 0
    as medical-labelme does (clinlabel's frame 3 is its frame 2).
Left out
    labelme has no slices: regions on volumes are left out (the NIfTI export holds them), as are
    regions on a whole multi-frame file (frame 0) once its frames have some; both are counted.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from clinlabel.atomic import atomic_writer
from clinlabel.domain.regions import mask_to_array
from clinlabel.exports.region_data import (
    DrawnRegion,
    RegionExport,
    fitted_name,
    is_mask,
    mask_bbox,
)

#: The labelme version whose file layout this follows (masks arrived in 5.3, kept since).
LABELME_VERSION = "5.5.0"


def label_file_name(relpath: str) -> PurePosixPath:
    """`Case/Visit/img.jpg` -> `Case/Visit/img.json`, as labelme names its files."""
    path = PurePosixPath(relpath)
    stem = path.name.rsplit(".", 1)[0] if "." in path.name else path.name
    return fitted_name(path.with_name(stem), ".json")


def _unique_names(relpaths: list[str]) -> dict[str, PurePosixPath]:
    """Each image's label file: labelme's `img.json`, or `img.jpg.json` when another image of
    that folder has the same stem (`img.png`), so neither file is written over the other."""
    named = {relpath: label_file_name(relpath) for relpath in relpaths}
    counts = Counter(name.as_posix().casefold() for name in named.values())
    for relpath, name in named.items():
        if counts[name.as_posix().casefold()] > 1:
            path = PurePosixPath(relpath)
            named[relpath] = fitted_name(path, ".json")
    return named


def mask_png_b64(painted: np.ndarray) -> str:
    """A boolean array as labelme keeps a mask: a PNG of 0/1 bytes, base64 encoded."""
    with io.BytesIO() as buffer:
        Image.fromarray(painted.astype(np.uint8)).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode("ascii")


def _shape(region: DrawnRegion) -> dict[str, Any]:
    g = region.geometry
    mask: str | None = None
    if is_mask(region.tool):
        painted = mask_to_array(int(g["width"]), int(g["height"]), g["rle"])
        x, y, w, h = mask_bbox(painted)
        points: list[list[float]] = [[x, y], [x + w - 1, y + h - 1]]
        shape_type = "mask"
        mask = mask_png_b64(painted[y : y + h, x : x + w])
    elif region.tool == "box":
        x0, y0 = float(g["x"]), float(g["y"])
        points = [[x0, y0], [round(x0 + float(g["w"]), 3), round(y0 + float(g["h"]), 3)]]
        shape_type = "rectangle"
    elif region.tool == "polygon":
        points = [[float(px), float(py)] for px, py in g["points"]]
        shape_type = "polygon"
    else:
        points = [[float(g["x"]), float(g["y"])]]
        shape_type = "point"
    return {
        "label": region.region_class,
        "points": points,
        "group_id": None,
        "description": region.comment,
        "shape_type": shape_type,
        "flags": {},
        "mask": mask,
    }


def _image_path(label_path: Path, batch: Path, relpath: str) -> str:
    """The image's path relative to the label file's folder, with '/' (labelme's imagePath)."""
    image = batch.joinpath(*PurePosixPath(relpath).parts)
    return Path(os.path.relpath(image, label_path.parent)).as_posix()


def write_labelme(export: RegionExport, folder: Path) -> tuple[list[Path], int]:
    """Write one labelme JSON per image with regions; the files and the regions left out."""
    assert export.batch is not None, "labelme points at the images: the batch is needed"
    batch = export.batch
    by_file: dict[str, list[DrawnRegion]] = {}
    left_out = 0
    for region in export.regions:
        if region.image.plane is not None:
            left_out += 1
            continue
        by_file.setdefault(region.image.relpath, []).append(region)
    written: list[Path] = []
    names = _unique_names(sorted(by_file))
    for relpath in sorted(by_file):
        regions = by_file[relpath]
        path = folder.joinpath(*names[relpath].parts)
        image_path = _image_path(path, batch, relpath)
        framed = [r for r in regions if r.image.frame > 0]
        if framed:
            left_out += len(regions) - len(framed)
            document = _medical_document(framed, image_path)
        else:
            first = regions[0].image
            document = {
                "version": LABELME_VERSION,
                "flags": {},
                "shapes": [_shape(r) for r in regions],
                "imagePath": image_path,
                "imageData": None,
                "imageHeight": first.height,
                "imageWidth": first.width,
            }
        with atomic_writer(path) as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        written.append(path)
    return written, left_out


def _medical_document(regions: list[DrawnRegion], image_path: str) -> dict[str, Any]:
    frames: dict[int, list[DrawnRegion]] = {}
    for region in regions:
        frames.setdefault(region.image.frame, []).append(region)
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "image_path": image_path,
        "total_frames": regions[0].image.frames,
        "frames": [
            {
                "frame": number - 1,
                "shapes": [_shape(r) for r in frames[number]],
                "width": frames[number][0].image.width,
                "height": frames[number][0].image.height,
            }
            for number in sorted(frames)
        ],
    }
