"""`why_not_shown`: why `clinlabel scan` says a DICOM or NIfTI file cannot be shown."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from dicom_factory import grey_dataset, pattern, write
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from clinlabel.domain.images import ImageKind
from clinlabel.imaging.check import why_not_shown


def test_whole_files_can_be_shown(tmp_path: Path) -> None:
    for syntax in (ExplicitVRLittleEndian, RLELossless):
        path = write(
            tmp_path / f"{syntax.name}.dcm",
            grey_dataset(pattern(frames=3), signed=False, bits=12),
            syntax,
        )
        assert why_not_shown(path, ImageKind.DICOM) is None
    nii = tmp_path / "v.nii"
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6), np.int16), np.eye(4)), nii)
    assert why_not_shown(nii, ImageKind.NIFTI) is None


def test_a_dicom_object_without_pixel_data(tmp_path: Path) -> None:
    dataset = grey_dataset(pattern(), signed=False, bits=12)
    del dataset.PixelData
    path = tmp_path / "report.dcm"
    dataset.save_as(path, enforce_file_format=True)
    assert why_not_shown(path, ImageKind.DICOM) == "has no pixel data (no image to show)"


def test_a_transfer_syntax_nothing_decodes(tmp_path: Path) -> None:
    dataset = grey_dataset(pattern(), signed=False, bits=8)
    dataset.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 video
    dataset.PixelData = encapsulate([b"\x00" * 64])
    dataset["PixelData"].VR = "OB"
    path = tmp_path / "video.dcm"
    dataset.save_as(path, enforce_file_format=True)
    reason = why_not_shown(path, ImageKind.DICOM)
    assert reason is not None and "MPEG2" in reason and "not supported" in reason


def test_native_pixel_data_cut_short(tmp_path: Path) -> None:
    path = write(
        tmp_path / "whole.dcm",
        grey_dataset(pattern(), signed=False, bits=12),
        ExplicitVRLittleEndian,
    )
    short = tmp_path / "short.dcm"
    short.write_bytes(path.read_bytes()[:-1000])
    reason = why_not_shown(short, ImageKind.DICOM)
    assert reason is not None and reason.startswith("is truncated")


def test_compressed_fragments_running_past_the_end(tmp_path: Path) -> None:
    path = write(
        tmp_path / "whole.dcm", grey_dataset(pattern(frames=2), signed=False, bits=12), RLELossless
    )
    short = tmp_path / "short.dcm"
    short.write_bytes(path.read_bytes()[:-300])
    reason = why_not_shown(short, ImageKind.DICOM)
    assert reason is not None and "truncated" in reason and "past the end" in reason


def test_a_nifti_whose_voxels_do_not_fit(tmp_path: Path) -> None:
    nii = tmp_path / "v.nii"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)), nii)
    data = nii.read_bytes()
    nii.write_bytes(data[:-100])
    reason = why_not_shown(nii, ImageKind.NIFTI)
    assert reason is not None and reason.startswith("is truncated")
    damaged = tmp_path / "damaged.nii"
    damaged.write_bytes(b"\x00" * 400)
    assert "damaged NIfTI header" in (why_not_shown(damaged, ImageKind.NIFTI) or "")
