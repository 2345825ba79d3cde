"""A region drawn on one plane of a volume, seen where it crosses another plane's slices."""

from __future__ import annotations

import numpy as np
import pytest

from clinlabel.imaging.nifti import PLANE_AXES, Volume, oriented_slice, slice_axes
from clinlabel.imaging.region_crossings import crossings, raster
from clinlabel.imaging.windowing import Window


def _volume(shape: tuple[int, int, int]) -> Volume:
    from pathlib import Path

    from clinlabel.imaging.rendering import GreyTransform

    data = np.arange(np.prod(shape)).reshape(shape)
    transform = GreyTransform(signed=False, bits_stored=64)
    return Volume(Path("v.nii"), data, (1.0, 1.0, 1.0), transform, Window(0, 1))


@pytest.mark.parametrize(
    ("drawn", "shown"),
    [(a, b) for a in PLANE_AXES for b in PLANE_AXES if a != b],
)
def test_crossings_are_the_drawn_voxels_seen_on_the_other_plane(drawn: str, shown: str) -> None:
    shape = (7, 5, 6)
    volume = _volume(shape)
    slices = {plane: shape[axis] for plane, axis in PLANE_AXES.items()}
    # The region on its slice: voxel numbers of that slice as shown, an irregular blob on them.
    index = 3
    numbers, _, _ = oriented_slice(volume, plane=drawn, index=index)
    rng = np.random.default_rng(4)
    pixels = rng.random(numbers.shape) < 0.5
    marked = np.zeros(shape, dtype=bool)
    marked.reshape(-1)[numbers[pixels].astype(int)] = True

    found = crossings(
        pixels,
        plane=drawn,
        frame=index,
        axes_of_region=slice_axes(volume, drawn),
        shown=shown,
        axes_shown=slice_axes(volume, shown),
        slices=slices,
    )
    by_frame = {c.frame: c for c in found}
    for j in range(1, slices[shown] + 1):
        expected, _, _ = oriented_slice(
            Volume(volume.path, marked, volume.spacing, volume.transform, volume.default_window),
            plane=shown,
            index=j,
        )
        drawn_here = np.zeros(expected.shape, dtype=bool)
        if j in by_frame:
            c = by_frame[j]
            for start, end in c.runs:
                if c.along == "rows":
                    drawn_here[start:end, c.at] = True
                else:
                    drawn_here[c.at, start:end] = True
        assert np.array_equal(drawn_here, expected.astype(bool)), (drawn, shown, j)


def test_shapes_are_rasterised_by_pixel_centres() -> None:
    box = raster("box", '{"x": 1, "y": 1, "w": 2, "h": 3}', 5, 5)
    assert box.sum() == 6 and box[1:4, 1:3].all()
    point = raster("point", '{"x": 4.9, "y": 0.2}', 5, 5)
    assert point.sum() == 1 and point[0, 4]
    triangle = raster("polygon", '{"points": [[0, 0], [4, 0], [0, 4]]}', 5, 5)
    assert triangle[0, 0] and not triangle[4, 4]
