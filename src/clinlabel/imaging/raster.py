"""Photos (JPEG, PNG, TIFF, BMP, ...) through Pillow: display renditions and 8-bit display images.

Speed notes (issue 3): a full Pillow decode of a 12 MP JPEG costs about 75 ms, a DCT-scaled
decode (`Image.draft`) about half of that, an exact resample 50 ms or more, JPEG q85 encoding about
9 ms and PNG encoding hundreds of ms. So a small, upright, baseline JPEG is sent as its original
bytes, a large one is DCT-scaled by a power of two and never resampled to an exact size (the
browser scales the rest), and renditions are JPEG unless there is real transparency.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from clinlabel.errors import DecodeError
from clinlabel.imaging import budget

JPEG_QUALITY = 85
EXIF_ORIENTATION = 0x0112
# A power-of-two reduction whose long side falls at most 10 % short of `max_side` is still taken:
# a 4000 px camera photo halves to 2000 px and a 4032 px phone photo to 2016 px for a 2048 px
# screen, and the DCT-scaled decode is about twice as fast as the full one (issue 3: ~38 ms
# against ~75 ms for 12 MP). The browser's last <= 11 % upscale is barely visible; a 0.98 slack
# missed the commonest case (4000 / 2 = 2000 < 0.98 * 2048) and decoded 12 MP in full.
DRAFT_SLACK = 0.9
_JPEG_EOI = b"\xff\xd9"
_SMALL_ORIGINAL_MODES = frozenset({"RGB", "L"})


def open_image(path: Path, *, memory_budget: int = budget.DEFAULT_BYTES) -> Image.Image:
    """Open `path` with Pillow, raising `DecodeError` with a reason a user understands, and
    `TooLargeError` when its canvas would take more than `memory_budget` bytes."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DecodeError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
    if size == 0:
        raise DecodeError(f"{path.name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except UnidentifiedImageError as exc:
        raise DecodeError(f"{path.name} is not an image Pillow can read.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError(f"{path.name} is too large to decode safely ({exc}).") from exc
    except OSError as exc:
        raise DecodeError(f"Cannot read {path.name}: {exc}.") from exc
    try:
        _check_budget(image, path.name, memory_budget)
    except DecodeError:
        image.close()
        raise
    return image


def _check_budget(image: Image.Image, name: str, limit: int) -> None:
    """Refuse a canvas larger than the memory budget from its header, before decoding it."""
    width, height = image.size
    mode = image.mode
    per_band = 4 if mode in ("I", "F") else 2 if mode.startswith("I;16") else 1
    budget.check(
        budget.photo_bytes(width, height, len(image.getbands()), per_band),
        name=name,
        what=f"its {width} x {height} {mode} picture",
        limit=limit,
    )


def _load(image: Image.Image, name: str) -> None:
    """Force the decode now, so a truncated or damaged file fails here and not in the encoder."""
    # The setting is module state in Pillow; we never turn it on, but refuse to depend on it.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else f"damaged ({exc})"
        raise DecodeError(f"{name} cannot be decoded: the image data is {reason}.") from exc


def exif_of(image: Image.Image, name: str) -> Image.Exif:
    """The picture's EXIF block; `DecodeError` when reading it fails.

    Pillow finds a PNG's eXIf chunk only by decoding the image data before it, so a truncated PNG
    fails here, not at `open_image`.
    """
    try:
        return image.getexif()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else f"damaged ({exc})"
        raise DecodeError(f"{name} cannot be decoded: the image data is {reason}.") from exc


def draft_scale(width: int, height: int, max_side: int) -> int:
    """The largest JPEG DCT reduction (1, 2, 4 or 8) whose long side stays >= 0.9 `max_side`."""
    long_side = max(width, height)
    scale = 1
    for candidate in (2, 4, 8):
        if long_side / candidate >= max_side * DRAFT_SLACK:
            scale = candidate
    return scale


def _ends_with_eoi(path: Path) -> bool:
    # Cameras may pad after the End Of Image marker; look at the last few bytes only.
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64))
        return _JPEG_EOI in handle.read()


def _original_is_fine(image: Image.Image, path: Path, max_side: int) -> bool:
    """True when the browser can show the file's own bytes exactly as we would render it."""
    if image.format != "JPEG" or image.mode not in _SMALL_ORIGINAL_MODES:
        return False
    if max(image.size) > max_side or image.info.get("progressive") or image.info.get("progression"):
        return False
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        return False
    return _ends_with_eoi(path)


