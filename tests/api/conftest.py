"""In-process API tests: the real core on a small Pillow-made batch, no server, no browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.web.app import create_app
from clinlabel.web.config import WebSettings
from clinlabel.web.workbench import Workbench

PORT = 8123
ORIGIN = f"http://127.0.0.1:{PORT}"
TOKEN = "test-token-0123456789"


def make_batch(root: Path, *, cases: int = 2, visits: int = 2, images: int = 3) -> Path:
    """Case_00N/Visit_M/XC_CLINICAL/imgK.jpg, each a flat colour (fast to write and decode)."""
    for c in range(1, cases + 1):
        for v in range(1, visits + 1):
            folder = root / f"Case_{c:03d}" / f"Visit_{v}" / "XC_CLINICAL"
            folder.mkdir(parents=True)
            for i in range(1, images + 1):
                colour = (40 * c % 256, 60 * v % 256, 30 * i % 256)
                Image.new("RGB", (320, 240), colour).save(folder / f"img{i}.jpg", quality=85)
    return root


def add_special_images(root: Path) -> None:
    """A rotated phone photo, a 16-bit grey PNG, a CMYK JPEG and a damaged file."""
    folder = root / "Case_900" / "Visit_1" / "CLINICAL_IMAGES"
    folder.mkdir(parents=True)
    photo = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    photo.save(folder / "a_rotated.jpg", exif=exif.tobytes())
    ramp = (np.arange(256 * 64, dtype=np.uint32).reshape(64, 256) * 4).astype(np.uint16)
    Image.fromarray(ramp).save(folder / "b_grey16.png")
    Image.new("CMYK", (120, 80), (0, 200, 200, 0)).save(folder / "c_cmyk.jpg")
    (folder / "d_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "batch")


def _client(settings: WebSettings) -> Iterator[TestClient]:
    bench = Workbench(settings)
    app = create_app(settings, workbench=bench)
    headers = {"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN}
    try:
        with TestClient(app, base_url=ORIGIN, headers=headers) as client:
            yield client
    finally:
        bench.shutdown()


@pytest.fixture
def client(batch: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A server whose session is open (as after `clinlabel label BATCH --out P --annotator A`)."""
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)


@pytest.fixture
def bare_client(batch: Path) -> Iterator[TestClient]:
    """A server still on its start page (no output folder, no annotator yet)."""
    yield from _client(WebSettings(batch=batch, token=TOKEN, port=PORT))


@pytest.fixture
def special_client(batch: Path, tmp_path: Path) -> Iterator[TestClient]:
    """Like `client`, with a rotated, a 16-bit, a CMYK and a damaged image in the batch."""
    add_special_images(batch)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    yield from _client(settings)
