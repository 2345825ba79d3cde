"""Render every file with pixel data in pydicom's corpus and in pydicom-data: nothing crashes.

The corpus is found on disk only: pydicom's own `data/test_files` and the files of the
`pydicom-data` package (registered as a pydicom external data source through the
`pydicom.data.external_sources` entry point). `get_testdata_files` is avoided on purpose: it also
downloads the files listed online. Each file is rendered (first and last frame) in a worker
process with a timeout; the outcome is decoded, refused with a reason, crashed or hung.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

TIMEOUT_S = 30.0


def corpus() -> list[Path]:
    import pydicom.data
    from pydicom.data.data_manager import external_data_sources

    base = Path(pydicom.data.__file__).parent / "test_files"
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() != ".py")
    source = external_data_sources().get("pydicom-data")
    if source is not None:
        # dtype 0 is DataTypes.DATASET; get_paths only lists files already on disk.
        files.extend(sorted(Path(p) for p in source.get_paths("**/*", 0)))
    return [p for p in files if p.suffix.lower() in ("", ".dcm", ".dicom")]


def render_one(path_text: str) -> tuple[str, str]:
    """Runs in a worker: 'decoded', 'refused' (DecodeError), 'no-pixels' or 'crashed'."""
    from clinlabel.domain.images import ImageKind
    from clinlabel.errors import DecodeError
    from clinlabel.imaging.dicom_header import read_header
    from clinlabel.imaging.render import render_png

    path = Path(path_text)
    try:
        header = read_header(path)
        render_png(path, ImageKind.DICOM)
        if header.frames > 1:
            render_png(path, ImageKind.DICOM, frame=header.frames)
        return "decoded", header.transfer_syntax.name
    except DecodeError as exc:
        kind = (
            "no-pixels" if "no pixel data" in str(exc) or "not a DICOM" in str(exc) else "refused"
        )
        return kind, str(exc)
    except Exception:
        return "crashed", traceback.format_exc(limit=3)


def test_every_corpus_file_decodes_or_is_refused_with_a_reason() -> None:
    files = corpus()
    assert len(files) > 100, "pydicom's corpus and pydicom-data should be installed"
    outcomes: dict[Path, tuple[str, str]] = {}
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "fork")
    pool = context.Pool(processes=2)
    try:
        pending = {path: pool.apply_async(render_one, (str(path),)) for path in files}
        for path, result in pending.items():
            try:
                outcomes[path] = result.get(timeout=TIMEOUT_S)
            except multiprocessing.TimeoutError:
                outcomes[path] = ("hung", f"no answer within {TIMEOUT_S} s")
    finally:
        pool.terminate()
    counts = Counter(kind for kind, _ in outcomes.values())
    syntaxes = {detail for kind, detail in outcomes.values() if kind == "decoded"}
    print(
        f"\ncorpus: {len(files)} files, {dict(counts)}, {len(syntaxes)} transfer syntaxes decoded"
    )
    for path, (kind, detail) in sorted(outcomes.items()):
        if kind in ("refused", "crashed", "hung"):
            print(f"  {kind}: {path.name}: {detail.splitlines()[-1] if detail else ''}")
    assert counts["crashed"] == 0 and counts["hung"] == 0
    assert counts["decoded"] >= 150
    for kind, detail in outcomes.values():
        if kind == "refused":
            assert len(detail) > 20  # a sentence, not a bare exception name


def _find(name: str) -> Path:
    matches = [p for p in corpus() if p.name == name]
    if not matches:
        pytest.skip(f"{name} is not installed")
    return matches[0]


# Lossless encodings compared against the uncompressed reference, as pydicom's own tests do.
REFERENCE_PAIRS = [
    ("MR_small_RLE.dcm", "MR_small.dcm"),
    ("MR_small_jp2klossless.dcm", "MR_small.dcm"),
    ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm"),
    ("MR_small_bigendian.dcm", "MR_small.dcm"),
    ("emri_small_RLE.dcm", "emri_small.dcm"),
    ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm"),
    ("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm"),
    ("emri_small_big_endian.dcm", "emri_small.dcm"),
    ("693_J2KR.dcm", "693_UNCR.dcm"),
    ("MR2_J2KR.dcm", "MR2_UNCR.dcm"),
    ("RG1_J2KR.dcm", "RG1_UNCR.dcm"),
    ("US1_J2KR.dcm", "US1_UNCR.dcm"),
    ("SC_rgb_rle.dcm", "SC_rgb.dcm"),
    ("rtdose_rle.dcm", "rtdose.dcm"),
]


@pytest.mark.parametrize(("encoded", "reference"), REFERENCE_PAIRS)
def test_lossless_files_match_their_uncompressed_reference(encoded: str, reference: str) -> None:
    from clinlabel.imaging.dicom_frames import frame_pixels

    header, _ = frame_pixels(_find(reference), 1)
    for frame in sorted({1, header.frames}):
        _, expected = frame_pixels(_find(reference), frame)
        _, actual = frame_pixels(_find(encoded), frame)
        assert np.array_equal(np.asarray(actual, dtype=expected.dtype.newbyteorder("=")), expected)


def test_known_values_from_pydicoms_tests() -> None:
    """Spot values that pydicom's own test suite asserts for CT_small and MR_small."""
    import pydicom

    from clinlabel.imaging.dicom_frames import frame_pixels

    for name in ("CT_small.dcm", "MR_small.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm"):
        path = _find(name)
        _, ours = frame_pixels(path, 1)
        theirs = pydicom.dcmread(path).pixel_array
        assert np.array_equal(ours, theirs)
    _, ct = frame_pixels(_find("CT_small.dcm"), 1)
    assert ct.dtype == np.int16 and ct.shape == (128, 128)
    assert tuple(ct[0, :3]) == (175, 180, 166)


def test_the_rendering_header_renders_every_file_as_the_full_header_does() -> None:
    """A cold rendition reads only the rendering tags (`read_render_header`); every corpus file
    must give the same decode options and the same display pixels (or the same refusal) as with
    the full header that metadata callers parse."""
    from clinlabel.domain.images import ImageKind
    from clinlabel.errors import DecodeError
    from clinlabel.imaging import dicom_frames, dicom_header, rendering
    from clinlabel.imaging.render import render_array

    def outcome(path: Path, *, full: bool) -> tuple[str, object, object]:
        dicom_header.clear_cache()
        dicom_frames.clear_cache()
        rendering.cached_display_lut.cache_clear()
        try:
            if full:
                dicom_header.read_header(path)
            header = dicom_header.read_render_header(path)
            options = {k: v for k, v in header.options.items() if k != "extended_offsets"}
            return "shown", options, render_array(path, ImageKind.DICOM)
        except DecodeError as exc:
            return "refused", str(exc), None

    checked = 0
    for path in corpus():
        if path.stat().st_size > 8_000_000:
            continue  # the big multi-frame files are covered by the rendering test above
        lean, full = outcome(path, full=False), outcome(path, full=True)
        assert lean[0] == full[0] and lean[1] == full[1], path.name
        if lean[0] == "shown":
            assert isinstance(lean[2], np.ndarray) and isinstance(full[2], np.ndarray)
            assert np.array_equal(lean[2], full[2]), path.name
            checked += 1
    assert checked >= 140
