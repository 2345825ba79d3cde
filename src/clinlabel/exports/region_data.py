"""What every region export is made from: the drawn frames and slices, their regions, and how a
shape becomes pixels.

The formats (`coco`, `png_masks`, `nifti_masks`) are pure functions of these values; the
labelling layer reads them from the project (the SQL is `store.region_rows`) and the grids from
the files, so a format never touches the database or an image.

Rasterising follows the drawing grid's convention (`imaging.drawing_grid`): continuous pixel
coordinates, pixel (col, row) covering [col, col+1) x [row, row+1); a pixel belongs to a box or
polygon when its centre lies inside, and a point paints the one pixel it falls in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from clinlabel.domain.regions import MASK_TOOLS, RegionClass, mask_to_array


@dataclass(frozen=True, slots=True, order=True)
class DrawnImage:
    """One frame of a file (0: the whole file) or one slice of a volume in one plane: the grid
    regions are drawn on."""

    relpath: str
    frame: int
    plane: str | None
    case: str
    kind: str
    width: int
    height: int
    frames: int = 1
    """How many frames the file has (slices in `plane` for a volume)."""

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.relpath, self.frame, self.plane or "")


@dataclass(frozen=True, slots=True)
class DrawnRegion:
    """A current region, with its geometry decoded."""

    uid: str
    image: DrawnImage
    annotator: str
    region_class: str
    tool: str
    geometry: dict[str, Any]
    comment: str


@dataclass(frozen=True, slots=True)
class VolumeGrid:
    """A volume's own voxel grid, as its file states it: what a label map must match."""

    relpath: str
    shape: tuple[int, int, int]
    affine: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class RegionExport:
    """Everything one export (or one split of it) writes."""

    classes: tuple[str, ...]
    """The schema's region classes in order: class i (from 1) is label value i."""
    colours: tuple[str, ...]
    regions: tuple[DrawnRegion, ...]
    images: tuple[DrawnImage, ...] = ()
    """Every frame or slice with at least one region, sorted."""
    volumes: dict[str, VolumeGrid] = field(default_factory=dict)
    annotators: tuple[str, ...] = ()
    batch: Path | None = None
    """The batch folder, for formats that point back at the images (labelme's imagePath)."""
    region_classes: tuple[RegionClass, ...] = ()
    """The schema's classes themselves (DICOM SEG reads their codes)."""

    def label_of(self, region_class: str) -> int:
        return self.classes.index(region_class) + 1


def is_mask(tool: str) -> bool:
    return tool in MASK_TOOLS


def rasterise(region: DrawnRegion) -> np.ndarray:
    """The region's pixels on its grid, as a boolean (height, width) array."""
    width, height = region.image.width, region.image.height
    g = region.geometry
    if is_mask(region.tool):
        painted: np.ndarray = mask_to_array(int(g["width"]), int(g["height"]), g["rle"])
        return painted
    grid = np.zeros((height, width), dtype=bool)
    if region.tool == "box":
        # Columns whose centre c + 0.5 lies in [x, x + w).
        c0, c1 = _centre_span(float(g["x"]), float(g["x"]) + float(g["w"]), width)
        r0, r1 = _centre_span(float(g["y"]), float(g["y"]) + float(g["h"]), height)
        grid[r0:r1, c0:c1] = True
    elif region.tool == "polygon":
        grid = polygon_pixels(g["points"], width, height)
    elif region.tool == "point":
        col = min(math.floor(float(g["x"])), width - 1)
        row = min(math.floor(float(g["y"])), height - 1)
        grid[row, col] = True
    return grid


def _centre_span(start: float, end: float, size: int) -> tuple[int, int]:
    first = max(0, math.ceil(start - 0.5))
    stop = min(size, math.ceil(end - 0.5))
    return first, max(first, stop)


def polygon_pixels(points: Sequence[Sequence[float]], width: int, height: int) -> np.ndarray:
    """Pixels whose centre lies inside the polygon (even-odd rule), scanline by scanline."""
    grid = np.zeros((height, width), dtype=bool)
    xs = np.asarray([p[0] for p in points], dtype=np.float64)
    ys = np.asarray([p[1] for p in points], dtype=np.float64)
    x0, y0 = xs, ys
    x1, y1 = np.roll(xs, -1), np.roll(ys, -1)
    top = max(0, math.floor(float(ys.min())))
    bottom = min(height, math.ceil(float(ys.max())) + 1)
    centres = np.arange(width) + 0.5
    for row in range(top, bottom):
        cy = row + 0.5
        # Edges crossing the scanline (half-open in y, so a vertex is counted once).
        crossing = (y0 <= cy) != (y1 <= cy)
        if not crossing.any():
            continue
        ya, yb, xa, xb = y0[crossing], y1[crossing], x0[crossing], x1[crossing]
        at = np.sort(xa + (cy - ya) * (xb - xa) / (yb - ya))
        for left, right in zip(at[0::2], at[1::2], strict=False):
            grid[row] |= (centres >= left) & (centres < right)
    return grid


def mask_bbox(painted: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the painted pixels, in whole pixels; zeros when nothing is painted."""
    rows = np.flatnonzero(painted.any(axis=1))
    cols = np.flatnonzero(painted.any(axis=0))
    if rows.size == 0:
        return 0, 0, 0, 0
    return (
        int(cols[0]),
        int(rows[0]),
        int(cols[-1] - cols[0] + 1),
        int(rows[-1] - rows[0] + 1),
    )


def label_map(
    export: RegionExport, image: DrawnImage, regions: Sequence[DrawnRegion]
) -> np.ndarray:
    """The class index per pixel of one frame or slice (0: no region); where regions overlap,
    the one drawn later wins (they come in drawing order)."""
    dtype = np.uint8 if len(export.classes) < 256 else np.uint16
    out = np.zeros((image.height, image.width), dtype=dtype)
    for region in regions:
        out[rasterise(region)] = export.label_of(region.region_class)
    return out


def group_by_image(
    regions: Sequence[DrawnRegion],
) -> dict[tuple[str, int, str], list[DrawnRegion]]:
    grouped: dict[tuple[str, int, str], list[DrawnRegion]] = {}
    for region in regions:
        grouped.setdefault(region.image.key, []).append(region)
    return grouped


def label_table(export: RegionExport) -> dict[str, Any]:
    """The legend every mask format writes beside its files."""
    return {
        "background": 0,
        "labels": [
            {"value": i, "name": name, "colour": colour}
            for i, (name, colour) in enumerate(zip(export.classes, export.colours, strict=True), 1)
        ],
        "overlap": "where regions overlap, the one drawn later wins",
    }


#: The longest file name the usual file systems hold (ext4, XFS, APFS: 255 bytes).
MAX_NAME_BYTES = 255


def fitted_name(path: PurePosixPath, suffix: str) -> PurePosixPath:
    """`path` with `suffix` added to its name, as an export names the file it writes for an
    image. When the image's name is already near the 255 bytes a file name may hold, the result
    keeps the name's start, then `~` and 8 hex digits of the SHA-256 of the whole name: the same
    image always gets the same file, and two long names never one."""
    name = path.name + suffix
    if len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES:
        return path.with_name(name)
    whole = path.name.encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(whole).hexdigest()[:8]
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8", "surrogateescape")) - len(digest) - 1
    start = whole[:room].decode("utf-8", "ignore")
    return path.with_name(f"{start}~{digest}{suffix}")
