"""DICOM SEG of multi-frame files with a frame of reference but no shared functional groups
(issue 12): per-frame groups only, or a classic multi-frame file with neither. highdicom 0.28
fails on both by itself (the first with an AttributeError, the second refused as having no
frame of reference); the export places the first as highdicom would with shared groups and
makes the second frame by frame. Each is read back by highdicom to the masks drawn on two
frames, and dciodvfy finds no error."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from clinlabel.domain.regions import mask_from_array
from clinlabel.exports.region_data import polygon_pixels
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.region_exports import export_regions

from ..cli.cli_run import run
from .region_project import SCHEMA, Drawer, write_placed_dicom

RUN = "Case_1/Visit_1/XC/run.dcm"
POLYGON = [[2.0, 2.0], [20.0, 4.0], [9.0, 28.0]]


def _brush() -> np.ndarray:
    brush = np.zeros((32, 24), dtype=bool)
    brush[3:9, 4:7] = True
    brush[30, 23] = True
    return brush


def _export(tmp_path: Path, per_frame_groups: bool) -> tuple[Path, Path]:
    source = write_placed_dicom(tmp_path / "Batch" / RUN, per_frame_groups=per_frame_groups)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(tmp_path / "Batch", tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project)
        drawer.draw(RUN, "Lesion", "brush", mask_from_array(_brush()), frame=2)
        drawer.draw(RUN, "Vessel", "polygon", {"points": POLYGON}, frame=4)
        drawer.close()
        result = export_regions(project, "dicom-seg", out=tmp_path / "seg", actor="t")
    assert (result.regions, result.left_out) == (2, 0)
    (path,) = result.files
    return path, source


@pytest.mark.parametrize("per_frame_groups", [True, False], ids=["per-frame-groups", "classic"])
def test_a_multi_frame_source_without_shared_groups_gets_a_seg_highdicom_reads_back(
    tmp_path: Path, per_frame_groups: bool
) -> None:
    path, source_path = _export(tmp_path, per_frame_groups)
    source = pydicom.dcmread(source_path, stop_before_pixels=True)
    assert "SharedFunctionalGroupsSequence" not in source
    seg = hd.seg.segread(path)
    assert seg.FrameOfReferenceUID == source.FrameOfReferenceUID
    referenced = [
        (
            int(item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber),
            int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
        )
        for item in seg.PerFrameFunctionalGroupsSequence
    ]
    assert sorted(referenced) == [(2, 1), (4, 2)]
    if per_frame_groups:
        # Placed in the patient's space: each SEG frame where its source frame is.
        positions = sorted(
            float(item.PlanePositionSequence[0].ImagePositionPatient[2])
            for item in seg.PerFrameFunctionalGroupsSequence
        )
        assert positions == [2.5, 7.5]
        shared = seg.SharedFunctionalGroupsSequence[0]
        assert [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] == [0.5, 0.5]
    pixels = seg.get_pixels_by_source_frame(
        source_sop_instance_uid=source.SOPInstanceUID,
        source_frame_numbers=[1, 2, 3, 4],
        combine_segments=False,
        assert_missing_frames_are_empty=True,
    )
    expected = np.zeros((4, 32, 24, 2), dtype=bool)
    expected[1, :, :, 0] = _brush()
    expected[3, :, :, 1] = polygon_pixels(POLYGON, 24, 32)
    assert np.array_equal(pixels.astype(bool), expected)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools is not installed")
@pytest.mark.parametrize("per_frame_groups", [True, False], ids=["per-frame-groups", "classic"])
def test_dciodvfy_finds_no_error_in_the_seg_of_a_source_without_shared_groups(
    tmp_path: Path, per_frame_groups: bool
) -> None:
    path, _ = _export(tmp_path, per_frame_groups)
    checked = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    errors = [line for line in checked.stderr.splitlines() if line.startswith("Error")]
    assert errors == [], checked.stderr
    assert "not present in standard DICOM IOD" not in checked.stderr, checked.stderr


@pytest.mark.parametrize(
    ("annotator", "written"),
    [("Dr A", "Dr A^"), ("Doe^Jane", "Doe^Jane"), ("A\\B", "A/B^"), ("x" * 80, "x" * 63 + "^")],
)
def test_the_annotator_is_a_dicom_person_name_without_a_warning(
    tmp_path: Path, annotator: str, written: str
) -> None:
    write_placed_dicom(tmp_path / "Batch" / RUN, per_frame_groups=True)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(tmp_path / "Batch", tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project, annotator)
        drawer.draw(RUN, "Lesion", "brush", mask_from_array(_brush()), frame=2)
        drawer.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(
            "export", tmp_path / "project", "--format", "dicom-seg", "--out", tmp_path / "s"
        )
    assert result.exit_code == 0, result.output
    # A single-component name with its trailing caret (PS3.5 6.2.1): highdicom has nothing to
    # warn about (its warning is a paragraph on stderr after the command's one line).
    assert [str(w.message) for w in caught if "person name" in str(w.message)] == []
    (path,) = (tmp_path / "s").rglob("*.seg.dcm")
    assert str(pydicom.dcmread(path).ContentCreatorName) == written
    if shutil.which("dciodvfy") is not None:
        checked = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, timeout=120, check=False
        )
        assert "Person Name" not in checked.stderr, checked.stderr
