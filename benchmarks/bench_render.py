"""Rendition speed against pydicom's bare decode of the same data, measured in the same run.

Run: .venv/bin/python benchmarks/bench_render.py   (synthetic data only, in a temporary folder)

Targets (issue 4): whole pipeline (decode, LUTs, scale, encode) within 1.5x the bare decode; frame N
of a 1,000-frame XA run under 0.05x the time to decode all frames; a volume slice in any plane
under 5 ms after loading. Issue 3: a 12 MP photo rendition faster than a full Pillow decode.

Honesty rules:
- Baseline = `pydicom.pixels.pixel_array(path)` with the fastest installed plugin for the syntax
  (the one `plugins.choose_plugin` ranks first), on the same file, in the same run.
- Ours and the baseline alternate inside one loop (ours, baseline, ours, ...), so they share the
  machine's noise; each figure is the median of the repeats (41 pairs for the 512 CT rows,
  whose runs take under a millisecond and are moved most by a single preemption).
- "Cold" runs read through `reader.DIRECT` (no header or frame is kept) and empty the display
  table memos first: each run parses the header (checking the file's identity before and after),
  reads and decodes the frame, builds the LUT and encodes, as for a file never seen. "Cached" rows
  read through a `viewing.ViewingService`, as the server does.
- Headers: the minimal Secondary Capture header of `dicom_factory` (9 attributes) is the worst
  case for the ratio, since pydicom's bare decode of native data is mostly parsing the header.
  The "scanner header" rows carry a real CT header instead: every attribute of pydicom's own
  `CT_small.dcm` (a GE CT slice, 256 top-level attributes, private groups included, 6 KB) with
  the phantom's pixels, the header a 512 x 512 slice from a scanner has.
- Data: realistic phantoms, not noise. A CT slice is air, a body ellipse of soft tissue with lungs
  and a cortical ring, plus 12 HU of Gaussian noise (a typical CT noise level); the CR is a smooth
  chest-like radiograph with ribs and noise; the XA frames are a smooth background with dark
  vessels and noise. Random noise is the worst case for PNG and unlike any real image; one noise
  CT is still reported on its own row, so the worst case stays visible.
- "render PNG" is `clinlabel render` (a Huffman-coded PNG file the user keeps); "rendition" is
  what the browser gets (`display_rendition`: lossless PNG with stored deflate blocks, because it
  crosses a loopback socket where encoding time matters and size hardly does).
- DICOM renditions are reduced by `rendering.grey_reduction` on the stored values before the
  display table (a 3,000 px CR: 1,500 px for max_side 2048, 1,000 px for 1024; ADR 0003 gives
  the reasons); the baseline still decodes the whole frame, as a viewer must.
- The "before" column is the ratio printed by this same script against the engine as of commit
  7b5345a (`git archive 7b5345a src`, run with PYTHONPATH pointing there), recorded once on the
  same 2-core machine; see docs/adr/0003-dicom-decoding.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import pixel_array
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "unit" / "imaging"))
from dicom_factory import grey_dataset, write

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import rendering
from clinlabel.imaging.nifti import display_slice
from clinlabel.imaging.plugins import choose_plugin
from clinlabel.imaging.render import display_rendition, render_png
from clinlabel.imaging.viewing import ViewingService

# Ratios printed by this script against commit 7b5345a (see the module docstring).
BEFORE: dict[str, float] = {
    "CT 512x512 native: rendition (cold)": 14.653,
    "CT 512x512 native: render PNG (cold)": 13.693,
    "CT 512x512 RLE: rendition (cold)": 12.306,
    "CT 512x512 RLE: render PNG (cold)": 10.995,
    "CT 512x512 JPEG-LS: rendition (cold)": 1.891,
    "CT 512x512 JPEG-LS: render PNG (cold)": 2.385,
    "CT 512x512 NOISE native: rendition (cold)": 18.639,
    "CT 512x512 NOISE native: render PNG (cold)": 19.309,
    "CR 3000x3000 12-bit native: render PNG (cold)": 38.166,
    "CR 3000x3000 12-bit native: rendition, max_side 2048 (cold)": 42.237,
    "CR 3000x3000 12-bit native: rendition, max_side 1024 (cold)": 20.773,
    "XA 1000x512x512 RLE: frame 700 (cold) vs all": 0.083,
    "XA RLE: next frame, header cached": 0.026,
    "XA 1000x512x512 native: frame 700 (cold) vs all": 0.094,
    "XA native: next frame, header cached": 0.097,
    "NIfTI 512x512x300 axial slice (vs load)": 0.013,
    "NIfTI 512x512x300 coronal slice (vs load)": 0.046,
    "NIfTI 512x512x300 sagittal slice (vs load)": 0.226,
    "12 MP JPEG: rendition (max_side 2048) vs full Pillow decode": 1.948,
}

Row = tuple[str, float, float, str]


def paired_ms(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    *,
    repeat: int = 9,
    setup: Callable[[], None] | None = None,
) -> tuple[float, float]:
    """Median ms of `ours` and of `baseline`, run alternately so they share the machine's noise."""
    ours()  # warm imports and the page cache for both before timing
    baseline()
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        ours()
        mine.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        baseline()
        theirs.append((time.perf_counter() - started) * 1e3)
    return statistics.median(mine), statistics.median(theirs)


