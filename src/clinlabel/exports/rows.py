"""The row every labels export is written from, and the column names of the labels CSVs.

Two files, each with a fixed set of columns whatever the batch holds (README, "Outputs"):

- `clinical_labels.csv`: one row per labelled image (its whole-file label), the seed tool's five
  columns; `--detailed` adds `DETAILED_EXTRA` and the geometry columns.
- `clinical_frame_labels.csv`: one row per label of a single frame or slice, with the
  acquisition geometry of that frame; `--detailed` adds `DETAILED_EXTRA` after the geometry.
"""

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
    geometry: str | None = None
    """JSON of the acquisition geometry of the labelled frame (DICOM XA/RF), if any."""


# The seed tool's columns, in its order: consumers of the seed's CSV index these by position.
BASIC_COLUMNS: tuple[str, ...] = ("case", "visit", "file", "label", "comment")
DETAILED_EXTRA: tuple[str, ...] = ("annotator", "labelled_at_utc", "seconds", "sha256")
FRAME_COLUMN = "frame"

# Acquisition geometry (seed 004: where the C-arm and table were): (column, key in the stored
# geometry JSON). Empty cells where the file does not say (a photo, a CT).
GEOMETRY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("positioner_primary_angle_deg", "positioner_primary_angle"),
    ("positioner_secondary_angle_deg", "positioner_secondary_angle"),
    ("source_to_detector_mm", "distance_source_to_detector"),
    ("source_to_patient_mm", "distance_source_to_patient"),
    ("table_height_mm", "table_height"),
    ("table_vertical_mm", "table_top_vertical_position"),
    ("table_longitudinal_mm", "table_top_longitudinal_position"),
    ("table_lateral_mm", "table_top_lateral_position"),
    ("kvp", "kvp"),
    ("frame_time_ms", "frame_time"),
)
GEOMETRY_NAMES: tuple[str, ...] = tuple(name for name, _ in GEOMETRY_COLUMNS)

DETAILED_COLUMNS: tuple[str, ...] = (*BASIC_COLUMNS, *DETAILED_EXTRA, *GEOMETRY_NAMES)
"""`clinical_labels.csv --detailed`: the same columns for every project."""

FRAME_COLUMNS: tuple[str, ...] = (
    "case", "visit", "file", FRAME_COLUMN, "label", "comment", *GEOMETRY_NAMES,
)  # fmt: skip
"""`clinical_frame_labels.csv`."""

FRAME_DETAILED_COLUMNS: tuple[str, ...] = (*FRAME_COLUMNS, *DETAILED_EXTRA)
"""`clinical_frame_labels.csv` with `--detailed`."""
