"""DICOM: every syntax decodes, frames are lazy, the pipeline and errors are right."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pydicom
import pytest
from dicom_factory import LOSSLESS, LOSSY, grey_dataset, make_file, write
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from clinlabel.demo.medical import write_demo_medical
from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import dicom_frames, dicom_header
from clinlabel.imaging.dicom_display import display_pixels, grey_frame
from clinlabel.imaging.dicom_header import parse_header
from clinlabel.imaging.geometry import acquisition_geometry
from clinlabel.imaging.info import describe
from clinlabel.imaging.render import display_rendition, kind_of
from clinlabel.imaging.viewing import ViewingService
from clinlabel.imaging.windowing import Window


@pytest.mark.parametrize("name", list(LOSSLESS))
@pytest.mark.parametrize("signed", [False, True])
def test_lossless_syntaxes_decode_exactly(tmp_path: Path, name: str, signed: bool) -> None:
    path, pixels = make_file(tmp_path, name, frames=3, signed=signed)
    for frame in (1, 3):
        assert np.array_equal(grey_frame(path, frame=frame).stored, pixels[frame - 1])


@pytest.mark.parametrize("name", list(LOSSY))
def test_lossy_syntaxes_decode_closely(tmp_path: Path, name: str) -> None:
    path, pixels = make_file(tmp_path, name, frames=2)
    stored = grey_frame(path, frame=2).stored.astype(np.int32)
    assert np.abs(stored - pixels[1]).max() <= 4
    rendition = display_rendition(path, ImageKind.DICOM, frame=2)
    assert rendition.media_type == "image/png" and (rendition.width, rendition.height) == (48, 64)


def test_frame_n_decodes_only_that_frame(tmp_path: Path) -> None:
    pixels = np.arange(40 * 16 * 16, dtype=np.uint16).reshape(40, 16, 16)
    path = write(tmp_path / "rle.dcm", grey_dataset(pixels, signed=False, bits=16), RLELossless)
    service = ViewingService()
    header = service.header(path)
    decoder = mock.Mock(wraps=pydicom.pixels.get_decoder(header.transfer_syntax))
    with mock.patch.object(dicom_frames, "decoder_for", return_value=decoder):
        shown = service.frame(header, 37)
        service.frame(service.header(path), 37)  # kept by the viewing service: no second decode
    assert np.array_equal(shown, pixels[36])
    assert decoder.as_array.call_count == 1
    assert decoder.as_array.call_args.kwargs["index"] == 36


def test_header_is_parsed_once_per_viewing_service(tmp_path: Path) -> None:
    # Counting `dcmread` calls once passed at 0: the parse itself is counted, and the second call
    # must hand back the header the first one parsed.
    path, _ = make_file(tmp_path, "explicit-le", frames=2)
    with mock.patch.object(dicom_header, "_parse", wraps=dicom_header._parse) as parse:
        service = ViewingService()
        first = service.header(path)
        again = service.header(path)
    assert parse.call_count == 1
    assert again is first


def test_demo_files_render_with_their_own_windows(tmp_path: Path) -> None:
    ct, xa, dx, _ = write_demo_medical(tmp_path, seed=1)
    brain = display_pixels(ct)  # file window 40/80: air black, bone white, brain mid-grey
    assert brain[5, 5] == 0 and brain[256, 256] in range(100, 160) and brain[256, 78] == 255
    bone = display_pixels(ct, preset="bone")
    assert 0 < bone[256, 256] < 255
    hu = display_pixels(ct, window=Window(-1000, 1))
    assert hu[5, 5] == 255  # -1000 HU lies right at the threshold of a width-1 window
    assert display_pixels(xa, frame=30).shape == (256, 256)
    shown = display_pixels(dx)  # MONOCHROME1: bone (low stored values) shown bright
    assert shown[192, 192] > shown[192, 100] > shown[5, 5]
    assert kind_of(dx) is ImageKind.DICOM  # no extension


def test_full_range_and_unknown_preset(tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, "explicit-le")
    shown = display_pixels(path, preset="full")
    assert shown.min() == 0 and shown.max() == 255
    with pytest.raises(DecodeError, match="unknown preset"):
        display_pixels(path, preset="kidney-stones")


def test_geometry_and_info(tmp_path: Path) -> None:
    _, xa, dx, _ = write_demo_medical(tmp_path, seed=1)
    geometry = acquisition_geometry(xa, frame=3)
    assert geometry["positioner_primary_angle"] == -30.0
    assert geometry["distance_source_to_detector"] == 1100.0
    assert geometry["frame_time"] == pytest.approx(66.7)
    info = describe(dx, ImageKind.DICOM)
    assert info.geometry["photometric_interpretation"] == "MONOCHROME1"
    assert info.geometry["transfer_syntax_uid"] == ExplicitVRLittleEndian
    names = {row.keyword: row for row in info.attributes}
    assert names["PatientName"].identifying and not names["Rows"].identifying
    assert "PixelData" not in names


def test_enhanced_per_frame_geometry() -> None:
    from pydicom.dataset import Dataset

    from clinlabel.imaging.geometry import geometry_of

    ds = Dataset()
    ds.NumberOfFrames = 2
    frames = []
    for angle in (10.0, 25.0):
        item, positioner = Dataset(), Dataset()
        positioner.PositionerPrimaryAngle = angle
        item.PositionerPositionSequence = [positioner]
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = frames
    shared, geometry = Dataset(), Dataset()
    geometry.DistanceSourceToDetector = 1200
    shared.XRayGeometrySequence = [geometry]
    ds.SharedFunctionalGroupsSequence = [shared]
    assert geometry_of(ds, frame=2)["positioner_primary_angle"] == 25.0
    assert geometry_of(ds, frame=1)["distance_source_to_detector"] == 1200.0


def test_refusals_have_reasons(tmp_path: Path) -> None:
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    text = tmp_path / "notes.dcm"
    text.write_text("hello")
    path, _ = make_file(tmp_path, "explicit-le", frames=2)
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(path.read_bytes()[:-500])
    no_pixels = tmp_path / "nopix.dcm"
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(no_pixels)
    for bad, reason in [
        (empty, "empty"),
        (text, "not a DICOM"),
        (truncated, "truncated"),
        (no_pixels, "no pixel data"),
    ]:
        with pytest.raises(DecodeError, match=reason):
            display_rendition(bad, ImageKind.DICOM)
    with pytest.raises(DecodeError, match="frame 3 does not exist"):
        display_pixels(path, frame=3)


def test_fragments_without_an_offset_table_are_indexed_once(tmp_path: Path) -> None:
    # PS3.5 A.4: the Basic Offset Table may be empty; then frame N is found by walking the
    # fragments. The header indexes them once (one fragment per frame) for every later frame.
    from pydicom.encaps import encapsulate, generate_fragmented_frames
    from pydicom.pixels.utils import get_expected_length

    frames = np.random.default_rng(5).integers(0, 4096, (4, 16, 12), dtype=np.uint16)
    dataset = grey_dataset(frames.copy(), signed=False, bits=12)
    dataset = pydicom.dcmread(write(tmp_path / "bot.dcm", dataset, RLELossless))
    encoded = [b"".join(parts) for parts in generate_fragmented_frames(dataset.PixelData)]
    assert len(encoded) == 4 and get_expected_length(dataset) == frames.nbytes
    dataset.PixelData = encapsulate(encoded, has_bot=False)
    path = tmp_path / "no_bot.dcm"
    dataset.save_as(path, enforce_file_format=True)
    header = parse_header(path)
    offsets, lengths = header.options["extended_offsets"]
    assert len(offsets) == 4 and offsets[0] == 0 and all(length > 0 for length in lengths)
    for frame in (4, 1, 3):
        assert np.array_equal(dicom_frames.decode_frame(header, frame), frames[frame - 1])
