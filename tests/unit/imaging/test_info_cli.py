"""`clinlabel info` on files without an image: a DICOM object with no pixel data shows its
attributes and says it has no pixels; a CIFTI-2 file is named as such, in one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from click.testing import CliRunner
from nibabel import cifti2
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import BasicTextSRStorage, ExplicitVRLittleEndian, generate_uid

from clinlabel.cli.app import cli


def write_report(path: Path) -> Path:
    """A Basic Text SR: a DICOM object that has attributes and no pixel data."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = BasicTextSRStorage
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["clinlabel-test-sr"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "SR"
    ds.PatientName = "TEST^REPORT"
    ds.ValueType = "CONTAINER"
    ds.save_as(path, enforce_file_format=True)
    return path


def write_cifti(path: Path) -> Path:
    """A dense time series over 8 voxels (a CIFTI-2 file is a NIfTI-2 container)."""
    voxels = cifti2.BrainModelAxis.from_mask(np.ones((2, 2, 2), dtype=bool), affine=np.eye(4))
    series = cifti2.SeriesAxis(start=0, step=1, size=3)
    image = cifti2.Cifti2Image(np.zeros((3, len(voxels)), np.float32), header=(series, voxels))
    nib.save(image, path)
    return path


def test_info_on_dicom_without_pixels_shows_its_metadata(tmp_path: Path) -> None:
    report = write_report(tmp_path / "report.dcm")
    result = CliRunner().invoke(cli, ["info", str(report), "--show-identifying"])
    assert result.exit_code == 0, result.output
    assert "pixels: none: this DICOM file holds no image" in result.output
    assert "Basic Text SR Storage" in result.output
    assert "ValueType: CONTAINER" in result.output
    assert "TEST^REPORT" in result.output


def test_info_on_cifti2_names_cifti2(tmp_path: Path) -> None:
    cifti = write_cifti(tmp_path / "subject.dtseries.nii")
    result = CliRunner().invoke(cli, ["info", str(cifti)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "CIFTI-2" in lines[0], result.output
    assert "attribute" not in lines[0]
