"""Speed paths give exactly what the slow ones gave: native reads, PNG writer, renditions."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import grey_dataset, write
from PIL import Image
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import dicom_frames, rendering
from clinlabel.imaging.dicom_header import read_header
from clinlabel.imaging.png_writer import encode_png
from clinlabel.imaging.render import display_rendition, render_array, render_png
from clinlabel.imaging.rendering import GreyTransform, LutTable
from clinlabel.imaging.windowing import Window


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize(
    ("dtype", "signed", "bits"),
    [(np.uint16, False, 12), (np.int16, True, 12), (np.uint16, False, 16), (np.uint8, False, 8)],
)
def test_native_frames_read_directly_equal_pydicom(
    tmp_path: Path, syntax: str, dtype: type, signed: bool, bits: int
) -> None:
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    # Whole bit patterns, unused high bits included: 0x0FFF in 12-bit signed data must read -1,
    # and junk above bit 11 in unsigned data must be dropped, as pydicom does.
    frames = rng.integers(info.min, info.max, (3, 20, 30), dtype=dtype, endpoint=True)
    path = write(
        tmp_path / "native.dcm", grey_dataset(frames.copy(), signed=signed, bits=bits), syntax
    )
    header = read_header(path)
    assert dicom_frames._is_plain_native(header)
    for frame in (1, 2, 3):
        dicom_frames.clear_cache()
        ours = dicom_frames.decode_frame(header, frame)
        reference = pixel_array(path, index=frame - 1)
        assert ours.dtype == reference.dtype and np.array_equal(ours, reference)


@pytest.mark.parametrize("compress", [False, True])
# (1, 65534), (1, 65535) and (3, 43689) put 65,535, 65,536 and 131,070 filtered bytes in the
# stream: exactly one stored block, one byte over, exactly two blocks.
@pytest.mark.parametrize(
    "shape",
    [(1, 1), (7, 5), (64, 48, 3), (33, 17, 4), (300, 257), (1, 65534), (1, 65535), (3, 43689)],
)
def test_png_writer_round_trips_through_pillow(shape: tuple[int, ...], compress: bool) -> None:
    pixels = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(encode_png(pixels, compress=compress))) as image:
        image.load()
        samples = 1 if len(shape) == 2 else shape[2]
        assert image.mode == {1: "L", 3: "RGB", 4: "RGBA"}[samples]
        assert np.array_equal(np.asarray(image), pixels)


def test_png_writer_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4), dtype=np.uint16), compress=True)
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 2), dtype=np.uint8), compress=True)


def test_render_and_rendition_hold_the_same_pixels(tmp_path: Path) -> None:
    ramp = (np.arange(40 * 50, dtype=np.uint16).reshape(1, 40, 50) * 2).astype(np.uint16)
    path = write(
        tmp_path / "ramp.dcm", grey_dataset(ramp, signed=False, bits=12), ExplicitVRLittleEndian
    )
    shown = render_array(path, ImageKind.DICOM)
    rendition = display_rendition(path, ImageKind.DICOM)
    for data in (render_png(path, ImageKind.DICOM), rendition.data):
        with Image.open(io.BytesIO(data)) as image:
            assert np.array_equal(np.asarray(image), shown)
    # The CLI's file is compressed, the loopback rendition is not.
    assert len(render_png(path, ImageKind.DICOM)) < len(rendition.data)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("window", [Window(40, 80), Window(100, 300, "SIGMOID"), None])
def test_bits_stored_table_equals_the_full_table_where_values_can_be(
    signed: bool, window: Window | None
) -> None:
    dtype = np.dtype(np.int16 if signed else np.uint16)
    transform = GreyTransform(signed=signed, bits_stored=12, slope=1.5, intercept=-1024)
    voi = None if window else LutTable(first_mapped=-500, bits=8, data=np.linspace(0, 255, 900))
    full = rendering.display_lut(dtype, transform, window=window, voi_lut=voi)
    small = rendering.display_lut(dtype, transform, window=window, voi_lut=voi, bits=12)
    patterns = np.arange(65536)
    # Patterns a decoder can leave after dropping the unused bits: 0..4095, or -2048..2047.
    held = (patterns < 2048) | (patterns >= 65536 - 2048) if signed else patterns < 4096
    assert small.shape == full.shape and np.array_equal(small[held], full[held])
    stored = np.array([[-2048, -1, 0, 2047]] if signed else [[0, 1, 4094, 4095]], dtype=dtype)
    assert rendering.within_bits(stored, 12)
    assert not rendering.within_bits(stored * 2 if signed else stored + 4096, 12)
