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
from clinlabel.imaging import dicom_frames
from clinlabel.imaging.dicom_header import read_header
from clinlabel.imaging.png_writer import encode_png
from clinlabel.imaging.render import display_rendition, render_array, render_png


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
@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (64, 48, 3), (33, 17, 4), (300, 257)])
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
