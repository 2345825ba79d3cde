"""DICOM SEG of a multi-frame file without a frame of reference (issue 12): the demo's XA cine
run, which highdicom 0.28 cannot segment by itself. Every frame drawn on becomes a SEG frame that
names its source frame; highdicom reads back the same masks frame by frame; dciodvfy finds no
error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from clinlabel.demo.medical import write_demo_medical
from clinlabel.domain.regions import mask_from_array
from clinlabel.exports.region_data import polygon_pixels
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.region_exports import export_regions

from .region_project import SCHEMA, Drawer

XA = "Case_1/Visit_1/XC/xa_run.dcm"
SIZE = 256  # the demo run's rows and columns
POLYGON = [[30.0, 40.0], [120.0, 52.5], [70.0, 150.0]]


def _masks() -> dict[tuple[int, str], np.ndarray]:
    """What is drawn, by (frame, class): a brush on frame 3, a polygon on frame 3 and 17, a box
    and a brush (one class, two regions) on frame 30."""
    brush = np.zeros((SIZE, SIZE), dtype=bool)
    brush[100:140, 60:75] = True
    late = np.zeros((SIZE, SIZE), dtype=bool)
    late[200:210, 10:250] = True
    box = np.zeros((SIZE, SIZE), dtype=bool)
    box[5:25, 200:240] = True
    polygon = polygon_pixels(POLYGON, SIZE, SIZE)
    return {
        (3, "Lesion"): brush,
        (3, "Vessel"): polygon,
        (17, "Vessel"): polygon,
        (30, "Lesion"): box | late,
    }


def _export(tmp_path: Path) -> tuple[Path, Path]:
    write_demo_medical(tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC", seed=3)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(tmp_path / "Batch", tmp_path / "project", schema_path=schema)
    masks = _masks()
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project, "Roe^Rick")
        drawer.draw(XA, "Lesion", "brush", mask_from_array(masks[3, "Lesion"]), frame=3)
        drawer.draw(XA, "Vessel", "polygon", {"points": POLYGON}, frame=3)
        drawer.draw(XA, "Vessel", "polygon", {"points": POLYGON}, frame=17)
        drawer.draw(XA, "Lesion", "box", {"x": 200, "y": 5, "w": 40, "h": 20}, frame=30)
        late = np.zeros((SIZE, SIZE), dtype=bool)
        late[200:210, 10:250] = True
        drawer.draw(XA, "Lesion", "brush", mask_from_array(late), frame=30)
        drawer.close()
        result = export_regions(project, "dicom-seg", out=tmp_path / "seg", actor="t")
    assert result.left_out == 0
    (path,) = result.files
    return path, tmp_path / "Batch" / XA


def test_a_cine_without_frame_of_reference_gets_its_seg_read_back_frame_by_frame(
    tmp_path: Path,
) -> None:
    path, source_path = _export(tmp_path)
    source = pydicom.dcmread(source_path, stop_before_pixels=True)
    assert "FrameOfReferenceUID" not in source and int(source.NumberOfFrames) == 30
    seg = hd.seg.segread(path)
    assert "FrameOfReferenceUID" not in seg
    assert seg.SegmentationType == "BINARY" and str(seg.ContentCreatorName) == "Roe^Rick"
    assert [seg.get_segment_description(n).segment_label for n in (1, 2)] == ["Lesion", "Vessel"]
    # One SEG frame per (source frame, class) drawn on, each naming its source frame.
    assert int(seg.NumberOfFrames) == 4
    referenced = [
        (
            int(item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber),
            int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
        )
        for item in seg.PerFrameFunctionalGroupsSequence
    ]
    assert referenced == [(3, 1), (3, 2), (17, 2), (30, 1)]
    for item in seg.PerFrameFunctionalGroupsSequence:
        ref = item.DerivationImageSequence[0].SourceImageSequence[0]
        assert ref.ReferencedSOPInstanceUID == source.SOPInstanceUID
        assert ref.ReferencedSOPClassUID == source.SOPClassUID
    instance = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert instance.ReferencedSOPClassUID == source.SOPClassUID

    pixels = seg.get_pixels_by_source_frame(
        source_sop_instance_uid=source.SOPInstanceUID,
        source_frame_numbers=list(range(1, 31)),
        combine_segments=False,
        assert_missing_frames_are_empty=True,
    )
    expected = np.zeros((30, SIZE, SIZE, 2), dtype=bool)
    for (frame, name), mask in _masks().items():
        expected[frame - 1, :, :, ["Lesion", "Vessel"].index(name)] |= mask
    assert pixels.shape == expected.shape
    assert np.array_equal(pixels.astype(bool), expected)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools is not installed")
def test_dciodvfy_finds_no_error_in_the_cine_seg(tmp_path: Path) -> None:
    path, _ = _export(tmp_path)
    checked = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    errors = [line for line in checked.stderr.splitlines() if line.startswith("Error")]
    assert errors == [], checked.stderr
    # No attribute the SEG's IOD does not define, either (a reference in the wrong place).
    assert "not present in standard DICOM IOD" not in checked.stderr, checked.stderr
