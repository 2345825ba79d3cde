"""Speed paths give exactly what the slow ones gave: native reads, PNG writer, renditions."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import grey_dataset, write
from PIL import Image
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from clinlabel.domain.images import ImageKind
from clinlabel.imaging import dicom_frames, dicom_header, rendering
from clinlabel.imaging.dicom_header import parse_header
from clinlabel.imaging.png_writer import encode_png
from clinlabel.imaging.render import display_rendition, render_array, render_png
from clinlabel.imaging.rendering import GreyTransform, LutTable
from clinlabel.imaging.viewing import ViewingService
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
    header = parse_header(path)
    assert dicom_frames._is_plain_native(header)
    for frame in (1, 2, 3):
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


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize(("dtype", "low", "high"), [(np.uint16, 0, 4096), (np.int16, -2048, 2048)])
@pytest.mark.parametrize("shape", [(12, 24), (13, 25)])
def test_box_reduce_is_the_rounded_mean_of_each_block(
    factor: int, dtype: type, low: int, high: int, shape: tuple[int, int]
) -> None:
    stored = np.random.default_rng(5).integers(low, high, shape).astype(dtype)
    reduced = rendering.box_reduce(stored, factor, bits=12)
    rows, columns = -(-shape[0] // factor), -(-shape[1] // factor)
    assert reduced.shape == (rows, columns) and reduced.dtype == stored.dtype
    padded = np.pad(
        stored, ((0, rows * factor - shape[0]), (0, columns * factor - shape[1])), "edge"
    )
    for r in range(rows):
        for c in range(columns):
            block = padded[r * factor : (r + 1) * factor, c * factor : (c + 1) * factor]
            assert reduced[r, c] == int(np.floor(block.astype(np.float64).mean() + 0.5))


def test_box_reduce_does_not_overflow_16_bit_sums() -> None:
    stored = np.full((4, 4), 65535, dtype=np.uint16)
    assert np.array_equal(rendering.box_reduce(stored, 2), np.full((2, 2), 65535, np.uint16))


@pytest.mark.parametrize(
    ("size", "max_side", "factor"),
    [
        ((512, 512), 2048, 1),
        ((3000, 3000), 2048, 2),
        ((3000, 3000), 1024, 3),
        ((2100, 1800), 2048, 1),
        ((4000, 3000), 2048, 2),
        ((2049, 2049), 2048, 1),
        ((6000, 5000), 1024, 6),
    ],
)
def test_grey_reduction_fits_max_side_without_falling_far_short(
    size: tuple[int, int], max_side: int, factor: int
) -> None:
    assert rendering.grey_reduction(*size, max_side) == factor


@pytest.mark.parametrize("signed", [False, True])
def test_a_reduced_rendition_windows_the_mean_of_the_stored_values(
    tmp_path: Path, signed: bool
) -> None:
    dtype, low = (np.int16, -2048) if signed else (np.uint16, 0)
    stored = np.random.default_rng(9).integers(low, low + 4096, (1, 300, 330)).astype(dtype)
    stored.reshape(-1)[:4096] = np.arange(low, low + 4096)  # every value, so `full` shows all
    path = write(
        tmp_path / "big.dcm",
        grey_dataset(stored.copy(), signed=signed, bits=12),
        ExplicitVRLittleEndian,
    )
    full = render_array(path, ImageKind.DICOM)
    rendition = display_rendition(path, ImageKind.DICOM, max_side=110)
    assert (rendition.width, rendition.height) == (110, 100)
    # The display table of the full frame, applied to the 3 x 3 means of the stored values.
    table = np.zeros(4096, dtype=np.uint8)
    table[stored[0].ravel().astype(np.int64) - low] = full.ravel()
    means = rendering.box_reduce(stored[0], 3, bits=12).astype(np.int64) - low
    with Image.open(io.BytesIO(rendition.data)) as image:
        assert np.array_equal(np.asarray(image), table[means])


def test_rendition_png_is_a_valid_zlib_stream(tmp_path: Path) -> None:
    stored = np.random.default_rng(4).integers(0, 4096, (1, 700, 600)).astype(np.uint16)
    path = write(
        tmp_path / "wide.dcm", grey_dataset(stored, signed=False, bits=12), ExplicitVRLittleEndian
    )
    data = display_rendition(path, ImageKind.DICOM).data
    length = int.from_bytes(data[33:37], "big")
    assert data[37:41] == b"IDAT" and data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    raw = zlib.decompress(data[41 : 41 + length])  # checks the Adler-32
    assert zlib.crc32(data[37 : 41 + length]) == int.from_bytes(data[41 + length : 45 + length])
    lines = np.frombuffer(raw, np.uint8).reshape(700, 601)
    assert not lines[:, 0].any()
    assert np.array_equal(lines[:, 1:], render_array(path, ImageKind.DICOM))


def test_a_cold_rendition_reads_only_the_rendering_header(tmp_path: Path) -> None:

    ramp = (np.arange(40 * 50, dtype=np.uint16).reshape(1, 40, 50) * 2).astype(np.uint16)
    path = write(
        tmp_path / "ramp.dcm", grey_dataset(ramp, signed=False, bits=12), ExplicitVRLittleEndian
    )
    lean = dicom_header.parse_render_header(path)
    assert "Rows" in lean.dataset and "SOPInstanceUID" not in lean.dataset
    full = dicom_header.parse_header(path)
    assert "SOPInstanceUID" in full.dataset and full is not lean
    # Once the viewing service holds the full header, renditions use it rather than a second parse.
    service = ViewingService()
    full = service.header(path)
    assert service.render_header(path) is full


@pytest.mark.parametrize(
    ("dtype", "bits", "factor"),
    [
        (np.uint16, 12, 2),
        (np.uint16, 12, 3),
        (np.uint16, 16, 2),
        (np.int16, 12, 2),
        (np.uint8, 8, 4),
    ],
)
def test_reduce_and_look_up_equals_reducing_then_looking_up(
    dtype: type, bits: int, factor: int
) -> None:
    info = np.iinfo(dtype)
    low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if info.min < 0 else (0, 1 << bits)
    stored = np.random.default_rng(11).integers(low, high, (37, 41)).astype(dtype)
    lut = np.random.default_rng(12).integers(0, 256, 1 << (8 * info.bits // 8)).astype(np.uint8)
    expected = rendering.apply_display_lut(rendering.box_reduce(stored, factor, bits=bits), lut)
    assert np.array_equal(rendering.reduce_and_look_up(stored, lut, factor, bits=bits), expected)


_LINE_CASES = [
    # (dtype, bits, transform, window, invert)
    (np.uint16, 12, GreyTransform(False, 12, 1.0, -1024.0), Window(40, 80), False),
    (np.uint16, 12, GreyTransform(False, 12, 1.0, -1024.0), Window(-600, 1500), False),
    (np.uint16, 12, GreyTransform(False, 12, 1.0, -1024.0), Window(40, 80), True),
    (np.uint16, 12, GreyTransform(False, 12, 1.0, 0.0, monochrome1=True), Window(900, 700), False),
    (np.int16, 12, GreyTransform(True, 12, 2.5, -100.0), Window(100, 2000), False),
    (
        np.uint16,
        14,
        GreyTransform(False, 14, 0.5, 10.0),
        Window(4000.3, 3000, "LINEAR_EXACT"),
        False,
    ),
    (np.uint8, None, GreyTransform(False, 8), Window(127.5, 255.0), False),
    (np.int8, None, GreyTransform(True, 8), Window(0.3, 100, "LINEAR_EXACT"), True),
]


@pytest.mark.parametrize(("dtype", "bits", "transform", "window", "invert"), _LINE_CASES)
def test_the_display_line_gives_the_table_for_every_stored_value(
    dtype: type, bits: int | None, transform: GreyTransform, window: Window, invert: bool
) -> None:
    info = np.iinfo(dtype)
    top = bits if bits is not None else 8 * np.dtype(dtype).itemsize
    low, high = (-(1 << (top - 1)), 1 << (top - 1)) if info.min < 0 else (0, 1 << top)
    values = np.arange(low, high).astype(dtype)
    line = rendering.cached_display_affine(
        np.dtype(dtype).str, transform, window, None, invert, bits
    )
    assert line is not None, "a linear window after a rescale is a straight line"
    lut = rendering.display_lut(np.dtype(dtype), transform, window=window, invert=invert, bits=bits)
    frame = np.resize(values, (len(values) // 64 + 1, 64))
    by_line = rendering.line_rows(frame, line)
    shown = np.empty((by_line.height, by_line.width), dtype=np.uint8)
    by_line.fill(shown, 0, by_line.height)
    assert np.array_equal(shown, rendering.apply_display_lut(frame, lut))


@pytest.mark.parametrize(
    ("dtype", "bits", "window", "table", "transform"),
    [
        (np.uint16, 12, Window(40, 80, "SIGMOID"), None, GreyTransform(False, 12)),
        (np.uint16, 12, None, LutTable(0, 8, np.arange(4096.0) % 256), GreyTransform(False, 12)),
        (
            np.uint16,
            12,
            Window(40, 80),
            None,
            GreyTransform(False, 12, modality_lut=LutTable(0, 12, np.arange(4096.0))),
        ),
        (np.uint16, 12, Window(40, 1), None, GreyTransform(False, 12)),  # a threshold
        # 16-bit data whose unused high bits were not cleared: 65,536 checks cost too much.
        (np.uint16, None, Window(40, 80), None, GreyTransform(False, 16)),
    ],
)
def test_no_display_line_where_the_pipeline_is_not_one(
    dtype: type,
    bits: int | None,
    window: Window | None,
    table: LutTable | None,
    transform: GreyTransform,
) -> None:
    assert (
        rendering.cached_display_affine(np.dtype(dtype).str, transform, window, table, False, bits)
        is None
    )


def test_a_line_that_would_round_one_value_differently_is_not_used() -> None:
    # LINEAR_EXACT c=0, w=100 on int8: y = 2.55 x + 127.5, so x = 20 lands exactly on 178.5.
    # The table rounds half to even (178, as NumPy's rint); the line would round it up (179),
    # so the line is refused and the table, the reference, is used.
    transform = GreyTransform(True, 8)
    window = Window(0, 100, "LINEAR_EXACT")
    lut = rendering.display_lut(np.dtype(np.int8), transform, window=window)
    assert lut[20] == 178
    assert rendering.cached_display_affine("|i1", transform, window, None, False, None) is None


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, "rle"])
def test_a_small_file_read_whole_for_its_header_gives_the_same_frames(
    tmp_path: Path, syntax: str
) -> None:
    from pydicom.uid import RLELossless

    frames = np.random.default_rng(8).integers(0, 4096, (3, 20, 30), dtype=np.uint16)
    path = write(
        tmp_path / "small.dcm",
        grey_dataset(frames.copy(), signed=False, bits=12),
        RLELossless if syntax == "rle" else syntax,
    )
    header = dicom_header.parse_render_header(path)
    assert len(header.handover) == 1, "parsed from the whole file in memory"
    second = dicom_frames.decode_frame(header, 2)  # from the bytes already read
    assert header.handover == [], "handed over once, not kept in the header cache"
    third = dicom_frames.decode_frame(header, 3)  # from the file again
    assert np.array_equal(second, pixel_array(path, index=1))
    assert np.array_equal(third, pixel_array(path, index=2))


@pytest.mark.parametrize(
    ("dtype", "bits", "transform", "invert"),
    [
        (np.uint16, 12, GreyTransform(False, 12, intercept=-1024.0), False),
        (np.int16, 12, GreyTransform(True, 12, slope=0.5, intercept=3.0), False),
        (np.uint16, 12, GreyTransform(False, 12, monochrome1=True), False),
        (np.uint16, 10, GreyTransform(False, 10, slope=2.5), True),
        (np.uint8, None, GreyTransform(False, 8), False),
        (np.int8, None, GreyTransform(True, 8, slope=-1.0), False),
    ],
)
def test_a_full_range_frame_drawn_without_the_clip_pass_equals_the_table(
    dtype: type, bits: int | None, transform: GreyTransform, invert: bool
) -> None:
    # The full-range window is made from the frame's own least and greatest value, so its line
    # keeps them on screen and the clip pass is skipped; every pixel must still be the table's.
    rng = np.random.default_rng(7)
    top = bits if bits is not None else 8 * np.dtype(dtype).itemsize
    signed = np.iinfo(dtype).min < 0
    lowest, highest = (-(1 << (top - 1)), 1 << (top - 1)) if signed else (0, 1 << top)
    drawn = 0
    for _ in range(40):
        ends = np.sort(rng.integers(lowest, highest, 2))
        frame = rng.integers(ends[0], ends[1] + 1, (37, 53)).astype(dtype)
        span = rendering.stored_span(frame)
        window = rendering.full_range(frame, transform, span=span)
        line = rendering.cached_display_affine(
            np.dtype(dtype).str, transform, window, None, invert, bits
        )
        if line is None:  # a window that puts a value on a half uses the table
            continue
        assert line.within(*span, frame.dtype)
        lut = rendering.display_lut(
            np.dtype(dtype), transform, window=window, invert=invert, bits=bits
        )
        rows = rendering.line_rows(frame, line, span=span)
        shown = np.empty((rows.height, rows.width), dtype=np.uint8)
        rows.fill(shown, 0, rows.height)
        assert np.array_equal(shown, rendering.apply_display_lut(frame, lut))
        drawn += 1
    assert drawn >= 20, "most full-range windows take the line"


def test_a_window_narrower_than_the_frame_keeps_the_clip_pass() -> None:
    line = rendering.display_affine(GreyTransform(False, 12), Window(40, 80), None, False)
    assert line is not None
    assert not line.within(0, 4095, np.dtype(np.uint16))
    assert line.within(1, 79, np.dtype(np.uint16))
    frame = np.array([[0, 40, 4095]], dtype=np.uint16)
    rows = rendering.line_rows(frame, line, span=(0, 4095))
    shown = np.empty((1, 3), dtype=np.uint8)
    rows.fill(shown, 0, 1)
    # ((40 - 39.5) / 79 + 0.5) * 255 = 129.1 (C.11.2.1.2.1)
    assert shown.tolist() == [[0, 129, 255]]


@pytest.mark.parametrize(
    ("dtype", "signed", "bits"),
    [(np.uint16, False, 12), (np.int16, True, 12), (np.uint16, False, 16), (np.uint8, False, 8)],
)
def test_a_frame_from_the_bytes_read_for_the_header_has_its_unused_bits_cleared(
    tmp_path: Path, dtype: type, signed: bool, bits: int
) -> None:
    # Whole bit patterns, junk above Bits Stored included: the frame taken from the header's
    # bytes must hold what pydicom gives (12-bit 0x0FFF signed is -1), like a frame read anew.
    info = np.iinfo(dtype)
    frames = np.random.default_rng(9).integers(
        info.min, info.max, (2, 20, 30), dtype=dtype, endpoint=True
    )
    path = write(
        tmp_path / "native.dcm",
        grey_dataset(frames.copy(), signed=signed, bits=bits),
        ExplicitVRLittleEndian,
    )
    header = dicom_header.parse_render_header(path)
    assert len(header.handover) == 1
    first = dicom_frames.decode_frame(header, 1)
    assert header.handover == []
    reference = pixel_array(path, index=0)
    assert first.dtype == reference.dtype and np.array_equal(first, reference)
    assert first.flags.owndata, "a copy, not a view of the bytes read for the header"
