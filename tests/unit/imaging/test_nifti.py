"""NIfTI: planes shown the way radiologists expect, whatever the affine; aspect; speed."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from clinlabel.errors import DecodeError
from clinlabel.imaging.nifti import display_slice
from clinlabel.imaging.viewing import ViewingService

SHAPE = (20, 24, 16)  # x, y, z in RAS voxel order


def _write(path: Path, data: np.ndarray, affine: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def _marked_volume() -> np.ndarray:
    """A marker at patient left (low x: RAS+ x grows towards the right), anterior, superior."""
    data = np.zeros(SHAPE, dtype=np.int16)
    data[1:4, 19:22, 12:14] = 1000
    data[0, 0, 0] = -10  # makes the full-range window start below the background
    return data


def _bright_centre(pixels: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(pixels > 200)
    return rows.mean() / pixels.shape[0], cols.mean() / pixels.shape[1]


@pytest.fixture
def ras_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "ras.nii.gz", _marked_volume(), np.diag([1.0, 1.0, 1.0, 1.0]))


def test_axial_patient_left_on_screen_right_anterior_up(ras_file: Path) -> None:
    row, col = _bright_centre(display_slice(ras_file, index=13, plane="axial"))
    assert col > 0.5 and row < 0.5


def test_coronal_patient_left_on_screen_right_superior_up(ras_file: Path) -> None:
    row, col = _bright_centre(display_slice(ras_file, index=21, plane="coronal"))
    assert col > 0.5 and row < 0.5


def test_sagittal_anterior_on_screen_left_superior_up(ras_file: Path) -> None:
    row, col = _bright_centre(display_slice(ras_file, index=3, plane="sagittal"))
    assert col < 0.5 and row < 0.5


def test_flipped_and_permuted_affine_gives_the_same_display(tmp_path: Path, ras_file: Path) -> None:
    # Store the same anatomy as L-P-S... with axes swapped: voxel (i, j, k) = RAS (X-1-j', ...).
    data = _marked_volume()
    stored = np.ascontiguousarray(data[::-1, ::-1, :].transpose(1, 0, 2))  # axes (y', x')
    affine = np.zeros((4, 4))
    affine[0, 1] = -1.0  # voxel axis 1 runs towards patient right -> world -x
    affine[1, 0] = -1.0  # voxel axis 0 runs posterior
    affine[2, 2] = 1.0
    affine[3, 3] = 1.0
    affine[:3, 3] = [SHAPE[0] - 1, SHAPE[1] - 1, 0]
    other = _write(tmp_path / "lps.nii.gz", stored, affine)
    for plane, index in (("axial", 13), ("coronal", 21), ("sagittal", 3)):
        expected = display_slice(ras_file, index=index, plane=plane)
        assert np.array_equal(display_slice(other, index=index, plane=plane), expected)


def test_anisotropic_voxels_are_shown_square(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.nii", _marked_volume(), np.diag([1.0, 1.0, 3.0, 1.0]))
    assert display_slice(path, index=1, plane="axial").shape == (24, 20)
    assert display_slice(path, index=1, plane="coronal").shape == (48, 20)  # 16 slices x 3 mm
    assert display_slice(path, index=1, plane="sagittal").shape == (48, 24)


def test_a_volume_is_loaded_once_as_its_stored_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slice speed is measured by benchmarks/bench_render.py (each plane of a 512 x 512 x 300
    # volume); here, what makes it fast: one load per viewing service, in the stored integer type.
    data = np.random.default_rng(0).integers(-1000, 2000, (64, 64, 30)).astype(np.int16)
    path = _write(tmp_path / "big.nii", data, np.diag([0.8, 0.8, 2.0, 1.0]))
    loads: list[object] = []
    real_load = nib.load
    monkeypatch.setattr(nib, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    service = ViewingService()
    assert service.volume(path).data.dtype == np.int16
    for plane in ("axial", "coronal", "sagittal"):
        for index in range(1, 21):
            display_slice(path, index=index, plane=plane, reader=service)
    assert len(loads) == 1


def test_bad_files_and_slices_are_refused(tmp_path: Path, ras_file: Path) -> None:
    noisy = np.random.default_rng(1).integers(0, 3000, SHAPE).astype(np.int16)
    whole = _write(tmp_path / "noisy.nii.gz", noisy, np.eye(4)).read_bytes()
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DecodeError):
        display_slice(broken)
    with pytest.raises(DecodeError, match="does not exist"):
        display_slice(ras_file, index=99)
    with pytest.raises(DecodeError, match="plane"):
        display_slice(ras_file, plane="oblique")
