"""Photo renditions: original bytes when possible, orientation, colour modes, clear refusals."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging.raster import draft_scale
from clinlabel.imaging.render import display_rendition


def _jpeg(path: Path, size: tuple[int, int], *, orientation: int = 1, **save: object) -> Path:
    image = Image.new("RGB", size, (200, 30, 30))
    # A green block in the top-left corner shows where the stored image's origin ends up.
    image.paste((30, 200, 30), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    image.save(path, format="JPEG", quality=95, exif=exif.tobytes(), **save)
    return path


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_small_upright_jpeg_is_sent_as_its_original_bytes(tmp_path: Path) -> None:
    path = _jpeg(tmp_path / "a.jpg", (640, 480))
    rendition = display_rendition(path, ImageKind.RASTER)
    assert rendition.data == path.read_bytes()
    assert (rendition.media_type, rendition.width, rendition.height) == ("image/jpeg", 640, 480)


def test_progressive_jpeg_is_reencoded(tmp_path: Path) -> None:
    path = _jpeg(tmp_path / "p.jpg", (640, 480), progressive=True)
    rendition = display_rendition(path, ImageKind.RASTER)
    assert rendition.data != path.read_bytes()
    assert _decode(rendition.data).size == (640, 480)


def test_orientation_6_is_rotated(tmp_path: Path) -> None:
    # Orientation 6: the stored image must be turned 90 degrees clockwise to be seen upright.
    path = _jpeg(tmp_path / "o.jpg", (400, 200), orientation=6)
    rendition = display_rendition(path, ImageKind.RASTER)
    shown = _decode(rendition.data).convert("RGB")
    assert shown.size == (200, 400) == (rendition.width, rendition.height)
    # The stored top-left corner goes to the top-right after a clockwise turn.
    assert shown.getpixel((190, 10))[1] > 150
    assert shown.getpixel((10, 10))[0] > 150


def test_large_jpeg_is_dct_scaled_not_resampled(tmp_path: Path) -> None:
    path = _jpeg(tmp_path / "big.jpg", (4032, 3024))
    rendition = display_rendition(path, ImageKind.RASTER, max_side=2048)
    assert (rendition.width, rendition.height) == (2016, 1512)
    assert _decode(rendition.data).size == (2016, 1512)
    small = display_rendition(path, ImageKind.RASTER, max_side=500)
    assert (small.width, small.height) == (504, 378)


@pytest.mark.parametrize(
    ("size", "max_side", "scale"),
    [
        ((1000, 800), 2048, 1),
        ((4000, 3000), 2000, 2),
        ((4000, 3000), 2048, 2),  # 2000 px is within 10 % of a 2048 px screen: half-scale DCT
        ((8000, 6000), 2048, 4),
        ((8000, 6000), 4096, 2),
        ((3000, 3000), 2048, 1),  # 1500 px would be 27 % short: keep the full size
        ((8000, 6000), 900, 8),
    ],
)
def test_draft_scale_keeps_the_long_side_near_max_side(
    size: tuple[int, int], max_side: int, scale: int
) -> None:
    assert draft_scale(*size, max_side) == scale


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(path, format="JPEG", quality=95)  # red
    rendition = display_rendition(path, ImageKind.RASTER)
    red, green, blue = _decode(rendition.data).convert("RGB").getpixel((32, 32))
    assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_grey_png_is_scaled_by_its_real_range(tmp_path: Path) -> None:
    path = tmp_path / "g16.png"
    pixels = np.zeros((32, 64), dtype=np.uint16)
    pixels[:, :32] = 1000
    pixels[:, 32:] = 3000  # all values above 255: truncating to 8 bits would give garbage
    Image.fromarray(pixels).save(path)
    rendition = display_rendition(path, ImageKind.RASTER)
    assert rendition.media_type == "image/jpeg"
    shown = np.asarray(_decode(rendition.data).convert("L"))
    assert shown[:, :28].max() < 10 and shown[:, 36:].min() > 245


def test_palette_png_keeps_its_colours_and_transparency(tmp_path: Path) -> None:
    opaque = tmp_path / "p.png"
    image = Image.new("P", (16, 16), 1)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.save(opaque)
    shown = _decode(display_rendition(opaque, ImageKind.RASTER).data).convert("RGB")
    assert shown.getpixel((8, 8))[2] > 240
    clear = tmp_path / "t.png"
    image.save(clear, transparency=0)
    image2 = Image.new("P", (16, 16), 0)
    image2.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image2.paste(1, (0, 0, 8, 16))
    image2.save(clear, transparency=0)
    rendition = display_rendition(clear, ImageKind.RASTER)
    assert rendition.media_type == "image/png"
    assert _decode(rendition.data).mode == "RGBA"


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty"):
        display_rendition(path, ImageKind.RASTER)


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture\n")
    with pytest.raises(DecodeError, match="not an image"):
        display_rendition(path, ImageKind.RASTER)


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    path = _jpeg(tmp_path / "t.jpg", (640, 480))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DecodeError, match="truncated"):
        display_rendition(path, ImageKind.RASTER)
