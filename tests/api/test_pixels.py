"""Full-depth pixels, metadata masking and unmasking, geometry and frame labels over the API."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from clinlabel.demo.medical import write_demo_medical
from clinlabel.imaging import dicom_display, nifti
from clinlabel.imaging.pixel_payload import decode
from clinlabel.labelling.audit_trail import read_events
from clinlabel.web.config import WebSettings

from .conftest import PORT, TOKEN, _client


@pytest.fixture
def medical(batch: Path, tmp_path: Path) -> Iterator[TestClient]:
    write_demo_medical(batch / "Case_009" / "Visit_1" / "XC_CLINICAL", seed=3)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)


def _views(client: TestClient) -> dict[str, dict[str, Any]]:
    return {
        v["relpath"].rsplit("/", 1)[1]: v for v in client.get("/api/queue?start=1&count=100").json()
    }


def _decode(body: bytes) -> tuple[dict[str, Any], np.ndarray | None]:
    header, values = decode(body)
    if header.get("colour"):
        assert len(body) == 4 + struct.unpack_from("<I", body)[0] + (
            -(4 + struct.unpack_from("<I", body)[0]) % 8
        )
    return header, values


def test_dicom_frames_are_the_engines_stored_values(medical: TestClient, batch: Path) -> None:
    views = _views(medical)
    ct = views["ct_head.dcm"]
    response = medical.get(f"/api/images/{ct['id']}/pixels")
    assert response.status_code == 200
    header, values = _decode(response.content)
    grey = dicom_display.grey_frame(batch / ct["relpath"], frame=1)
    assert values is not None and values.dtype == np.int16
    np.testing.assert_array_equal(values, grey.stored)
    assert (header["rows"], header["columns"], header["frames"]) == (512, 512, 1)
    assert (header["slope"], header["intercept"]) == (1.0, -1024.0)
    assert [(w["center"], w["width"], w["explanation"]) for w in header["windows"]] == [
        (40.0, 80.0, "BRAIN"),
        (400.0, 1500.0, "BONE"),
    ]
    assert header["windows"][0]["function"] == "LINEAR"
    assert header["full_range"]["center"] == grey.full_range.center
    assert header["monochrome1"] is False
    # Validators: an unchanged frame costs a 304.
    etag = response.headers["etag"]
    assert "no-cache" in response.headers["cache-control"]  # kept, but asked about first
    again = medical.get(f"/api/images/{ct['id']}/pixels", headers={"If-None-Match": etag})
    assert again.status_code == 304

    xa = views["xa_run.dcm"]
    header, values = _decode(medical.get(f"/api/images/{xa['id']}/pixels?frame=17").content)
    np.testing.assert_array_equal(
        values, dicom_display.grey_frame(batch / xa["relpath"], frame=17).stored
    )
    assert header["frames"] == 30 and header["frame"] == 17
    assert header["frame_time_ms"] == pytest.approx(66.7)

    dx = views["IM000001"]
    header, values = _decode(medical.get(f"/api/images/{dx['id']}/pixels").content)
    assert header["monochrome1"] is True and values is not None and values.dtype == np.uint16
    assert medical.get(f"/api/images/{xa['id']}/pixels?frame=31").status_code == 422


def test_nifti_slices_in_every_plane(medical: TestClient, batch: Path) -> None:
    volume_view = _views(medical)["brain_volume.nii.gz"]
    volume = nifti.read_volume(batch / volume_view["relpath"])
    for plane, index in (("axial", 20), ("coronal", 30), ("sagittal", 40)):
        url = f"/api/images/{volume_view['id']}/pixels?frame={index}&plane={plane}"
        header, values = _decode(medical.get(url).content)
        expected, row_spacing, column_spacing = nifti.oriented_slice(
            volume, plane=plane, index=index
        )
        np.testing.assert_array_equal(values, expected)
        assert header["plane"] == plane
        assert (header["row_spacing"], header["column_spacing"]) == (row_spacing, column_spacing)
        assert header["slices"] == {"axial": 40, "coronal": 64, "sagittal": 64}
    bad = medical.get(f"/api/images/{volume_view['id']}/pixels?plane=oblique")
    assert bad.status_code == 422


def test_photos_have_no_pixels_and_paths_never_escape(medical: TestClient) -> None:
    photo = _views(medical)["img1.jpg"]  # one of the photos
    assert medical.get(f"/api/images/{photo['id']}/pixels").status_code == 422
    # Only an integer id addresses an image: paths, traversal and unknown ids go nowhere.
    for url in (
        "/api/images/../../etc/passwd/pixels",
        "/api/images/%2e%2e%2fetc%2fpasswd/pixels",
        "/api/images/ct_head.dcm/pixels",
        "/api/images/1/pixels?path=/etc/passwd&frame=0",
        "/api/images/99999/pixels",
    ):
        assert medical.get(url).status_code in (404, 422), url


def test_metadata_masked_until_unmasked_and_the_event_is_recorded(
    medical: TestClient, tmp_path: Path
) -> None:
    ct = _views(medical)["ct_head.dcm"]
    listing = medical.get(f"/api/images/{ct['id']}/metadata").json()
    rows = {a["keyword"]: a for a in listing["attributes"]}
    assert rows["PatientName"]["masked"] and rows["PatientName"]["value"] is None
    assert rows["InstitutionName"]["value"] is None
    assert rows["Modality"]["value"] == "CT" and rows["Modality"]["tag"] == "(0008,0060)"
    assert listing["masked"] >= 5
    assert "DEMO^PATIENT" not in json.dumps(listing)

    revealed = medical.post(f"/api/images/{ct['id']}/metadata/unmask", json={}).json()
    rows = {a["keyword"]: a for a in revealed["attributes"]}
    assert rows["PatientName"]["value"] == "DEMO^PATIENT" and revealed["masked"] == 0
    events = read_events(tmp_path / "project", limit=0)
    unmasked = [e for e in events if e["kind"] == "metadata_unmasked"]
    assert len(unmasked) == 1 and unmasked[0]["image"] == ct["relpath"]
    assert "PatientName" in json.dumps(unmasked[0])
    # A state change needs our Origin: a GET cannot unmask, a foreign page cannot either.
    assert medical.get(f"/api/images/{ct['id']}/metadata/unmask").status_code == 405
    foreign = medical.post(
        f"/api/images/{ct['id']}/metadata/unmask", json={}, headers={"Origin": "http://evil"}
    )
    assert foreign.status_code == 403


def test_geometry_and_frame_labels(medical: TestClient) -> None:
    xa = _views(medical)["xa_run.dcm"]
    found = medical.get(f"/api/images/{xa['id']}/metadata/geometry?frame=5").json()
    assert found["values"]["positioner_primary_angle"] == -30.0
    assert found["values"]["distance_source_to_detector"] == 1100.0
    assert found["values"]["frame_time"] == pytest.approx(66.7)
    saved = medical.put(
        f"/api/images/{xa['id']}/label", json={"label": "NA", "comment": "blur", "frame": 7}
    )
    assert saved.status_code == 200, saved.text
    image = saved.json()["image"]
    assert image["label"] is None  # the whole file is still unlabelled
    version = saved.json()["version"]  # the frame label's version (team-auth, issue 13)
    assert image["frame_labels"] == [
        {"frame": 7, "label": "NA", "comment": "blur", "version": version}
    ]
    assert _views(medical)["xa_run.dcm"]["frame_labels"][0]["frame"] == 7
    cleared = medical.delete(f"/api/images/{xa['id']}/label?frame=7").json()
    assert cleared["image"]["frame_labels"] == []


def test_colour_dicom_keeps_its_rendition(batch: Path, tmp_path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "OT", 8, 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(range(192))
    folder = batch / "Case_009" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    ds.save_as(folder / "colour.dcm", enforce_file_format=True)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    for client in _client(settings):
        colour = _views(client)["colour.dcm"]
        header, values = _decode(client.get(f"/api/images/{colour['id']}/pixels").content)
        assert header["colour"] is True and values is None
        assert client.get(f"/api/images/{colour['id']}/rendition").status_code == 200


# Six frames, each a different flat colour, so any two frames differ everywhere.
CINE_COLOURS = [
    (230, 20, 20),
    (20, 200, 40),
    (30, 60, 240),
    (240, 220, 20),
    (200, 30, 220),
    (20, 220, 220),
]


def write_colour_cine(
    path: Path, *, frame_time_ms: float = 80.0, vector: list[float] | None = None
) -> np.ndarray:
    """A synthetic ultrasound-like RGB cine (never real data); returns its frames."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

    frames = np.zeros((len(CINE_COLOURS), 48, 64, 3), dtype=np.uint8)
    for i, colour in enumerate(CINE_COLOURS):
        frames[i] = colour
        frames[i, 4:12, 4 + 8 * i : 12 + 8 * i] = 255  # a white square that moves along
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "US", 48, 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = len(CINE_COLOURS)
    if vector is None:
        ds.FrameTime = frame_time_ms
        ds.FrameIncrementPointer = 0x00181063  # Frame Time
    else:
        ds.FrameTimeVector = vector
        ds.FrameIncrementPointer = 0x00181065  # Frame Time Vector
    ds.PixelData = frames.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return frames