def median_ms(action: Callable[[], object], *, repeat: int = 21) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def cold() -> None:
    """Empty our caches so every pipeline run parses, decodes and builds its table again."""
    rendering.cached_display_lut.cache_clear()
    rendering.cached_display_affine.cache_clear()


def bare(path: Path, *, index: int | None = None) -> Callable[[], object]:
    syntax = UID(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    plugin = choose_plugin(syntax)
    return lambda: pixel_array(path, index=index, decoding_plugin=plugin)


def ellipse(y: np.ndarray, x: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    inside: np.ndarray = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0
    return inside


def ct_phantom(rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """Stored values (HU + 1024, 12 bits) of an axial chest-like slice with 12 HU noise."""
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    hu = np.full((size, size), -1000.0)
    body = ellipse(y, x, 0, 0, 0.7, 0.85)
    hu[body] = 40.0
    hu[body & ~ellipse(y, x, 0, 0, 0.64, 0.79)] = -100.0  # subcutaneous fat
    for cx in (-0.4, 0.4):
        hu[ellipse(y, x, 0, cx, 0.45, 0.3)] = -850.0  # lungs
    hu[ellipse(y, x, 0.35, 0, 0.08, 0.08)] = 700.0  # vertebra
    hu[ellipse(y, x, -0.05, 0.05, 0.15, 0.12)] = 45.0  # heart
    hu += rng.normal(0.0, 12.0, hu.shape)
    result: np.ndarray = (hu + 1024).clip(0, 4095).astype(np.uint16)
    return result


def cr_phantom(rng: np.random.Generator, size: int = 3000) -> np.ndarray:
    """12-bit chest radiograph-like image: smooth body, lung fields, ribs, detector noise."""
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j].astype(np.float32)
    image = 600.0 + 2200.0 * ellipse(y, x, 0.05, 0, 0.95, 0.8)
    for cx in (-0.38, 0.38):
        image -= 1200.0 * ellipse(y, x, -0.05, cx, 0.6, 0.28)
    ribs = (np.sin((y + 0.2 * x**2) * 28.0) > 0.85) & ellipse(y, x, -0.05, 0, 0.65, 0.72)
    image += 500.0 * ribs
    image += 300.0 * np.exp(-(x**2) / 0.01)  # mediastinum and spine
    image += rng.normal(0.0, 20.0, image.shape).astype(np.float32)
    result: np.ndarray = image.clip(0, 4095).astype(np.uint16)
    return result


def xa_phantom(rng: np.random.Generator, frames: int, size: int = 512) -> np.ndarray:
    """8-bit angiography-like frames: smooth background, dark vessels, noise, a frame counter."""
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    background = 170.0 - 40.0 * (x**2 + y**2)
    vessels = np.zeros_like(background)
    for phase, width in ((0.0, 0.015), (1.3, 0.01), (2.1, 0.008)):
        vessels += np.exp(-((y - 0.4 * np.sin(3 * x + phase)) ** 2) / width)
    frame = background - 90.0 * vessels.clip(0, 1) + rng.normal(0.0, 6.0, background.shape)
    run = np.repeat(frame.clip(0, 255).astype(np.uint8)[None], frames, axis=0)
    run[:, :8, :8] = (np.arange(frames) % 256)[:, None, None]  # every frame different
    return run


def photo_image(rng: np.random.Generator) -> Image.Image:
    """A 4000 x 3000 photo-like image: smooth colour regions (a small image upscaled) + noise."""
    small = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
    smooth = np.asarray(small.resize((4000, 3000), Image.Resampling.BICUBIC), dtype=np.int16)
    noisy = smooth + rng.normal(0.0, 4.0, smooth.shape).astype(np.int16)
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def scanner_ct(pixels: np.ndarray) -> Dataset:
    """The phantom's stored values under the whole header of pydicom's `CT_small.dcm`."""
    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del dataset.PixelData
    dataset.Rows, dataset.Columns = pixels.shape[1:]
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.PixelRepresentation = 0
    dataset.RescaleSlope, dataset.RescaleIntercept = 1, -1024
    dataset.PixelData = pixels.tobytes()
    dataset["PixelData"].VR = "OW"
    return dataset


def dicom_rows(folder: Path, rng: np.random.Generator) -> list[Row]:
    rows: list[Row] = []
    noise = rng.normal(1000, 300, (1, 512, 512)).clip(0, 4095).astype(np.uint16)
    minimal = "minimal"
    cases = [
        ("CT 512x512", ct_phantom(rng)[None], ExplicitVRLittleEndian, "native", minimal),
        ("CT 512x512", ct_phantom(rng)[None], RLELossless, "RLE", minimal),
        ("CT 512x512", ct_phantom(rng)[None], JPEGLSLossless, "JPEG-LS", minimal),
        ("CT 512x512 NOISE", noise, ExplicitVRLittleEndian, "native", minimal),
        ("CT 512x512 scanner header", ct_phantom(rng)[None], ExplicitVRLittleEndian, "native", ""),
        ("CT 512x512 scanner header", ct_phantom(rng)[None], RLELossless, "RLE", ""),
    ]
    for name, pixels, syntax, label, header in cases:
        dataset = (
            grey_dataset(pixels.copy(), signed=False, bits=12)
            if header == minimal
            else scanner_ct(pixels)
        )
        path = write(folder / f"{name.replace(' ', '_')}_{label}.dcm", dataset, syntax)
        # Sub-millisecond pairs: 41 of them, so one preempted run moves neither median.
        ours, base = paired_ms(
            lambda p=path: display_rendition(p, ImageKind.DICOM), bare(path), repeat=41, setup=cold
        )
        rows.append((f"{name} {label}: rendition (cold)", ours, base, "<= 1.5x"))
        ours, base = paired_ms(
            lambda p=path: render_png(p, ImageKind.DICOM), bare(path), repeat=41, setup=cold
        )
        rows.append((f"{name} {label}: render PNG (cold)", ours, base, "-"))

    cr_path = write(
        folder / "cr.dcm",
        grey_dataset(cr_phantom(rng)[None], signed=False, bits=12),
        ExplicitVRLittleEndian,
    )
    for label, action in (
        ("render PNG", lambda: render_png(cr_path, ImageKind.DICOM)),
        ("rendition, max_side 2048", lambda: display_rendition(cr_path, ImageKind.DICOM)),
        (
            "rendition, max_side 1024",
            lambda: display_rendition(cr_path, ImageKind.DICOM, max_side=1024),
        ),
    ):
        ours, base = paired_ms(action, bare(cr_path), repeat=5, setup=cold)
        target = "-" if label == "render PNG" else "<= 1.5x"
        rows.append((f"CR 3000x3000 12-bit native: {label} (cold)", ours, base, target))

    run = xa_phantom(rng, 1000)
    for syntax, label in ((RLELossless, "RLE"), (ExplicitVRLittleEndian, "native")):
        path = write(folder / f"xa_{label}.dcm", grey_dataset(run, signed=False, bits=8), syntax)
        ours, all_frames = paired_ms(
            lambda p=path: display_rendition(p, ImageKind.DICOM, frame=700),
            bare(path),
            repeat=3,
            setup=cold,
        )
        rows.append(
            (f"XA 1000x512x512 {label}: frame 700 (cold) vs all", ours, all_frames, "< 0.05x")
        )
        service = ViewingService()
        service.header(path)
        warm = median_ms(
            lambda p=path, s=service: display_rendition(
                p, ImageKind.DICOM, frame=701 + int(time.perf_counter() * 1e6) % 200, reader=s
            )
        )
        rows.append((f"XA {label}: next frame, header cached", warm, all_frames, "< 0.05x"))
    return rows


def nifti_rows(folder: Path, rng: np.random.Generator) -> list[Row]:
    rows: list[Row] = []
    volume = rng.integers(-1000, 2000, (512, 512, 300), dtype=np.int16)
    nii = folder / "vol.nii"
    nib.save(nib.Nifti1Image(volume, np.diag([0.7, 0.7, 1.5, 1.0])), nii)
    service = ViewingService()
    started = time.perf_counter()
    service.volume(nii)
    load = (time.perf_counter() - started) * 1e3
    for plane in ("axial", "coronal", "sagittal"):
        count = service.volume(nii).slices(plane)
        ms = median_ms(
            lambda pl=plane, c=count: display_slice(
                nii, index=1 + int(time.perf_counter() * 1e6) % c, plane=pl, reader=service
            )
        )
        rows.append((f"NIfTI 512x512x300 {plane} slice (vs load)", ms, load, "< 5 ms"))
    return rows


def photo_rows(folder: Path, rng: np.random.Generator) -> list[Row]:
    photo = folder / "photo.jpg"
    photo_image(rng).save(photo, quality=90)

    def full_decode() -> None:
        with Image.open(photo) as image:
            image.load()

    ours, base = paired_ms(lambda: display_rendition(photo, ImageKind.RASTER), full_decode)
    return [("12 MP JPEG: rendition (max_side 2048) vs full Pillow decode", ours, base, "< 1x")]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        rng = np.random.default_rng(0)
        rows = dicom_rows(folder, rng) + nifti_rows(folder, rng) + photo_rows(folder, rng)
    print("\n=== bench_render summary (median ms; ratio = ours / baseline) ===")
    print(f"{'case':64} {'ours':>8} {'baseline':>9} {'ratio':>7} {'before':>7}  target")
    for name, ours, base, target in rows:
        before = BEFORE.get(name)
        shown = f"{before:7.3f}" if before is not None else f"{'':7}"
        print(f"{name:64} {ours:8.2f} {base:9.2f} {ours / base:7.3f} {shown}  {target}")


if __name__ == "__main__":
    main()
