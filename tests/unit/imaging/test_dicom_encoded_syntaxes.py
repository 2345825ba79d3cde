"""JPEG Lossless (process 14), JPEG Extended (12-bit) and HTJ2K files made here decode exactly.

The files come from `dicom_factory` (imagecodecs' libjpeg-turbo and OpenJPH encoders). Each test
first checks that the codestream is what its transfer syntax promises (ITU-T T.81 markers for
JPEG, T.800/T.814 main header for HTJ2K), so a passing decode means that syntax was decoded.
"""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
import pytest
from click.testing import CliRunner
from dicom_factory import (
    HTJ2K_SYNTAXES,
    LOSSLESS,
    LOSSY,
    grey_dataset,
    make_file,
    pattern,
    write,
)
from PIL import Image
from pydicom.encaps import generate_frames
from pydicom.uid import (
    HTJ2K,
    UID,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
)

from clinlabel.cli.app import cli
from clinlabel.errors import DecodeError
from clinlabel.imaging import plugins
from clinlabel.imaging.dicom_display import grey_frame
from clinlabel.imaging.dicom_frames import frame_pixels
from clinlabel.imaging.dicom_header import parse_header

NEW_SYNTAXES = [
    "jpeg-lossless-sv1",
    "jpeg-lossless",
    "jpeg-extended",
    "htj2k-lossless",
    "htj2k-lossless-rpcl",
    "htj2k",
]

# ---- codestream inspection ----------------------------------------------------------------------


def first_frame(path: Path) -> bytes:
    ds = pydicom.dcmread(path)
    frames = int(ds.get("NumberOfFrames", 1))
    return next(generate_frames(ds.PixelData, number_of_frames=frames))


def jpeg_segments(codestream: bytes) -> dict[int, bytes]:
    """T.81 B.1.1: SOI, then marker segments (0xFF, code, 2-byte length with itself) up to SOS."""
    assert codestream[:2] == b"\xff\xd8", "no SOI"
    segments: dict[int, bytes] = {}
    at = 2
    while True:
        assert codestream[at] == 0xFF, f"no marker at byte {at}"
        code = codestream[at + 1]
        length = int.from_bytes(codestream[at + 2 : at + 4], "big")
        segments[code] = codestream[at + 4 : at + 2 + length]
        if code == 0xDA:  # SOS: entropy-coded data follows
            return segments
        at += 2 + length


def j2k_main_header(codestream: bytes) -> dict[int, bytes]:
    """T.800 A.1-A.3: SOC, then main header marker segments up to the first SOT (0xFF90)."""
    assert codestream[:2] == b"\xff\x4f", "no SOC"
    segments: dict[int, bytes] = {}
    at = 2
    while (marker := int.from_bytes(codestream[at : at + 2], "big")) != 0xFF90:
        length = int.from_bytes(codestream[at + 2 : at + 4], "big")
        segments[marker] = codestream[at + 4 : at + 2 + length]
        at += 2 + length
    return segments


@pytest.mark.parametrize(
    ("name", "sof", "predictor"),
    [("jpeg-lossless-sv1", 0xC3, 1), ("jpeg-lossless", 0xC3, 6), ("jpeg-extended", 0xC1, None)],
)
def test_jpeg_codestreams_are_the_process_their_syntax_names(
    tmp_path: Path, name: str, sof: int, predictor: int | None
) -> None:
    path, _ = make_file(tmp_path, name)
    segments = jpeg_segments(first_frame(path))
    frame_header = segments[sof]  # SOF3: lossless Huffman; SOF1: extended sequential Huffman
    assert frame_header[0] == 12  # sample precision P
    assert not ({0xC0, 0xC1, 0xC2, 0xC3} - {sof}) & set(segments)  # one frame type only
    if predictor is not None:
        # T.81 H.2.2: in a lossless scan header Ss is the predictor and Se is 0.
        scan = segments[0xDA]
        components = scan[0]
        assert scan[1 + 2 * components] == predictor and scan[2 + 2 * components] == 0