def test_colour_multiframe_rendition_per_frame(batch: Path, tmp_path: Path) -> None:
    import io

    from PIL import Image

    from clinlabel.domain.images import ImageKind
    from clinlabel.imaging.render import display_rendition

    path = batch / "Case_009" / "Visit_1" / "XC_CLINICAL" / "us_cine.dcm"
    frames = write_colour_cine(path)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    for client in _client(settings):
        cine = _views(client)["us_cine.dcm"]
        header, values = _decode(client.get(f"/api/images/{cine['id']}/pixels").content)
        assert header["colour"] is True and values is None
        assert header["frames"] == 6 and header["frame_time_ms"] == pytest.approx(80.0)
        assert header["frame_times_ms"] is None  # one Frame Time for all frames

        url = f"/api/images/{cine['id']}/rendition?max_side=2048"
        first = client.get(f"{url}&frame=1")
        fourth = client.get(f"{url}&frame=4")
        assert first.status_code == fourth.status_code == 200
        assert fourth.content != first.content
        assert fourth.headers["etag"] != first.headers["etag"]  # the cache keys on the frame
        wanted = display_rendition(path, ImageKind.DICOM, max_side=2048, frame=4)
        assert fourth.content == wanted.data
        assert fourth.headers["content-type"] == wanted.media_type
        shown = np.asarray(Image.open(io.BytesIO(fourth.content)).convert("RGB"))
        np.testing.assert_array_equal(shown, frames[3])
        # Asked again: the same bytes from the disk cache, and a 304 for the browser.
        again = client.get(f"{url}&frame=4", headers={"If-None-Match": fourth.headers["etag"]})
        assert again.status_code == 304
        assert client.get(f"{url}&frame=4").content == fourth.content
        missing = client.get(f"{url}&frame=7")
        assert missing.status_code == 422 and "frame 7" in missing.json()["message"]


