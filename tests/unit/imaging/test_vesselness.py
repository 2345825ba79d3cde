"""The vessel assist's map (issue 11): vessels stand out, scales follow the pixel spacing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clinlabel.demo.medical import write_demo_medical
from clinlabel.errors import DecodeError
from clinlabel.imaging.vesselness import DEFAULT_SIGMAS_PX, sigmas_for, vessel_map
from clinlabel.imaging.viewing import ViewingService


def _angiogram(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """A bright noisy background crossed by a dark diagonal vessel 6 px wide; and its mask."""
    rng = np.random.default_rng(7)
    frame = rng.normal(1000, 20, (size, size))
    rows, cols = np.mgrid[:size, :size]
    vessel = np.abs(rows - 0.6 * cols - 30) < 3
    frame[vessel] -= 300
    return frame.astype(np.int16), vessel


def test_the_vessel_is_bright_in_the_map_and_the_background_dark() -> None:
    frame, vessel = _angiogram()
    made = vessel_map(frame, spacing_mm=0.3)
    assert made.values.shape == frame.shape and made.values.dtype == np.uint8
    rows, cols = np.mgrid[: frame.shape[0], : frame.shape[1]]
    far = np.abs(rows - 0.6 * cols - 30) > 20
    assert made.values[vessel].mean() > 100
    assert made.values[far].mean() < 10
    # A threshold turns it into a proposal that finds the vessel and little else.
    proposal = made.values > 60
    assert (proposal & vessel).sum() / vessel.sum() > 0.7
    assert (proposal & far).sum() / far.sum() < 0.01
    assert made.params["filter"] == "frangi"
    assert made.params["sigmas_px"] == list(sigmas_for(0.3))


def test_scales_in_pixels_follow_the_pixel_spacing() -> None:
    fine, coarse = sigmas_for(0.15), sigmas_for(0.6)
    assert max(fine) > max(coarse)
    assert all(1.0 <= s <= 16.0 for s in fine + coarse)
    assert sigmas_for(None) == DEFAULT_SIGMAS_PX == sigmas_for(float("nan"))


def test_colour_and_tiny_frames_are_refused() -> None:
    with pytest.raises(DecodeError, match="grey"):
        vessel_map(np.zeros((64, 64, 3)), spacing_mm=None)
    with pytest.raises(DecodeError, match="too small"):
        vessel_map(np.zeros((4, 4)), spacing_mm=None)


def test_the_viewing_service_computes_a_frame_once_and_again_after_a_change(
    tmp_path: Path,
) -> None:
    _, xa, _, _ = write_demo_medical(tmp_path / "m", seed=3)
    service = ViewingService()
    first = service.vessel_map(xa, 30)
    assert first is service.vessel_map(xa, 30)  # kept
    assert first.params["spacing_mm"] == pytest.approx(0.3)
    with pytest.raises(DecodeError, match="no frame 31"):
        service.vessel_map(xa, 31)
    # The same path with other bytes is another file: computed anew.
    _, other, _, _ = write_demo_medical(tmp_path / "n", seed=4)
    xa.write_bytes(other.read_bytes())
    assert service.vessel_map(xa, 30) is not first


def test_the_fast_scale_agrees_with_scikit_images_frangi() -> None:
    from skimage.filters import frangi

    from clinlabel.imaging.vesselness import _frangi

    frame, _ = _angiogram(256)
    image = (frame - frame.min()) / (frame.max() - frame.min())
    ours = _frangi(image.astype(np.float32), 2.0, dark_vessels=True)
    reference = frangi(image, sigmas=(2.0,), black_ridges=True, mode="reflect")
    assert np.corrcoef(ours.ravel(), reference.ravel())[0, 1] > 0.95
