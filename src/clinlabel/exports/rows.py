"""The row every labels export is written from, and the column names of the labels CSV."""

from __future__ import annotations

from typing import NamedTuple


class LabelRow(NamedTuple):
    """One label as the store hands it to an exporter.

    The store may pass plain tuples in this field order instead, so exporters index positionally.
    """

    case: str
    visit: str
    file: str
    """Path below the visit folder, e.g. `XC_CLINICAL/img1.jpg`: unique within a visit."""
    label: str
    comment: str
    annotator: str
    labelled_at: str
    """UTC, ISO 8601, e.g. `2026-11-22T10:15:03.123456Z`."""
    seconds: float | None
    """Active seconds spent on the image (None if unknown, e.g. an imported label)."""
    sha256: str | None
    """Content hash of the bytes that were labelled."""
    frame: int = 0
    """0 = the whole file; frames and slices count from 1."""


# The seed tool's columns, in its order: consumers of the seed's CSV index these by position.
BASIC_COLUMNS: tuple[str, ...] = ("case", "visit", "file", "label", "comment")
DETAILED_COLUMNS: tuple[str, ...] = (
    *BASIC_COLUMNS,
    "annotator",
    "labelled_at_utc",
    "seconds",
    "sha256",
    "frame",
)
FRAME_COLUMN = "frame"
