"""Rendition speed against pydicom's bare decode of the same data, measured in the same run.

Run: .venv/bin/python benchmarks/bench_render.py   (synthetic data only, in a temporary folder)
Targets (issue 4): whole pipeline within 1.5x the bare decode; frame N of a 1,000-frame XA run
under 0.05x the time to decode all frames; a volume slice in any plane under 5 ms after loading.
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
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "unit" / "imaging"))
from dicom_factory import grey_dataset, write

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import dicom_frames, dicom_header
from clinlabel.imaging.nifti import display_slice, load_volume
from clinlabel.imaging.plugins import choose_plugin
from clinlabel.imaging.render import display_rendition, render_png


def median_ms(
    action: Callable[[], object], *, repeat: int = 7, setup: Callable[[], None] | None = None
) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def cold() -> None:
    """Empty our caches so every pipeline run parses and decodes again."""
    dicom_header.clear_cache()
    dicom_frames.clear_cache()


def bare(path: Path, *, index: int | None = None) -> Callable[[], object]:
    plugin = choose_plugin(
        pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
    )
    return lambda: pixel_array(path, index=index, decoding_plugin=plugin)


def main() -> None:
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        rng = np.random.default_rng(0)
        phantom = (rng.normal(1000, 300, (1, 512, 512))).clip(0, 4095).astype(np.uint16)
        for syntax, label in (
            (ExplicitVRLittleEndian, "native"),
            (RLELossless, "RLE"),
            (JPEGLSLossless, "JPEG-LS"),
        ):
            path = write(
                folder / f"ct_{label}.dcm",
                grey_dataset(phantom.copy(), signed=False, bits=12),
                syntax,
            )
            pipe = median_ms(lambda p=path: render_png(p, ImageKind.DICOM), setup=cold)
            rows.append((f"CT 512x512 {label}: render PNG", pipe, median_ms(bare(path)), "<= 1.5x"))
        cr = rng.integers(0, 4095, (1, 3000, 3000), dtype=np.uint16)
        cr_path = write(
            folder / "cr.dcm", grey_dataset(cr, signed=False, bits=12), ExplicitVRLittleEndian
        )
        pipe = median_ms(lambda: render_png(cr_path, ImageKind.DICOM), setup=cold, repeat=5)
        rows.append(
            (
                "CR 3000x3000 16-bit native: render PNG",
                pipe,
                median_ms(bare(cr_path), repeat=5),
                "<= 1.5x",
            )
        )
        pipe = median_ms(lambda: display_rendition(cr_path, ImageKind.DICOM), setup=cold, repeat=5)
        rows.append(
            (
                "CR 3000x3000: display_rendition (max_side 2048)",
                pipe,
                median_ms(bare(cr_path), repeat=5),
                "<= 1.5x",
            )
        )
        frame = (rng.normal(120, 40, (512, 512))).clip(0, 255).astype(np.uint8)
        run = np.repeat(frame[None], 1000, axis=0)
        run[:, :8, :8] = np.arange(1000)[:, None, None] % 256
        for syntax, label in ((RLELossless, "RLE"), (ExplicitVRLittleEndian, "native")):
            path = write(
                folder / f"xa_{label}.dcm", grey_dataset(run.copy(), signed=False, bits=8), syntax
            )
            all_frames = median_ms(bare(path), repeat=3)
            pipe = median_ms(lambda p=path: render_png(p, ImageKind.DICOM, frame=700), setup=cold)
            rows.append(
                (
                    f"XA 1000x512x512 {label}: frame 700 (cold) vs all frames",
                    pipe,
                    all_frames,
                    "< 0.05x",
                )
            )
            dicom_header.read_header(path)
            warm = median_ms(
                lambda p=path: render_png(
                    p, ImageKind.DICOM, frame=701 + int(time.perf_counter() * 1e6) % 200
                )
            )
            rows.append((f"XA {label}: next frame, header cached", warm, all_frames, "< 0.05x"))
        volume = rng.integers(-1000, 2000, (512, 512, 300), dtype=np.int16)
        nii = folder / "vol.nii"
        nib.save(nib.Nifti1Image(volume, np.diag([0.7, 0.7, 1.5, 1.0])), nii)
        load = median_ms(lambda: load_volume(nii), repeat=1)
        for plane in ("axial", "coronal", "sagittal"):
            count = load_volume(nii).slices(plane)
            ms = median_ms(
                lambda pl=plane, c=count: display_slice(
                    nii, index=1 + int(time.perf_counter() * 1e6) % c, plane=pl
                ),
                repeat=21,
            )
            rows.append(
                (f"NIfTI 512x512x300 {plane} slice (8-bit, square pixels)", ms, load, "< 5 ms")
            )
        photo = folder / "photo.jpg"
        Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).resize(
            (4000, 3000)
        ).save(photo, quality=90)

        def full_decode() -> None:
            with Image.open(photo) as image:
                image.load()

        rows.append(
            (
                "12 MP JPEG: display_rendition vs full Pillow decode",
                median_ms(lambda: display_rendition(photo, ImageKind.RASTER)),
                median_ms(full_decode),
                "< 1x",
            )
        )
    print("\n=== bench_render summary (median ms; ratio = pipeline / baseline) ===")
    print(f"{'case':62} {'ours':>9} {'baseline':>9} {'ratio':>7}  target")
    for name, ours, base, target in rows:
        print(f"{name:62} {ours:9.2f} {base:9.2f} {ours / base:7.3f}  {target}")


if __name__ == "__main__":
    main()
