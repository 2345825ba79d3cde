"""Photos at full detail (`render.full_photo_rendition`, `ViewingService.full_rendition`) and the
orientation letters of volume slices (`nifti.slice_orientation`)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import raster, render
from clinlabel.imaging.nifti import slice_orientation
from clinlabel.imaging.render import FULL_BYTES, FULL_MAX_SIDE, full_reduction
from clinlabel.imaging.viewing import ViewingService


def _noise(width: int, height: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("width", "height", "budget"),
    [
        (4000, 3000, 512 << 20),
        (12000, 9000, 512 << 20),
        (30000, 400, 512 << 20),
        (4000, 3000, 8 << 20),
    ],
)
def test_the_reduction_is_the_smallest_that_fits_the_page(
    width: int, height: int, budget: int
) -> None:
    limit = min(FULL_BYTES, budget)

    def fits(f: int) -> bool:
        return max(width, height) / f <= FULL_MAX_SIDE and (width // f) * (height // f) * 4 <= limit

    factor = full_reduction(width, height, memory_budget=budget)
    assert fits(factor)
    assert factor == 1 or not fits(factor - 1)


def test_a_12_mp_photo_is_sent_whole_as_its_own_bytes(tmp_path: Path) -> None:
    path = tmp_path / "lesion.png"
    pixels = _noise(4000, 3000)
    Image.fromarray(pixels).save(path, compress_level=1)
    made = render.full_photo_rendition(path, memory_budget=512 << 20)
    assert (made.width, made.height, made.media_type) == (4000, 3000, "image/png")
    assert made.data == path.read_bytes()


def test_a_rotated_or_transparent_photo_is_decoded_upright_without_loss(tmp_path: Path) -> None:
    pixels = _noise(300, 200)
    rotated = tmp_path / "phone.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to show
    Image.fromarray(pixels).save(rotated, exif=exif.tobytes())
    made = render.full_photo_rendition(rotated, memory_budget=512 << 20)
    assert made.media_type == "image/png"
    shown = np.asarray(Image.open(io.BytesIO(made.data)))
    np.testing.assert_array_equal(shown, np.rot90(pixels, k=-1))


def test_a_photo_too_large_for_the_budget_is_reduced_by_a_whole_factor(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    Image.fromarray(_noise(800, 600)).save(path)
    budget = 800 * 600 * 3  # decodable here, but not 4 bytes a pixel in the page
    size = render.photo_size(path, memory_budget=budget)
    assert (size.width, size.height, size.reduction) == (800, 600, 2)
    made = render.full_photo_rendition(path, memory_budget=budget)
    assert (made.width, made.height) == (size.full_width, size.full_height) == (400, 300)


def test_the_full_rendition_is_keyed_by_the_files_identity(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(_noise(500, 400, seed=1)).save(path)
    service = ViewingService(rendition_folder=tmp_path / "renditions")
    first = service.full_rendition(path, ImageKind.RASTER)
    assert service.full_rendition(path, ImageKind.RASTER) == first  # from the cache
    stat = path.stat()
    replacement = tmp_path / "other.png"
    Image.fromarray(_noise(500, 400, seed=2)).save(replacement)
    os.replace(replacement, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = service.full_rendition(path, ImageKind.RASTER)
    assert again.path != first.path
    assert again.path.read_bytes() == path.read_bytes()
    assert service.photo_size(path).width == 500
    with pytest.raises(DecodeError, match="Only photos"):
        service.full_rendition(path, ImageKind.DICOM)


def test_a_truncated_photo_fails_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(_noise(300, 200)).save(path)
    path.write_bytes(path.read_bytes()[:-4000])
    service = ViewingService(rendition_folder=tmp_path / "renditions")
    with pytest.raises(DecodeError, match=r"cut\.png"):
        service.full_rendition(path, ImageKind.RASTER)


SHAPE = (20, 24, 16)


def _marked(path: Path, affine: np.ndarray, data: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def test_orientation_letters_name_the_edge_the_anatomy_is_at(tmp_path: Path) -> None:
    # A marker at the patient's left, anterior and superior (RAS+ voxel order, identity affine).
    data = np.zeros(SHAPE, dtype=np.int16)
    data[1:4, 19:22, 12:14] = 1000
    service = ViewingService()
    volume = service.volume(_marked(tmp_path / "ras.nii.gz", np.eye(4), data))
    from clinlabel.imaging.nifti import oriented_slice

    for plane, index in (("axial", 13), ("coronal", 21), ("sagittal", 3)):
        letters = slice_orientation(volume, plane)
        shown, _, _ = oriented_slice(volume, plane=plane, index=index)
        rows, cols = np.nonzero(shown > 0)
        vertical = letters["top"] if rows.mean() < shown.shape[0] / 2 else letters["bottom"]
        horizontal = letters["left"] if cols.mean() < shown.shape[1] / 2 else letters["right"]
        expected = {"axial": ("A", "L"), "coronal": ("S", "L"), "sagittal": ("S", "A")}[plane]
        assert (vertical, horizontal) == expected
        assert {letters["top"], letters["bottom"]} in ({"A", "P"}, {"S", "I"})
    assert slice_orientation(volume, "axial") == {
        "top": "A",
        "bottom": "P",
        "left": "R",
        "right": "L",
    }


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_attack_a_photo_with_a_colour_profile_zooms_in_the_colours_of_its_screen_rendition(
    tmp_path: Path, suffix: str
) -> None:
    # The screen rendition is made from the stored values (no colour management); a browser
    # shown the file's own bytes would convert them through the embedded profile, so the colours
    # would change the moment the full-resolution picture is swapped in.
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / f"dermatoscope{suffix}"
    ramp = np.linspace(40, 220, 64 * 48).reshape(48, 64)
    pixels = np.stack([ramp, ramp[::-1], np.full_like(ramp, 128)], axis=-1).astype(np.uint8)
    Image.fromarray(pixels).save(path, icc_profile=profile, quality=95)
    made = render.full_photo_rendition(path, memory_budget=512 << 20)
    assert made.data != path.read_bytes()
    with Image.open(io.BytesIO(made.data)) as sent:
        assert "icc_profile" not in sent.info
        shown = np.asarray(sent.convert("RGB"))
    with Image.open(path) as original:
        np.testing.assert_allclose(shown, np.asarray(original.convert("RGB")), atol=8)
    # Nor does the screen rendition (a transparent one is a PNG, which copies what it is given).
    Image.fromarray(np.dstack([pixels, np.full(pixels.shape[:2], 200, np.uint8)])).save(
        see_through := tmp_path / "see-through.png", icc_profile=profile
    )
    for source in (path, see_through):
        data, _, _, _ = raster.photo_rendition(source, max_side=32)
        with Image.open(io.BytesIO(data)) as screen:
            assert "icc_profile" not in screen.info


def test_attack_a_png_with_a_gamma_chunk_is_not_sent_as_its_own_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    Image.fromarray(_noise(64, 48)).save(path)
    raw = path.read_bytes()
    # A gAMA chunk (gamma 1.0) after IHDR: browsers apply it, the screen rendition does not.
    import struct
    import zlib

    body = b"gAMA" + struct.pack(">I", 100000)
    chunk = struct.pack(">I", 4) + body + struct.pack(">I", zlib.crc32(body))
    ihdr_end = 8 + 4 + 4 + 13 + 4
    path.write_bytes(raw[:ihdr_end] + chunk + raw[ihdr_end:])
    made = render.full_photo_rendition(path, memory_budget=512 << 20)
    assert made.data != path.read_bytes()
    with Image.open(io.BytesIO(made.data)) as sent:
        assert "gamma" not in sent.info
