"""Attributes of one frame of an enhanced multi-frame object (PS3.3 C.7.6.16).

Enhanced objects (Enhanced CT/MR/XA/XRF, ...) move per-frame attributes such as Rescale Slope,
Window Center or positioner angles into functional group macros: the Shared Functional Groups
Sequence (5200,9229) holds what is common to all frames, the Per-frame Functional Groups Sequence
(5200,9230) one item per frame. Per-frame values win over shared ones.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

_PER_FRAME = 0x52009230  # Per-frame Functional Groups Sequence
_SHARED = 0x52009229  # Shared Functional Groups Sequence


def value(dataset: Dataset, tag: int, default: Any = None) -> Any:
    """The value of the element `tag`, or `default` when absent.

    By tag, not keyword: `Dataset.get("RescaleSlope")` maps the keyword to its tag on every call
    (~2.5 us), and a rendition reads a dozen attributes; an absent tag costs a tenth of that.
    """
    if tag not in dataset:
        return default
    return dataset[tag].value


def frame_group(dataset: Dataset, frame: int, macro: str) -> Dataset | None:
    """The first item of functional group `macro` for `frame` (from 1), per-frame before shared.

    For example `frame_group(ds, 3, "FrameVOILUTSequence")` holds Window Center/Width of frame 3.
    """
    per_frame = value(dataset, _PER_FRAME)
    if per_frame is not None and 1 <= frame <= len(per_frame):
        item = _first(per_frame[frame - 1], macro)
        if item is not None:
            return item
    shared = value(dataset, _SHARED)
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
