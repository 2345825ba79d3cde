"""The `axes` of a NIfTI slice header: which plane's slices its columns and rows run through,
and which way. The page's linked crosshair relies on them, so they are checked here against the
engine's oriented slices of a volume stored in no particular order, voxel by voxel."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from clinlabel.web.config import WebSettings

from .conftest import PORT, TOKEN, _client

PLANES = ("axial", "coronal", "sagittal")


@pytest.fixture
def volume_client(tmp_path: Path) -> Iterator[TestClient]:
    batch = tmp_path / "batch"
    folder = batch / "Case_001" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    # Voxel axes (S, L, A) at 3, 0.8 and 1.6 mm: permuted and flipped against RAS. Every value
    # is distinct, so a voxel is found by its value.
    stored = np.random.default_rng(5).permutation(9 * 11 * 7).reshape(9, 11, 7).astype(np.int16)
    affine = np.zeros((4, 4))
    affine[2, 0], affine[0, 1], affine[1, 2], affine[3, 3] = 3.0, -0.8, 1.6, 1.0
    nib.Nifti1Image(stored, affine).to_filename(folder / "volume.nii.gz")
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)


def _slice(client: TestClient, image_id: int, plane: str, index: int) -> tuple[Any, np.ndarray]:
    body = client.get(f"/api/images/{image_id}/pixels?frame={index}&plane={plane}").content
    (length,) = struct.unpack_from("<I", body)
    header = json.loads(body[4 : 4 + length])
    start = 4 + length + (-(4 + length)) % 8
    values = np.frombuffer(body[start:], dtype=np.dtype(header["dtype"]).newbyteorder("<"))
    return header, values.reshape(header["rows"], header["columns"])


def _slice_at(axis: dict[str, Any], pixel: int, slices: dict[str, int]) -> int:
    return slices[axis["plane"]] - pixel if axis["reversed"] else pixel + 1


def _pixel_of(axis: dict[str, Any], index: int, slices: dict[str, int]) -> int:
    return slices[axis["plane"]] - index if axis["reversed"] else index - 1


def test_every_pixel_is_found_where_the_axes_say_on_the_other_planes(
    volume_client: TestClient,
) -> None:
    image_id = volume_client.get("/api/queue?start=1&count=1").json()[0]["id"]
    header, _ = _slice(volume_client, image_id, "axial", 1)
    slices = header["slices"]
    assert slices == {"sagittal": 11, "coronal": 7, "axial": 9}
    cache: dict[tuple[str, int], tuple[Any, np.ndarray]] = {}

    def get(plane: str, index: int) -> tuple[Any, np.ndarray]:
        if (plane, index) not in cache:
            cache[plane, index] = _slice(volume_client, image_id, plane, index)
        return cache[plane, index]

    for plane in PLANES:
        for index in (1, slices[plane] // 2 + 1, slices[plane]):
            head, values = get(plane, index)
            axes = head["axes"]
            assert {axes["columns"]["plane"], axes["rows"]["plane"], plane} == set(PLANES)
            for row in range(head["rows"]):
                for column in range(head["columns"]):
                    point = {
                        plane: index,
                        axes["columns"]["plane"]: _slice_at(axes["columns"], column, slices),
                        axes["rows"]["plane"]: _slice_at(axes["rows"], row, slices),
                    }
                    for other in PLANES:
                        if other == plane:
                            continue
                        their, found = get(other, point[other])
                        c = _pixel_of(
                            their["axes"]["columns"],
                            point[their["axes"]["columns"]["plane"]],
                            slices,
                        )
                        r = _pixel_of(
                            their["axes"]["rows"], point[their["axes"]["rows"]["plane"]], slices
                        )
                        assert found[r, c] == values[row, column], (
                            plane,
                            index,
                            row,
                            column,
                            other,
                        )
