"""Attributes of one frame of an enhanced multi-frame object (PS3.3 C.7.6.16).

Enhanced objects (Enhanced CT/MR/XA/XRF, ...) move per-frame attributes such as Rescale Slope,
Window Center or positioner angles into functional group macros: the Shared Functional Groups
Sequence (5200,9229) holds what is common to all frames, the Per-frame Functional Groups Sequence
(5200,9230) one item per frame. Per-frame values win over shared ones.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset


def frame_group(dataset: Dataset, frame: int, macro: str) -> Dataset | None:
    """The first item of functional group `macro` for `frame` (from 1), per-frame before shared.

    For example `frame_group(ds, 3, "FrameVOILUTSequence")` holds Window Center/Width of frame 3.
    """
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and 1 <= frame <= len(per_frame):
        item = _first(per_frame[frame - 1], macro)
        if item is not None:
            return item
    shared = dataset.get("SharedFunctionalGroupsSequence")
    if shared:
        return _first(shared[0], macro)
    return None


def frame_value(dataset: Dataset, frame: int, macro: str, keyword: str) -> Any:
    """`keyword` inside functional group `macro` for `frame`, or None."""
    item = frame_group(dataset, frame, macro)
    if item is None:
        return None
    return item.get(keyword)


def _first(group_item: Dataset, macro: str) -> Dataset | None:
    sequence = group_item.get(macro)
    if not sequence:
        return None
    first: Dataset = sequence[0]
    return first
