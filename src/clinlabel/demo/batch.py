"""Synthetic batches: a demo batch drawn with Pillow, and huge trees of tiny files for benchmarks.

Never real patient data. The demo batch exercises what real batches hold: varied XC/CLINICAL
folder names, names whose natural and text orders differ (`img2`, `img10`), 12 MP photos, EXIF
orientation, 16-bit grey, CMYK and palette images, a folder that is not XC (skipped), an empty
and a fake image (problems), and files to ignore (`._img1.jpg`, `Thumbs.db`).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from clinlabel.errors import OutputError

FOLDER_NAMES = ("XC_CLINICAL", "CLINICAL_IMAGES", "XC", "xc photos")
SKIPPED_FOLDER = "Dermoscopy"
EMPTY_FILE = "img_empty.jpg"
FAKE_PNG = "scan_notes.png"
LARGE_SIZE = (4000, 3000)
EXIF_ORIENTATION = 0x0112
_SKIN = ((241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172))
_LESION = ((92, 51, 23), (60, 30, 20), (150, 40, 45), (190, 90, 90), (110, 70, 60))
_SIZES = ((800, 600), (640, 480), (1024, 768))
_MEDICAL_MODULE = "clinlabel.demo.medical"
# Special images of Case 1 / Visit 1, by position in the visit: one per decoding path to exercise.
_SPECIALS = {1: "orientation6", 2: "grey16", 3: "cmyk", 4: "palette"}


def make_demo_batch(
    root: Path,
    *,
    cases: int = 4,
    visits: int = 2,
    images_per_visit: int = 5,
    large_jpegs: int = 2,
    medical: bool = True,
    seed: int = 0,
) -> Path:
    """Create a demo batch at `root` (a new or empty folder) and return `root`.

    Each visit holds `images_per_visit` photos, some of them the special cases above. On top come
    the extras: the skipped folder, the problem and ignored files, and (with `medical`) the DICOM
    and NIfTI files of `clinlabel.demo.medical` in Visit_1 of the last case. The same `seed`
    gives the same bytes.
    """
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise OutputError(f"Cannot create the demo batch in {root}: it exists and is not empty.")
    root.mkdir(parents=True, exist_ok=True)
    large = set(_large_slots(cases, visits, images_per_visit, large_jpegs))
    folders: dict[tuple[int, int], Path] = {}
    for case, visit, folder in _visit_folders(root, cases, visits):
        folders[case, visit] = folder
        folder.mkdir(parents=True)
        for index, number in enumerate(image_numbers(images_per_visit)):
            caption = f"{_case_name(case)} / Visit_{visit} / img{number}"
            rng = random.Random(f"{seed}/{case}/{visit}/{index}")
            special = _SPECIALS.get(index) if (case, visit) == (1, 1) else None
            if (case, visit, index) in large:
                special = "large"
            _write_photo(folder, f"img{number}", caption, rng, special=special, index=index)
    if folders:
        _write_extras(root, folders, visits, seed)
        if medical:
            _write_medical(folders[cases, 1], seed)
    return root


def image_numbers(count: int) -> list[int]:
    """Image numbers of a visit: 1, 2, 3, 4, 10 for five, so text order and natural order differ."""
    if 3 <= count < 10:
        return [*range(1, count), 10]
    return list(range(1, count + 1))


def _case_name(case: int) -> str:
    return f"Case_{case:03d}"


def _visit_folders(root: Path, cases: int, visits: int) -> Iterator[tuple[int, int, Path]]:
    for case in range(1, cases + 1):
        for visit in range(1, visits + 1):
            name = FOLDER_NAMES[((case - 1) * visits + visit - 1) % len(FOLDER_NAMES)]
            yield case, visit, root / _case_name(case) / f"Visit_{visit}" / name


def _large_slots(cases: int, visits: int, count: int, wanted: int) -> list[tuple[int, int, int]]:
    """Where the 12 MP photos go: first image of each visit, leaving Case 1 / Visit 1 quick."""
    slots = [
        (case, visit, index)
        for index in range(count)
        for case in range(1, cases + 1)
        for visit in range(1, visits + 1)
        if not (case == 1 and visit == 1 and index in _SPECIALS)
    ]
    slots.sort(key=lambda slot: (slot[:2] == (1, 1), slot[2]))
    return slots[: max(0, wanted)]


def _draw(size: tuple[int, int], caption: str, rng: random.Random) -> Image.Image:
    """A clinical-photo-like picture: blotchy skin, a soft-edged irregular lesion, a caption."""
    width, height = size
    skin = [max(0, min(255, c + rng.randint(-12, 12))) for c in rng.choice(_SKIN)]
    # Blotches: a tiny random image blown up smoothly (random.randbytes is seeded; Pillow's own
    # noise generator is not).
    small = Image.frombytes("L", (16, 12), rng.randbytes(16 * 12))
    shade = small.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(8))
    base = Image.new("RGB", size, tuple(skin))  # type: ignore[arg-type]
    dark = Image.new("RGB", size, tuple(int(c * 0.86) for c in skin))  # type: ignore[arg-type]
    image = Image.composite(base, dark, shade)
    mask = Image.new("L", size, 0)
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.6)
    radius = min(size) * rng.uniform(0.08, 0.22)
    ImageDraw.Draw(mask).polygon(_blob(cx, cy, radius, rng), fill=255)
    lesion = Image.new("RGB", size, rng.choice(_LESION))
    image.paste(lesion, (0, 0), mask.filter(ImageFilter.GaussianBlur(max(1, radius / 12))))
    draw = ImageDraw.Draw(image)
    core = _blob(cx, cy, radius * rng.uniform(0.3, 0.6), rng)
    red, green, blue = (int(c * 0.6) for c in rng.choice(_LESION))
    draw.polygon(core, fill=(red, green, blue))
    _draw_ruler(draw, width, height)
    font = ImageFont.load_default(size=max(12, height // 22))
    band = height // 12
    draw.rectangle((0, height - band, width, height), fill=(20, 20, 20))
    draw.text((band // 3, height - band * 0.85), caption, fill=(255, 255, 255), font=font)
    return image


def _blob(cx: float, cy: float, radius: float, rng: random.Random) -> list[tuple[float, float]]:
    points = 28
    wobble = [rng.uniform(0.75, 1.25) for _ in range(points)]
    return [
        (
            cx + radius * wobble[i] * math.cos(2 * math.pi * i / points),
            cy + radius * wobble[i] * 0.8 * math.sin(2 * math.pi * i / points),
        )
        for i in range(points)
    ]


def _draw_ruler(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    """A 10-tick scale bar in the top-left corner, as clinical photos often carry."""
    x0, y0, step = width // 30, height // 25, max(4, width // 80)
    draw.rectangle((x0, y0, x0 + step * 10, y0 + step), fill=(250, 250, 245))
    for tick in range(11):
        x = x0 + tick * step
        draw.line((x, y0, x, y0 + step // (1 if tick % 5 == 0 else 2)), fill=(0, 0, 0))


def _write_photo(
    folder: Path, stem: str, caption: str, rng: random.Random, *, special: str | None, index: int
) -> None:
    size = _SIZES[index % len(_SIZES)]
    if special == "large":
        small = _draw((400, 300), caption + " (12 MP)", rng)
        image = small.resize(LARGE_SIZE, Image.Resampling.NEAREST)
        image.save(folder / f"{stem}.jpg", "JPEG", quality=85)
        return
    image = _draw(size, caption, rng)
    if special == "orientation6":
        # Stored turned a quarter left: shows upright only if the viewer applies EXIF orientation.
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = 6
        image = image.transpose(Image.Transpose.ROTATE_90)
        image.save(folder / f"{stem}.jpg", "JPEG", quality=88, exif=exif.tobytes())
    elif special == "grey16":
        grey = image.convert("L").convert("I").point(lambda value: value * 257)
        grey.convert("I;16").save(folder / f"{stem}.png", "PNG", compress_level=1)
    elif special == "cmyk":
        image.convert("CMYK").save(folder / f"{stem}.jpg", "JPEG", quality=88)
    elif special == "palette":
        palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        palette.save(folder / f"{stem}.png", "PNG")
    elif index % 4 == 3:
        image.save(folder / f"{stem}.png", "PNG", compress_level=1)
    else:
        image.save(folder / f"{stem}.jpg", "JPEG", quality=88)


def _write_extras(root: Path, folders: dict[tuple[int, int], Path], visits: int, seed: int) -> None:
    first = folders[1, 1]
    skipped = first.parent / SKIPPED_FOLDER
    skipped.mkdir()
    for number in (1, 2):
        rng = random.Random(f"{seed}/dermoscopy/{number}")
        caption = f"{_case_name(1)} / Visit_1 / {SKIPPED_FOLDER} {number} (skipped)"
        _draw((640, 480), caption, rng).save(skipped / f"derm{number}.jpg", "JPEG", quality=85)
    # Files the scan ignores: macOS AppleDouble metadata and the Windows thumbnail cache.
    (first / "._img1.jpg").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (first / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(56))
    # Problems: an empty JPEG (always reported) and text named .png (reported by verify).
    problems = folders[1, min(2, visits)]
    (problems / EMPTY_FILE).write_bytes(b"")
    (problems / FAKE_PNG).write_text("Scan notes, not an image: the camera app saved text here.\n")


def _write_medical(folder: Path, seed: int) -> None:
    try:
        from clinlabel.demo.medical import write_demo_medical
    except ModuleNotFoundError as exc:
        if exc.name != _MEDICAL_MODULE:
            raise
        return  # written by a later version: the photos alone still make a demo
    write_demo_medical(folder, seed=seed)


VISITS_PER_CASE = 2
IMAGES_PER_CASE = 200
# A JPEG start-of-image and APP0 marker: the name and the first bytes look right; nothing decodes.
_BENCH_CONTENT = b"\xff\xd8\xff\xe0bench\n"
_BENCH_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def make_bench_tree(root: Path, *, images: int, cases: int | None = None) -> None:
    """Write `images` tiny `.jpg` files as `root/Case_001/Visit_1/XC_CLINICAL/img<n>.jpg`.

    By default one case per 200 images, two visits per case, images spread evenly. Files are
    written with `os.open`/`os.write` (no Pillow): tens of thousands a second on a local disk.
    """
    if images < 0:
        raise ValueError("images must be >= 0")
    case_count = cases if cases is not None else max(1, images // IMAGES_PER_CASE)
    per_visit, extra = divmod(images, case_count * VISITS_PER_CASE)
    width = max(3, len(str(case_count)))
    visit_index = 0
    for case in range(1, case_count + 1):
        for visit in range(1, VISITS_PER_CASE + 1):
            count = per_visit + (1 if visit_index < extra else 0)
            visit_index += 1
            folder = os.path.join(
                os.fspath(root), f"Case_{case:0{width}d}", f"Visit_{visit}", "XC_CLINICAL"
            )
            os.makedirs(folder, exist_ok=True)
            for number in range(1, count + 1):
                fd = os.open(os.path.join(folder, f"img{number}.jpg"), _BENCH_FLAGS, 0o644)
                try:
                    os.write(fd, _BENCH_CONTENT)
                finally:
                    os.close(fd)
