"""Masks between two drawn slices (issue 11's Ctrl+I), the way V7 and 3D Slicer fill them.

Each mask becomes a signed distance map (positive inside, negative outside, in pixels); a slice
between the two takes the blend of the maps weighted by how far it lies from each, and keeps
the pixels where the blend is positive. Before blending, both maps are moved so that their
shapes' centres meet at the centre expected on that slice: a vessel or lesion that drifts
across the slices is followed even where the two masks do not overlap at all (a plain blend
leaves those slices empty), and one that grows or shrinks changes size smoothly.
"""

from __future__ import annotations

import numpy as np


def signed_distance(mask: np.ndarray) -> np.ndarray:
    """Distance to the mask's edge in pixels: positive inside, negative outside."""
    from scipy.ndimage import distance_transform_edt

    inside = np.asarray(mask, dtype=bool)
    if not inside.any():
        raise ValueError("an empty mask has no edge to interpolate from")
    outside_distance = distance_transform_edt(~inside)
    inside_distance = distance_transform_edt(inside)
    return np.asarray(inside_distance - outside_distance, dtype=np.float32)


def interpolate_masks(first: np.ndarray, last: np.ndarray, between: int) -> list[np.ndarray]:
    """The `between` masks of the slices strictly between `first` and `last`, in order."""
    if first.shape != last.shape:
        raise ValueError("the two masks lie on grids of different sizes")
    from scipy.ndimage import shift

    a, b = signed_distance(first), signed_distance(last)
    centre_a = np.argwhere(first).mean(axis=0)
    centre_b = np.argwhere(last).mean(axis=0)
    steps = between + 1
    masks = []
    for k in range(1, steps):
        t = k / steps
        centre = (1 - t) * centre_a + t * centre_b
        moved_a = shift(a, centre - centre_a, order=1, mode="nearest")
        moved_b = shift(b, centre - centre_b, order=1, mode="nearest")
        # A pixel on the blended edge counts as inside, as both masks' own edge pixels do.
        masks.append(((1 - t) * moved_a + t * moved_b) > -0.5)
    return masks
