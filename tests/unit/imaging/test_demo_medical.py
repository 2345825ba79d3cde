"""The synthetic medical files of the demo batch: readable, small, deterministic, fake."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import pydicom

from clinlabel.demo.medical import write_demo_medical


def test_demo_medical_files_are_small_deterministic_and_fake(tmp_path: Path) -> None:
    first = write_demo_medical(tmp_path / "a", seed=7)
    second = write_demo_medical(tmp_path / "b", seed=7)
    assert [p.name for p in first] == [
        "ct_head.dcm",
        "xa_run.dcm",
        "IM000001",
        "brain_volume.nii.gz",
    ]
    assert sum(p.stat().st_size for p in first) < 5_000_000
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()
    ct, xa, dx = (pydicom.dcmread(p) for p in first[:3])
    assert str(ct.PatientName) == "DEMO^PATIENT"
    assert ct.PixelRepresentation == 1 and ct.RescaleIntercept == -1024
    assert xa.NumberOfFrames == 30 and xa.PositionerPrimaryAngle == -30
    assert dx.PhotometricInterpretation == "MONOCHROME1"
    volume = nib.load(first[3])
    assert volume.shape == (64, 64, 40)
    assert volume.get_data_dtype() == "int16"


def test_other_seeds_give_other_files(tmp_path: Path) -> None:
    one = write_demo_medical(tmp_path / "a", seed=1)
    two = write_demo_medical(tmp_path / "b", seed=2)
    assert one[0].read_bytes() != two[0].read_bytes()