def test_colour_cine_with_a_frame_time_vector_sends_it_whole(batch: Path, tmp_path: Path) -> None:
    """Colour frames are renditions without a header each: the intervals come with frame 1's."""
    folder = batch / "Case_009" / "Visit_1" / "XC_CLINICAL"
    write_colour_cine(folder / "us_vector.dcm", vector=[0.0, 40.0, 80.0, 120.0, 40.0, 40.0])
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    for client in _client(settings):
        cine = _views(client)["us_vector.dcm"]
        header, _ = _decode(client.get(f"/api/images/{cine['id']}/pixels").content)
        # The vector holds increments from the previous frame: frame i stays for vector[i]
        # (0-based); the last frame, with no next one, for the increment into it.
        assert header["frame_times_ms"] == [40.0, 80.0, 120.0, 40.0, 40.0, 40.0]
        assert header["frame_time_ms"] == pytest.approx(40.0)


def test_a_nifti_slice_with_nan_voxels_is_served_with_finite_windows(
    batch: Path, tmp_path: Path
) -> None:
    """NaN voxels: the page still gets the slice, with windows over the finite values (JSON has
    no NaN), and the metadata panel says how many voxels are NaN."""
    import nibabel as nib

    folder = batch / "Case_009" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    data = np.tile(np.linspace(0.0, 255.0, 64, dtype=np.float32).reshape(8, 8, 1), (1, 1, 4))
    data[0, :, :] = np.nan
    nib.save(nib.Nifti1Image(data, np.eye(4)), folder / "masked.nii.gz")  # type: ignore[no-untyped-call]
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    for client in _client(settings):
        view = _views(client)["masked.nii.gz"]
        response = client.get(f"/api/images/{view['id']}/pixels?frame=2&plane=axial")
        assert response.status_code == 200, response.text
        header, values = _decode(response.content)
        assert values is not None and np.isnan(values).sum() == 8
        low, high = float(np.nanmin(data)), float(np.nanmax(data))
        assert header["full_range"]["width"] == pytest.approx(high - low + 1)
        assert header["full_range"]["center"] == pytest.approx((low + high + 1) / 2)
        metadata = client.get(f"/api/images/{view['id']}/metadata").json()
        assert metadata["geometry"]["nan_voxels"] == 32


def test_the_page_masks_what_ps3_15_table_e1_1_lists(medical: TestClient) -> None:
    """One list for the page and `clinlabel info`: UIDs, Patient's Sex and the rest of Table
    E.1-1 are masked, and nothing else is."""
    from clinlabel.deid.confidentiality import is_identifying

    ct = _views(medical)["ct_head.dcm"]
    listing = medical.get(f"/api/images/{ct['id']}/metadata").json()
    rows = {a["keyword"]: a for a in listing["attributes"]}
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "PatientSex", "StudyTime"):
        assert rows[keyword]["masked"] and rows[keyword]["value"] is None, keyword
    for row in listing["attributes"]:
        tag = int(row["tag"][1:5] + row["tag"][6:10], 16)
        assert row["masked"] == is_identifying(tag), row


def test_no_dicom_header_is_parsed_on_the_writer_thread(
    medical: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Saves of frame labels on an XA run check the frame and keep its geometry: both read the
    header, and both must do it off the one writer thread that every save waits on."""
    import threading

    from clinlabel.imaging import dicom_header

    threads: list[str] = []
    parse = dicom_header._parse

    def watched(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return parse(*args, **kwargs)

    monkeypatch.setattr(dicom_header, "_parse", watched)
    xa = _views(medical)["xa_run.dcm"]
    saved = medical.put(
        f"/api/images/{xa['id']}/label", json={"label": "Suspicious", "frame": 9}
    ).json()
    assert saved["image"]["frame_labels"] == [
        {"frame": 9, "label": "Suspicious", "comment": "", "version": saved["version"]}
    ]
    assert threads, "the header was read for the frame check and the geometry"
    assert not [name for name in threads if name.startswith("clinlabel-writer")]
    events = [e for e in read_events(tmp_path / "project", limit=0) if e["kind"] == "label_saved"]
    data = events[-1]["data"]
    data = json.loads(data) if isinstance(data, str) else data
    assert data["geometry"]["positioner_primary_angle"] is not None
