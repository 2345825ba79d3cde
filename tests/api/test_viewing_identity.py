"""Over HTTP, from several threads at once: every image's pixels and rendition are its own.

Reproduces the wave-1 defect (about 1 response in 100 carried another file's pixels on a batch of
200 one-frame DICOM files; the wrong rendition was then kept on disk) and guards the fix: one
viewing service per open project, every cache entry keyed by the file's identity.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.imaging.pixel_payload import decode
from clinlabel.web.config import WebSettings

from ..unit.imaging.identity_batch import bright_spot, expected_pixels, write_identity_file
from .conftest import PORT, TOKEN, _client

FILES = 200


@pytest.fixture
def identity_client(tmp_path: Path) -> Iterator[TestClient]:
    batch = tmp_path / "batch"
    for index in range(FILES):
        folder = batch / f"Case_{index // 20 + 1:03d}" / "Visit_1" / "XC"
        folder.mkdir(parents=True, exist_ok=True)
        write_identity_file(folder / f"im{index:03d}.dcm", index)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)


def _values(body: bytes) -> np.ndarray:
    _, values = decode(body)
    assert values is not None
    return values


def test_concurrent_fetches_never_show_another_files_pixels(identity_client: TestClient) -> None:
    views = identity_client.get(f"/api/queue?start=1&count={FILES}").json()
    assert len(views) == FILES
    index_of = {v["id"]: int(v["relpath"].rsplit("im", 1)[1][:3]) for v in views}
    order = [(image_id, what) for image_id in index_of for what in ("pixels", "rendition")] * 3
    random.Random(11).shuffle(order)

    def fetch(item: tuple[int, str]) -> str | None:
        image_id, what = item
        index = index_of[image_id]
        response = identity_client.get(f"/api/images/{image_id}/{what}")
        if response.status_code != 200:
            return f"{what} of file {index}: HTTP {response.status_code}"
        if what == "pixels":
            ok = np.array_equal(_values(response.content), expected_pixels(index))
        else:
            shown = np.asarray(Image.open(io.BytesIO(response.content)))
            ok = np.unravel_index(int(shown.argmax()), shown.shape) == bright_spot(index)
        return None if ok else f"{what} of file {index}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        wrong = [w for w in pool.map(fetch, order) if w is not None]
    assert wrong == []
