"""Where a region drawn on one plane of a volume crosses the slices of another plane.

A region on sagittal slice i is a sheet of voxels; each axial slice it reaches cuts it along one
line. On that axial slice the line is a column (or a row) of pixels, covered where the region
is. This module gives, for every slice of the plane on screen, those lines as runs of pixels,
so the page draws the sagittal outline where it passes through the axial slice.

Which plane a slice's columns and rows run through, and in which direction, is read from
`nifti.slice_axes` (itself read off `oriented_slice`), never assumed here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clinlabel.imaging.reader import ImageReader

#: Pixels of a slice of each plane: the number of slices of the plane its columns run through,
#: and of the plane its rows run through.
Axes = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Crossing:
    """Where a region of another plane crosses slice `frame` of the plane on screen: a column
    (`along` = "rows": the line runs down the rows at column `at`) or a row, covered in `runs`
    ([start, end) pixel ranges along the line)."""

    frame: int
    along: str
    at: int
    runs: list[tuple[int, int]]


def raster(tool: str, geometry: str, width: int, height: int) -> np.ndarray:
    """A region's pixels on its own grid (rows x columns, bool): centres inside the shape."""
    from PIL import Image, ImageDraw

    data: dict[str, Any] = json.loads(geometry)
    if "rle" in data:
        from clinlabel.domain.regions import mask_to_array

        return np.asarray(mask_to_array(data["width"], data["height"], data["rle"]), dtype=bool)
    if tool == "box":
        # Pixel (c, r) is inside when its centre (c + 0.5, r + 0.5) is.
        out = np.zeros((height, width), dtype=bool)
        c0, c1 = math.ceil(data["x"] - 0.5), math.ceil(data["x"] + data["w"] - 0.5)
        r0, r1 = math.ceil(data["y"] - 0.5), math.ceil(data["y"] + data["h"] - 0.5)
        out[max(r0, 0) : max(r1, 0), max(c0, 0) : max(c1, 0)] = True
        return out
    canvas = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    if tool == "polygon":
        draw.polygon([(x - 0.5, y - 0.5) for x, y in data["points"]], fill=1)
    else:  # a point: its pixel
        column = min(int(data["x"]), width - 1)
        row = min(int(data["y"]), height - 1)
        canvas.putpixel((column, row), 1)
    return np.asarray(canvas, dtype=bool)


def _index(position: int, count: int, reversed_: bool) -> int:
    """Slice index (from 0) of the plane a line of pixels runs through, and back (involutive)."""
    return count - 1 - position if reversed_ else position


def crossings(
    pixels: np.ndarray,
    *,
    plane: str,
    frame: int,
    axes_of_region: Axes,
    shown: str,
    axes_shown: Axes,
    slices: dict[str, int],
) -> list[Crossing]:
    """The lines where a region (its `pixels` on slice `frame` of `plane`) crosses each slice of
    the plane `shown`; `slices` is the number of slices of every plane."""
    if plane == shown:
        return []
    # The region's slice, as a line on the shown plane's slices: a column when the shown
    # slices' columns run through the region's plane, else a row.
    along = "rows" if axes_shown["columns"]["plane"] == plane else "columns"
    across = "columns" if along == "rows" else "rows"
    line = axes_shown[across]
    at = _index(frame - 1, slices[plane], bool(line["reversed"]))
    # Which of the region's pixel lines lies in each shown slice, and how the region's other
    # direction maps onto the shown line.
    cut_by = "columns" if axes_of_region["columns"]["plane"] == shown else "rows"
    other = "rows" if cut_by == "columns" else "columns"
    third = axes_of_region[other]["plane"]
    out: list[Crossing] = []
    for k in range(slices[shown]):
        position = _index(k, slices[shown], bool(axes_of_region[cut_by]["reversed"]))
        cut = pixels[:, position] if cut_by == "columns" else pixels[position, :]
        if not cut.any():
            continue
        # Region pixel p along the cut -> the third plane's slice t -> the shown line's pixel.
        n = slices[third]
        p = np.flatnonzero(cut)
        t = n - 1 - p if axes_of_region[other]["reversed"] else p
        shown_pixel = n - 1 - t if axes_shown[along]["reversed"] else t
        out.append(Crossing(k + 1, along, at, _runs(sorted(int(v) for v in shown_pixel))))
    return out


def _runs(sorted_pixels: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for p in sorted_pixels:
        if runs and runs[-1][1] == p:
            runs[-1] = (runs[-1][0], p + 1)
        else:
            runs.append((p, p + 1))
    return runs


@dataclass(frozen=True, slots=True)
class Drawn:
    """A region on a volume slice, as the crossing needs it."""

    uid: str
    tool: str
    geometry: str
    plane: str
    frame: int


def volume_crossings(
    path: Path, shown: str, regions: list[Drawn], *, reader: ImageReader
) -> dict[str, list[Crossing]]:
    """For each region drawn on another plane of the volume at `path`, its crossings with the
    slices of `shown`, by region uid (regions that cross nothing are left out)."""
    from clinlabel.imaging.nifti import PLANE_AXES, slice_axes

    volume = reader.volume(path)
    shape = volume.data.shape
    slices = {plane: int(shape[axis]) for plane, axis in PLANE_AXES.items()}
    axes = {plane: slice_axes(volume, plane) for plane in PLANE_AXES}
    found: dict[str, list[Crossing]] = {}
    for region in regions:
        if region.plane == shown or region.plane not in PLANE_AXES:
            continue
        width = slices[axes[region.plane]["columns"]["plane"]]
        height = slices[axes[region.plane]["rows"]["plane"]]
        pixels = raster(region.tool, region.geometry, width, height)
        if pixels.shape != (height, width):
            continue  # a mask of another grid: the volume was replaced; nothing to place
        lines = crossings(
            pixels,
            plane=region.plane,
            frame=region.frame,
            axes_of_region=axes[region.plane],
            shown=shown,
            axes_shown=axes[shown],
            slices=slices,
        )
        if lines:
            found[region.uid] = lines
    return found