@pytest.mark.parametrize(
    ("name", "reversible", "tlm"),
    [("htj2k-lossless", True, False), ("htj2k-lossless-rpcl", True, True), ("htj2k", False, False)],
)
def test_htj2k_codestreams_are_high_throughput(
    tmp_path: Path, name: str, reversible: bool, tlm: bool
) -> None:
    path, _ = make_file(tmp_path, name)
    header = j2k_main_header(first_frame(path))
    rsiz = int.from_bytes(header[0xFF51][:2], "big")
    assert rsiz & 0x4000 and 0xFF50 in header  # T.814: Rsiz bit 14 and a CAP segment mean HT
    cod = header[0xFF52]
    assert cod[1] == 2  # progression order RPCL (T.800 table A.16)
    assert cod[8] & 0x40  # code-block style: HT code-blocks
    assert cod[9] == (1 if reversible else 0)  # 5-3 reversible or 9-7 irreversible wavelet
    assert (0xFF55 in header) is tlm
    # SIZ (T.800 A.5.1): Rsiz, eight 4-byte sizes, Csiz, then Ssiz: 16-bit unsigned, as the
    # DICOM header says (Bits Stored 16, Pixel Representation 0).
    assert header[0xFF51][36] == 15


# ---- decoding: every bit depth, sign and predictor ----------------------------------------------


@pytest.mark.parametrize("syntax", [JPEGLosslessSV1, JPEGLossless])
@pytest.mark.parametrize("bits", [8, 12, 16])
@pytest.mark.parametrize("signed", [False, True])
def test_jpeg_lossless_decodes_exactly(
    tmp_path: Path, syntax: UID, bits: int, signed: bool
) -> None:
    pixels = pattern(frames=3, signed=signed, bits=bits)
    path = write(tmp_path / "jll.dcm", grey_dataset(pixels, signed=signed, bits=bits), syntax)
    assert parse_header(path).plugin == "gdcm"
    for frame in (1, 2, 3):
        stored = grey_frame(path, frame=frame).stored
        assert stored.dtype == pixels.dtype and np.array_equal(stored, pixels[frame - 1])


@pytest.mark.parametrize("predictor", range(1, 8))
def test_every_jpeg_lossless_predictor_decodes_exactly(tmp_path: Path, predictor: int) -> None:
    # Noise with sign changes makes every predictor (T.81 table H.1) matter on every pixel;
    # the values cover the whole 16-bit signed range, the extremes included.
    rng = np.random.default_rng(predictor)
    pixels = rng.integers(-32768, 32767, (2, 40, 36), dtype=np.int16, endpoint=True)
    pixels[0, 0, :2] = (-32768, 32767)
    ds = grey_dataset(pixels, signed=True, bits=16)
    path = write(tmp_path / "p.dcm", ds, JPEGLossless, predictor=predictor)
    scan = jpeg_segments(first_frame(path))[0xDA]
    assert scan[1 + 2 * scan[0]] == predictor
    for frame in (1, 2):
        _, stored = frame_pixels(path, frame)
        assert np.array_equal(stored, pixels[frame - 1])


@pytest.mark.parametrize("syntax", [HTJ2KLossless, HTJ2KLosslessRPCL])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("signed", [False, True])
def test_htj2k_lossless_decodes_exactly(
    tmp_path: Path, syntax: UID, bits: int, signed: bool
) -> None:
    pixels = pattern(frames=3, signed=signed, bits=bits)
    path = write(tmp_path / "ht.dcm", grey_dataset(pixels, signed=signed, bits=bits), syntax)
    assert parse_header(path).plugin == "pylibjpeg"  # pylibjpeg-openjpeg, BSD
    for frame in (1, 3):
        stored = grey_frame(path, frame=frame).stored
        assert stored.dtype == pixels.dtype and np.array_equal(stored, pixels[frame - 1])


@pytest.mark.parametrize("signed", [False, True])
def test_lossy_htj2k_keeps_the_extremes_in_range(tmp_path: Path, signed: bool) -> None:
    # The 9-7 wavelet overshoots next to the full-scale square; a decoder must clip, not wrap
    # 65,536 to 0 (imagecodecs' own HTJ2K decoder wraps there, pydicom's openjpeg clips).
    path, pixels = make_file(tmp_path, "htj2k", frames=2, signed=signed)
    for frame in (1, 2):
        stored = grey_frame(path, frame=frame).stored.astype(np.int32)
        assert np.abs(stored - pixels[frame - 1]).max() <= 2


# ---- JPEG Extended: our GDCM plugin against libjpeg-turbo ---------------------------------------


