"""A float NIfTI volume with NaN voxels (common for "no data" outside a mask): windows come from
the finite values, NaN is shown as the lowest grey, and the metadata says how many there are."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import nifti
from clinlabel.imaging.info import describe
from clinlabel.imaging.render import render_array


def write_nan_volume(path: Path) -> np.ndarray:
    """8 x 8 x 4 float32 voxels: a ramp 0..255 with the first row of every slice NaN (32 NaN)."""
    data = np.tile(np.linspace(0.0, 255.0, 64, dtype=np.float32).reshape(8, 8, 1), (1, 1, 4))
    data[0, :, :] = np.nan
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)  # type: ignore[no-untyped-call]
    return data


def test_nan_voxels_do_not_blacken_the_image(tmp_path: Path) -> None:
    path = tmp_path / "masked.nii.gz"
    data = write_nan_volume(path)
    volume = nifti.read_volume(path)
    window = volume.default_window
    assert np.isfinite(window.center) and np.isfinite(window.width)
    finite = data[np.isfinite(data)]
    assert window.width == pytest.approx(float(finite.max() - finite.min()) + 1)
    with np.errstate(all="raise"):  # no numpy warning reaches the user either
        shown = render_array(path, ImageKind.NIFTI, frame=1, plane="axial")
        stored, _, _ = nifti.oriented_slice(volume, plane="axial", index=1)
    assert shown.max() == 255  # the brightest finite voxel is white, not black
    nan_on_screen = np.isnan(stored)
    assert nan_on_screen.any() and (~nan_on_screen).any()
    assert (shown[nan_on_screen] == 0).all()  # NaN: the lowest grey
    assert len(np.unique(shown[~nan_on_screen])) > 10  # the ramp is visible
    inverted = render_array(path, ImageKind.NIFTI, frame=1, plane="axial", invert=True)
    assert (inverted[nan_on_screen] == 255).all()  # inverted with the rest


def test_metadata_counts_nan_voxels(tmp_path: Path) -> None:
    path = tmp_path / "masked.nii"
    write_nan_volume(path)
    assert describe(path, ImageKind.NIFTI).geometry["nan_voxels"] == 32


@pytest.mark.parametrize(
    ("values", "span"),
    [
        ([np.nan, 3.0, -2.0], (-2.0, 3.0)),
        ([np.inf, 3.0, np.nan, -np.inf, 1.0], (1.0, 3.0)),
        ([np.nan, np.nan], (0.0, 0.0)),
    ],
)
def test_finite_span_leaves_out_nan_and_infinities(
    values: list[float], span: tuple[float, float]
) -> None:
    from clinlabel.imaging.rendering import finite_span

    assert finite_span(np.array(values, dtype=np.float32).reshape(1, -1)) == span
