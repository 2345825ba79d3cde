"""Colour DICOM frames at their own size: `own_size=1` renditions are never reduced within
`OWN_SIZE_LIMIT` and reduced by the smallest integer factor beyond it; the pixels header says
the image's own size."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.imaging import rendering
from clinlabel.imaging.viewing import own_max_side
from clinlabel.web.config import OWN_SIZE_LIMIT, WebSettings

from .conftest import PORT, TOKEN, _client

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
# Long sides: 2100 (whole for 2048 already), 3000 (halved for 2048), 4096 (the limit), 5000 (over
# it; the engine's slack would send it whole if asked for max_side 4096).
OWN_COLUMNS = {"a": 2100, "b": 3000, "c": 4096, "d": 5000}


def write_rgb(path: Path, pixels: np.ndarray) -> None:
    """A single-frame RGB Secondary Capture DICOM of `pixels` (rows x columns x 3)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "XC", pixels.shape[0], pixels.shape[1]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def colour(tmp_path: Path) -> Iterator[TestClient]:
    batch = tmp_path / "batch"
    for name, columns in OWN_COLUMNS.items():
        r, c = np.mgrid[:24, :columns]
        pixels = np.stack([(r + c) % 2 * 255, c % 256, r * 10], axis=-1).astype(np.uint8)
        write_rgb(batch / FOLDER / f"{name}.dcm", pixels)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)


def test_own_max_side_pins_the_engines_reduction_factor() -> None:
    for long_side in [*range(1, 300), *range(2000, 13000, 7), 4095, 4096, 4097, 8192, 8193]:
        side = own_max_side(long_side, 3)
        factor = rendering.grey_reduction(long_side, 3, side)
        assert factor == -(-long_side // OWN_SIZE_LIMIT), long_side
        assert -(-long_side // factor) <= OWN_SIZE_LIMIT


def test_colour_renditions_at_their_own_size_up_to_the_limit(colour: TestClient) -> None:
    views = {v["file"]: v for v in colour.get("/api/queue?start=1&count=10").json()}
    sizes = {}
    for name in OWN_COLUMNS:
        image_id = views[f"XC_CLINICAL/{name}.dcm"]["id"]
        response = colour.get(f"/api/images/{image_id}/rendition?own_size=1&frame=1")
        assert response.status_code == 200, response.text
        shown = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
        sizes[name] = (shown.shape[1], shown.shape[0])
        if name != "d":  # whole: every pixel of the file, the checkerboard included
            r, c = np.mgrid[:24, : shown.shape[1]]
            assert np.array_equal(shown[:, :, 0], ((r + c) % 2 * 255).astype(np.uint8))
        screen = colour.get(f"/api/images/{image_id}/rendition?frame=1")
        assert screen.headers["etag"] != response.headers["etag"]  # cached apart
        if name == "b":  # what the page had before: the screen's 2048 px halve it
            assert Image.open(io.BytesIO(screen.content)).size == (1500, 12)
        body = colour.get(f"/api/images/{image_id}/pixels").content
        (length,) = struct.unpack_from("<I", body)
        header = json.loads(body[4 : 4 + length])
        assert header["colour"] is True
        assert (header["columns"], header["rows"]) == (OWN_COLUMNS[name], 24)
    assert sizes == {"a": (2100, 24), "b": (3000, 24), "c": (4096, 24), "d": (2500, 12)}