def to_display_mode(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit "L", "RGB" or "RGBA" with correct values.

    16-bit and 32-bit grey are scaled by their real range (not truncated to the low byte), CMYK and
    YCbCr become RGB, palette images become RGB, or RGBA when the palette has transparency.
    """
    mode = image.mode
    if mode in ("L", "RGB", "RGBA"):
        return image
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return Image.fromarray(_grey_to_uint8(np.asarray(image)), mode="L")
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "LA":
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def _grey_to_uint8(pixels: np.ndarray) -> np.ndarray:
    lo = float(pixels.min())
    hi = float(pixels.max())
    if hi <= lo:
        return np.zeros(pixels.shape, dtype=np.uint8)
    scaled = (pixels.astype(np.float32) - lo) * (255.0 / (hi - lo))
    result: np.ndarray = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    return result


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        alpha_range = image.getchannel("A").getextrema()  # type: ignore[no-untyped-call]
        if alpha_range == (255, 255):
            return image.convert("RGB")
    return image


def display_image(
    path: Path, *, max_side: int | None = None, memory_budget: int = budget.DEFAULT_BYTES
) -> Image.Image:
    """Decode a photo as it is meant to be seen: EXIF orientation applied, 8-bit L/RGB/RGBA.

    With `max_side`, a JPEG is DCT-scaled and other formats reduced by an integer factor while the
    long side stays >= `max_side` (never resampled to an exact size).
    """
    image = open_image(path, memory_budget=memory_budget)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # multi-page TIFF, animated GIF: the first page is the picture
    is_jpeg = image.format == "JPEG"
    scale = draft_scale(*image.size, max_side) if max_side is not None else 1
    if is_jpeg and scale > 1:
        # Keep the file's own mode (L, RGB, CMYK): draft only picks the DCT scale here.
        image.draft(image.mode, (image.size[0] // scale, image.size[1] // scale))
    _load(image, path.name)
    # A damaged EXIF block must not hide an otherwise good picture.
    with contextlib.suppress(OSError, ValueError, SyntaxError):
        image = ImageOps.exif_transpose(image)
    image = to_display_mode(image)
    if not is_jpeg and scale > 1:
        image = image.reduce(scale)
    image = _drop_opaque_alpha(image)
    # Pillow's PNG writer copies a profile or gamma it finds here; every rendition shows the
    # stored values, so none may carry them (the browser would convert some and not others).
    for key in _COLOUR_MANAGED:
        image.info.pop(key, None)
    return image


def encode(image: Image.Image) -> tuple[bytes, str]:
    """JPEG q85 for opaque images, PNG when there is transparency."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue(), "image/png"
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), "image/jpeg"


def photo_rendition(
    path: Path, *, max_side: int, memory_budget: int = budget.DEFAULT_BYTES
) -> tuple[bytes, str, int, int]:
    """Bytes, media type, width and height of the browser rendition of a photo."""
    image = open_image(path, memory_budget=memory_budget)
    if _original_is_fine(image, path, max_side):
        width, height = image.size
        image.close()
        return path.read_bytes(), "image/jpeg", width, height
    image.close()
    shown = display_image(path, max_side=max_side, memory_budget=memory_budget)
    data, media_type = encode(shown)
    return data, media_type, shown.width, shown.height


_COLOUR_MANAGED = ("icc_profile", "gamma", "chromaticity", "srgb")
_FULL_ORIGINAL_MODES = {"JPEG": frozenset({"RGB", "L"}), "PNG": frozenset({"RGB", "L", "RGBA"})}


def is_jpeg(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\xff\xd8"


def original_fits_full(path: Path, *, memory_budget: int = budget.DEFAULT_BYTES) -> bool:
    """True when the browser shows the file's own bytes as `display_image` would decode them:
    an upright 8-bit JPEG (complete, up to its End Of Image marker) or PNG, decoded whole here
    first so a damaged file fails with its reason instead of half-drawing in the page."""
    image = open_image(path, memory_budget=memory_budget)
    try:
        modes = _FULL_ORIGINAL_MODES.get(image.format or "")
        if modes is None or image.mode not in modes or getattr(image, "n_frames", 1) > 1:
            return False
        if exif_of(image, path.name).get(EXIF_ORIENTATION, 1) != 1:
            return False
        if image.format == "PNG" and "transparency" in image.info:
            return False
        # A browser colour-manages a file's own bytes through its profile or gamma; the screen
        # rendition shows the stored values, so the colours would shift as the full picture
        # is swapped in. Such a file is decoded and re-encoded without them, like the screen's.
        if any(key in image.info for key in _COLOUR_MANAGED):
            return False
        if image.format == "JPEG" and not _ends_with_eoi(path):
            return False
        _load(image, path.name)
        return True
    finally:
        image.close()


def encode_full(image: Image.Image, *, jpeg: bool) -> tuple[bytes, str]:
    """A full-resolution picture: JPEG q95 when the file was a JPEG (its own losses already
    there), otherwise PNG, lossless, so a screenshot or a microscope image keeps every pixel."""
    buffer = io.BytesIO()
    if jpeg and image.mode in ("RGB", "L"):
        image.save(buffer, format="JPEG", quality=95)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue(), "image/png"
