"""Acquisition geometry of X-ray angiography and fluoroscopy (XA/RF), for display and exports.

Interventional radiologists track where the C-arm and table were for each run (seed 004): the
positioner angles (PS3.3 C.8.7.5 XA Positioner: Positioner Primary Angle, LAO+/RAO-, and Secondary
Angle, CRA+/CAU-), the source-to-detector distance (SID) and source-to-patient distance (SOD),
the table position, the tube voltage and the frame time. Enhanced XA/XRF objects (C.8.19) carry the
same attributes in functional group macros (X-Ray Positioner, X-Ray Geometry, X-Ray Table Position,
X-Ray Frame Acquisition, ...), possibly different per frame; those win for the frame asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from clinlabel.imaging.reader import DIRECT, ImageReader

# Output name -> DICOM keyword.
GEOMETRY_KEYWORDS: dict[str, str] = {
    "positioner_primary_angle": "PositionerPrimaryAngle",
    "positioner_secondary_angle": "PositionerSecondaryAngle",
    "positioner_motion": "PositionerMotion",
    "distance_source_to_detector": "DistanceSourceToDetector",
    "distance_source_to_patient": "DistanceSourceToPatient",
    "distance_source_to_isocenter": "DistanceSourceToIsocenter",
    "table_height": "TableHeight",
    "table_top_vertical_position": "TableTopVerticalPosition",
    "table_top_longitudinal_position": "TableTopLongitudinalPosition",
    "table_top_lateral_position": "TableTopLateralPosition",
    "table_angle": "TableAngle",
    "kvp": "KVP",
    "xray_tube_current": "XRayTubeCurrent",
    "exposure_time": "ExposureTime",
    "frame_time": "FrameTime",
    "cine_rate": "CineRate",
    "imager_pixel_spacing": "ImagerPixelSpacing",
    "intensifier_size": "IntensifierSize",
}
# Per-frame increments of the (non-enhanced) XA Positioner and Table modules (C.8.7.5, C.8.7.4).
INCREMENT_KEYWORDS: dict[str, str] = {
    "positioner_primary_angle_increment": "PositionerPrimaryAngleIncrement",
    "positioner_secondary_angle_increment": "PositionerSecondaryAngleIncrement",
    "table_vertical_increment": "TableVerticalIncrement",
    "table_longitudinal_increment": "TableLongitudinalIncrement",
    "table_lateral_increment": "TableLateralIncrement",
}


def acquisition_geometry(
    path: Path, *, frame: int = 1, reader: ImageReader = DIRECT
) -> dict[str, Any]:
    """Geometry of `frame` (from 1) of a DICOM file: every known key, None when absent.

    Numbers are floats (mm, degrees, kV, ms), lists stay lists; `number_of_frames` and `modality`
    are included so that an export row is self-describing.
    """
    dataset = reader.header(path).dataset
    return geometry_of(dataset, frame=frame)


def geometry_of(dataset: Dataset, *, frame: int = 1) -> dict[str, Any]:
    """`acquisition_geometry` for a dataset already in memory."""
    result: dict[str, Any] = {
        "modality": str(dataset.get("Modality", "")) or None,
        "frame": frame,
        "number_of_frames": int(dataset.get("NumberOfFrames", 1) or 1),
    }
    frame_items = _frame_macro_items(dataset, frame)
    for name, keyword in GEOMETRY_KEYWORDS.items():
        value = _from_items(frame_items, keyword)
        if value is None:
            value = dataset.get(keyword)
        result[name] = _plain(value)
    for name, keyword in INCREMENT_KEYWORDS.items():
        values = dataset.get(keyword)
        if values is None:
            result[name] = None
            continue
        values = list(values) if _is_multi(values) else [values]
        result[name] = float(values[frame - 1]) if frame - 1 < len(values) else None
    if result["frame_time"] is None and dataset.get("FrameTimeVector"):
        vector = list(dataset.FrameTimeVector)
        result["frame_time"] = float(vector[frame - 1]) if frame - 1 < len(vector) else None
    return result


def _frame_macro_items(dataset: Dataset, frame: int) -> list[Dataset]:
    """The macro items that apply to `frame`: its per-frame items first, then the shared ones."""
    items: list[Dataset] = []
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and 1 <= frame <= len(per_frame):
        items.extend(_macro_items(per_frame[frame - 1]))
    shared = dataset.get("SharedFunctionalGroupsSequence")
    if shared:
        items.extend(_macro_items(shared[0]))
    return items


def _macro_items(group: Dataset) -> list[Dataset]:
    # Each element of a functional group item is a macro sequence of (normally) one item.
    items: list[Dataset] = []
    for element in group:
        if element.VR == "SQ":
            items.extend(element.value)
    return items


def _from_items(items: list[Dataset], keyword: str) -> Any:
    for item in items:
        if keyword in item:
            return item.get(keyword)
    return None


def _is_multi(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue"


def _plain(value: Any) -> Any:
    """pydicom values (DSfloat, IS, MultiValue, bytes) as JSON-friendly Python values."""
    if value is None or value == "":
        return None
    if _is_multi(value):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, bytes):
        return None
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text
