"""DICOM SEG export (issue 12): highdicom writes it, highdicom reads back the same masks, the
schema's codes (or the documented defaults) name the segments, dciodvfy finds no error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from clinlabel.domain.regions import mask_from_array
from clinlabel.exports.region_data import polygon_pixels
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.region_exports import export_regions

from .region_project import DICOM, PHOTO, SCHEMA, SINGLE, Drawer, make_region_batch

MASK = np.zeros((20, 16), dtype=bool)
MASK[4:9, 3:8] = True
POLYGON = [[1.0, 10.0], [12.0, 11.0], [6.0, 18.5]]


def _export(tmp_path: Path) -> tuple[list[Path], int]:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_region_batch(tmp_path / "Batch", single=True)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project, "Doe^Jane")
        drawer.draw(SINGLE, "Lesion", "brush", mask_from_array(MASK))
        drawer.draw(SINGLE, "Lesion", "box", {"x": 10, "y": 1, "w": 4, "h": 3})
        drawer.draw(SINGLE, "Vessel", "polygon", {"points": POLYGON})
        drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
        drawer.draw(DICOM, "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3}, frame=2)
        drawer.close()
        result = export_regions(project, "dicom-seg", out=tmp_path / "seg", actor="t")
    return result.files, result.left_out


def test_dicom_seg_reads_back_in_highdicom_with_codes_and_references(tmp_path: Path) -> None:
    files, left_out = _export(tmp_path)
    # The photo has no DICOM source; the multi-frame file without a frame of reference has its
    # SEG too (test_dicom_seg_cine).
    assert left_out == 1
    assert files == [tmp_path / "seg" / f"{p}.seg.dcm" for p in (DICOM, SINGLE)]
    path = files[1]
    seg = hd.seg.segread(path)
    source = pydicom.dcmread(tmp_path / "Batch" / SINGLE)
    assert seg.SegmentationType == "BINARY"
    assert seg.Manufacturer == "clinlabel" and seg.SoftwareVersions
    assert str(seg.ContentCreatorName) == "Doe^Jane"
    assert seg.StudyInstanceUID == source.StudyInstanceUID
    referenced = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert referenced.ReferencedSOPInstanceUID == source.SOPInstanceUID
    lesion, vessel = (seg.get_segment_description(n) for n in (1, 2))
    assert (lesion.segment_label, vessel.segment_label) == ("Lesion", "Vessel")
    # Lesion names no codes: the documented defaults; Vessel's come from the schema.
    assert lesion.segmented_property_category.value == "49755003"
    assert lesion.segmented_property_type.scheme_designator == "99CLINLABEL"
    assert lesion.segmented_property_type.value == "LESION"
    assert vessel.segmented_property_category.value == "91723000"
    assert vessel.segmented_property_type.value == "59820001"
    assert lesion.SegmentAlgorithmType == "MANUAL"
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[source.SOPInstanceUID], combine_segments=False
    )
    assert pixels.shape == (1, 20, 16, 2)
    expected_lesion = MASK.copy()
    expected_lesion[1:4, 10:14] = True
    assert np.array_equal(pixels[0, :, :, 0].astype(bool), expected_lesion)
    assert np.array_equal(pixels[0, :, :, 1].astype(bool), polygon_pixels(POLYGON, 16, 20))


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools is not installed")
def test_dciodvfy_finds_no_error_in_the_seg(tmp_path: Path) -> None:
    files, _ = _export(tmp_path)
    assert len(files) == 2
    for path in files:
        checked = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, timeout=120, check=False
        )
        errors = [line for line in checked.stderr.splitlines() if line.startswith("Error")]
        assert errors == [], checked.stderr


def test_region_classes_may_name_their_seg_codes_and_keep_them() -> None:
    from clinlabel.domain.labels import LabelSchema
    from clinlabel.domain.regions import Code
    from clinlabel.errors import ValidationError

    vessel_type = {"code": "59820001", "scheme": "SCT", "meaning": "Blood vessel"}
    schema = LabelSchema.from_mapping(
        {
            "labels": [{"name": "Yes", "key": "1"}],
            "regions": [{"name": "Vessel", "type": vessel_type}, {"name": "Lesion"}],
        }
    )
    vessel, lesion = schema.regions
    assert vessel.type == Code("59820001", "SCT", "Blood vessel") and vessel.category is None
    assert LabelSchema.from_json(schema.to_json()) == schema
    assert "category" not in schema.to_json() and "type" not in schema.to_json().split("Vessel")[0]
    assert lesion.default_type() == Code("LESION", "99CLINLABEL", "Lesion")
    with pytest.raises(ValidationError) as raised:
        LabelSchema.from_mapping(
            {
                "labels": [{"name": "Yes", "key": "1"}],
                "regions": [
                    {"name": "A", "category": "Tissue"},
                    {"name": "B", "type": {"code": "x" * 17, "scheme": "SCT", "meaning": "m"}},
                ],
            }
        )
    lines = raised.value.message.splitlines()
    assert any("'A': 'category' must be a table with 'code'" in line for line in lines)
    assert any("'B': 'type': DICOM allows codes" in line for line in lines)
