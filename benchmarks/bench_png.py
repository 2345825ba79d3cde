"""Does the hand-written PNG writer (`imaging/png_writer.py`) earn its place? (issue 9)

It stays only if it beats the alternatives at what the page needs, measured in the same run:

- Pillow's PNG encoder (`Image.save(format="PNG")`), the baseline: no code of ours at all;
- a bare writer on the standard `zlib` module: NumPy puts a filter-type byte before each row
  (None), `zlib.compress` makes the stream, three chunks with `zlib.crc32`; the least code a
  PNG writer can be, so the one ours must beat to be worth its extra lines.

What the page needs is what the writer's callers make (`imaging/render.py`,
`imaging/dicom_display.py`):

- "rendition": the browser's copy of each image, lossless 8-bit grey or RGB sent over loopback,
  where encoding time counts and size hardly does. Ours: stored deflate blocks, and for grey
  DICOM frames `grey_png_stored`, which writes the display pixels straight into the PNG's blocks
  (here `fill` copies the rows, the least a display-table look-up does). Pillow at
  `compress_level=0`; bare zlib at level 0.
- "render file": `clinlabel render`, a PNG the user keeps, where size counts too. Ours: filter
  Up and Huffman-only deflate. Pillow at `compress_level=1` (its fastest that compresses);
  bare zlib at level 1. The sizes are printed beside the times.

Sizes: a 512 x 512 CT slice, a 3,000 px CR reduced to 1,500 px (max_side 2048) and to 1,000 px
(1024), and a 640 x 480 RGB ultrasound-like frame; smooth phantoms with noise (`bench_render`).
Every encoder's output is decoded by Pillow and checked equal to the input before timing.
Each figure is the median of the repeats, ours and the alternatives run in turn inside one loop.

    .venv/bin/python benchmarks/bench_png.py
"""

from __future__ import annotations

import io
import statistics
import struct
import time
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

from bench_render import cr_phantom, ct_phantom
from clinlabel.imaging.png_writer import encode_png, grey_png_stored

Encoder = Callable[[np.ndarray], bytes]


def pillow(level: int) -> Encoder:
    def encode(pixels: np.ndarray) -> bytes:
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="PNG", compress_level=level)
        return out.getvalue()

    return encode


def bare_zlib(level: int) -> Encoder:
    """The shortest honest PNG writer: filter None, the standard zlib, three chunks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    def encode(pixels: np.ndarray) -> bytes:
        height, width = pixels.shape[:2]
        samples = 1 if pixels.ndim == 2 else pixels.shape[2]
        rows = np.zeros((height, width * samples + 1), dtype=np.uint8)
        rows[:, 1:] = pixels.reshape(height, -1)
        colour = {1: 0, 3: 2, 4: 6}[samples]
        header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
            + chunk(b"IEND", b"")
        )

    return encode


def ours(compress: bool) -> Encoder:
    return lambda pixels: encode_png(pixels, compress=compress)


def ours_in_place(pixels: np.ndarray) -> bytes:
    """`grey_png_stored` as `dicom_display.rendition_png` uses it, `fill` copying the rows."""

    def fill(out: np.ndarray, first: int, stop: int) -> None:
        out[...] = pixels[first:stop]

    data = grey_png_stored(pixels.shape[0], pixels.shape[1], fill)
    assert data is not None
    return data


def to_8bit(stored: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = (stored.astype(np.float32) - low) * (255.0 / (high - low))
    result: np.ndarray = scaled.clip(0, 255).astype(np.uint8)
    return result


def images() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(9)
    ct = to_8bit(ct_phantom(rng), 1024 - 160, 1024 + 240)  # a soft-tissue window
    cr = cr_phantom(rng)
    cr_1500 = to_8bit(cr.reshape(1500, 2, 1500, 2).mean(axis=(1, 3)), 0, 4095)
    cr_1000 = to_8bit(cr.reshape(1000, 3, 1000, 3).mean(axis=(1, 3)), 0, 4095)
    y, x = np.mgrid[0:480, 0:640]
    base = 90 + 60 * np.sin(x / 40.0) * np.cos(y / 55.0)
    us = np.stack([base, base * 0.9 + 10, base * 0.8 + 20], axis=-1)
    us += rng.normal(0.0, 6.0, us.shape)
    return {
        "CT 512x512 grey": ct,
        "CR 1500x1500 grey": cr_1500,
        "CR 1000x1000 grey": cr_1000,
        "US 640x480 RGB": us.clip(0, 255).astype(np.uint8),
    }


def check(encoder: Encoder, pixels: np.ndarray) -> int:
    data = encoder(pixels)
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(np.asarray(image), pixels), "an encoder changed the pixels"
    return len(data)


def race(contenders: dict[str, Encoder], pixels: np.ndarray, repeat: int) -> dict[str, float]:
    """Median ms of each contender, run in turn inside one loop so they share the noise."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, encoder in contenders.items():
            started = time.perf_counter()
            encoder(pixels)
            times[name].append((time.perf_counter() - started) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    print("=== bench_png (median ms; ratio = contender / Pillow, below 1 is faster) ===")
    print(f"{'image':20} {'use':13} {'contender':24} {'ms':>8} {'ratio':>7} {'KiB':>8}")
    for name, pixels in images().items():
        grey = pixels.ndim == 2
        rendition: dict[str, Encoder] = {
            "Pillow level 0": pillow(0),
            "bare zlib level 0": bare_zlib(0),
            "ours stored": ours(False),
        }
        if grey:
            rendition["ours stored in place"] = ours_in_place
        keep: dict[str, Encoder] = {
            "Pillow level 1": pillow(1),
            "bare zlib level 1": bare_zlib(1),
            "ours Up + Huffman": ours(True),
        }
        repeat = 31 if pixels.size < 1_000_000 else 11
        for use, contenders in (("rendition", rendition), ("render file", keep)):
            sizes = {label: check(encoder, pixels) for label, encoder in contenders.items()}
            medians = race(contenders, pixels, repeat)
            base = next(iter(medians.values()))
            for label, ms in medians.items():
                print(
                    f"{name:20} {use:13} {label:24} {ms:8.2f} {ms / base:7.3f} "
                    f"{sizes[label] / 1024:8.0f}"
                )


if __name__ == "__main__":
    main()