@pytest.mark.parametrize("signed", [False, True])
def test_12bit_jpeg_extended_equals_libjpeg_turbo(tmp_path: Path, signed: bool) -> None:
    """pydicom's GDCM plugin refuses 12-bit JPEG Extended; ours decodes it through GDCM. The
    reference is another 12-bit decoder (libjpeg-turbo), value for value; the two's complement
    bit pattern it returns is sign-extended for signed data (PS3.5 8.2.1).

    The DCT codes that bit pattern, so a lossy error is small modulo 4096 only: a -2048 that
    comes back one higher in the pattern is +2047. Such wraps are the encoding's, not ours, and
    so is the ringing where signed values cross zero (the pattern jumps from 4095 to 0)."""
    path, pixels = make_file(tmp_path, "jpeg-extended", frames=2, signed=signed)
    assert parse_header(path).plugin == plugins.OWN_GDCM
    ds = pydicom.dcmread(path)
    for index, encoded in enumerate(generate_frames(ds.PixelData, number_of_frames=2)):
        reference = imagecodecs.jpeg8_decode(encoded).astype(np.int32)
        if signed:
            reference = np.where(reference >= 2048, reference - 4096, reference)
        stored = grey_frame(path, frame=index + 1).stored
        assert stored.dtype == pixels.dtype
        assert np.array_equal(stored, reference)
        error = (stored.astype(np.int32) - pixels[index]) % 4096
        assert np.minimum(error, 4096 - error).max() <= (8 if signed else 4)


def test_8bit_jpeg_extended_goes_through_pydicoms_gdcm_plugin(tmp_path: Path) -> None:
    pixels = pattern(frames=2, bits=8)
    ds = grey_dataset(pixels, signed=False, bits=8)
    frames = [bytes(imagecodecs.jpeg8_encode(frame, level=95)) for frame in pixels]
    ds.PixelData = pydicom.encaps.encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGExtended12Bit
    path = tmp_path / "jpeg8.dcm"
    ds.save_as(path, enforce_file_format=True)
    for index, encoded in enumerate(frames):
        stored = grey_frame(path, frame=index + 1).stored
        assert np.array_equal(stored, imagecodecs.jpeg8_decode(encoded))


def test_a_broken_12bit_jpeg_extended_frame_is_refused_with_a_reason(tmp_path: Path) -> None:
    pixels = pattern(frames=1, bits=12)
    ds = grey_dataset(pixels, signed=False, bits=12)
    ds.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8\xff\xc1\x00\x0bnot a frame"])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGExtended12Bit
    path = tmp_path / "broken.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(DecodeError, match=r"frame 1 cannot be decoded \(JPEG Extended.*GDCM"):
        grey_frame(path)


# ---- clinlabel render: the compressed file shows exactly as its uncompressed twin ---------------


@pytest.mark.parametrize("name", [n for n in NEW_SYNTAXES if n in LOSSLESS])
def test_clinlabel_render_shows_lossless_files_as_their_uncompressed_twin(
    tmp_path: Path, name: str
) -> None:
    path, pixels = make_file(tmp_path, name, frames=2, signed=True)
    syntax = LOSSLESS[name]
    bits = 16 if syntax in HTJ2K_SYNTAXES else 12
    twin = write(
        tmp_path / "twin.dcm", grey_dataset(pixels, signed=True, bits=bits), ExplicitVRLittleEndian
    )
    runner = CliRunner()
    shown = []
    for source in (path, twin):
        out = tmp_path / f"{source.stem}.png"
        result = runner.invoke(cli, ["render", str(source), "--frame", "2", "-o", str(out)])
        assert result.exit_code == 0, result.output
        shown.append(np.asarray(Image.open(out)))
    assert shown[0].shape == (64, 48) and np.array_equal(shown[0], shown[1])
    assert shown[0].min() == 0 and shown[0].max() == 255  # a real ramp, not a blank page


@pytest.mark.parametrize("name", [n for n in NEW_SYNTAXES if n in LOSSY])
def test_clinlabel_render_shows_lossy_files(tmp_path: Path, name: str) -> None:
    path, _ = make_file(tmp_path, name, frames=2)
    out = tmp_path / "out.png"
    result = CliRunner().invoke(cli, ["render", str(path), "--frame", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    shown = np.asarray(Image.open(out))
    assert shown.shape == (64, 48) and shown.min() == 0 and shown.max() == 255


def test_every_generated_syntax_is_listed_once() -> None:
    syntaxes = [*LOSSLESS.values(), *LOSSY.values()]
    assert len(set(syntaxes)) == len(syntaxes)
    assert {JPEGLossless, JPEGLosslessSV1, JPEGExtended12Bit, HTJ2K, *HTJ2K_SYNTAXES} <= set(
        syntaxes
    )
