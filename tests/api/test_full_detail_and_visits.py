"""Full detail of photos and a case's visits, through the API."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.demo.medical import write_demo_medical
from clinlabel.web.config import WebSettings

from .conftest import PORT, TOKEN, _client


def test_size_and_full_of_a_photo(client: TestClient, batch: Path) -> None:
    first = client.get("/api/queue?start=1&count=1").json()[0]
    size = client.get(f"/api/images/{first['id']}/size")
    assert size.status_code == 200
    assert size.json() == {
        "width": 320,
        "height": 240,
        "full_width": 320,
        "full_height": 240,
        "reduction": 1,
    }
    full = client.get(f"/api/images/{first['id']}/full")
    assert full.status_code == 200
    assert full.headers["content-type"] == "image/jpeg"
    # An upright baseline JPEG is sent as its own bytes: the camera's pixels, nothing re-encoded.
    assert full.content == (batch / first["relpath"]).read_bytes()
    again = client.get(
        f"/api/images/{first['id']}/full", headers={"If-None-Match": full.headers["etag"]}
    )
    assert again.status_code == 304
    assert "no-cache" in full.headers["cache-control"]


def test_a_rotated_photo_is_sized_and_sent_upright(special_client: TestClient) -> None:
    rotated = next(
        v
        for v in special_client.get("/api/queue?start=1&count=100").json()
        if v["file"].endswith("a_rotated.jpg")
    )
    size = special_client.get(f"/api/images/{rotated['id']}/size").json()
    assert (size["width"], size["height"]) == (200, 400)  # stored 400 x 200, EXIF orientation 6
    full = special_client.get(f"/api/images/{rotated['id']}/full")
    assert full.status_code == 200
    assert Image.open(io.BytesIO(full.content)).size == (200, 400)


def test_a_damaged_photo_or_a_dicom_file_has_no_full_detail(
    special_client: TestClient, batch: Path
) -> None:
    broken = next(
        v
        for v in special_client.get("/api/queue?start=1&count=100").json()
        if v["file"].endswith("d_broken.jpg")
    )
    answer = special_client.get(f"/api/images/{broken['id']}/full")
    assert answer.status_code == 422
    assert "d_broken.jpg" in answer.json()["message"]
    assert special_client.get("/api/images/999999/size").status_code == 422


def test_a_cases_visits_in_queue_order(client: TestClient) -> None:
    views = client.get("/api/queue?start=1&count=100").json()
    case2 = next(v for v in views if v["case"] == "Case_002")
    answer = client.get(f"/api/images/{case2['id']}/visits")
    assert answer.status_code == 200
    found = answer.json()
    assert found["case"] == "Case_002"
    assert [v["visit"] for v in found["visits"]] == ["Visit_1", "Visit_2"]
    expected = [v for v in views if v["case"] == "Case_002"]
    listed = [i for v in found["visits"] for i in v["images"]]
    assert [i["id"] for i in listed] == [v["id"] for v in expected]
    assert [i["position"] for i in listed] == [v["position"] for v in expected]
    assert listed[0] == {
        "id": expected[0]["id"],
        "position": expected[0]["position"],
        "folder": "XC_CLINICAL",
        "file": "XC_CLINICAL/img1.jpg",
        "kind": "raster",
    }
    assert client.get("/api/images/999999/visits").status_code == 422


def test_dicom_has_no_photo_size_nor_full_rendition(batch: Path, tmp_path: Path) -> None:
    write_demo_medical(batch / "Case_003" / "Visit_1" / "XC_CLINICAL", seed=3)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    for client in _client(settings):
        ct = next(
            v
            for v in client.get("/api/queue?start=1&count=100").json()
            if v["file"].endswith("ct_head.dcm")
        )
        for route in ("size", "full"):
            answer = client.get(f"/api/images/{ct['id']}/{route}")
            assert answer.status_code == 422
            assert "not a photo" in answer.json()["message"]


def test_a_photo_sent_at_full_detail_never_holds_up_other_requests(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cached original is read while the server answers other requests: a slow disk (held
    # here) under a large photo must not stop a label save or the next image.
    first = client.get("/api/queue?start=1&count=1").json()[0]
    reading, release = threading.Event(), threading.Event()
    original = Path.read_bytes

    def slow_read(self: Path) -> bytes:
        if "renditions" in self.parts:
            reading.set()
            release.wait(10)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", slow_read)
    order: list[str] = []

    def fetch_full() -> None:
        assert client.get(f"/api/images/{first['id']}/full").status_code == 200
        order.append("full")

    worker = threading.Thread(target=fetch_full)
    worker.start()
    try:
        assert reading.wait(20)
        assert client.get("/api/session").status_code == 200
        order.append("session")
    finally:
        release.set()
        worker.join(30)
    assert order == ["session", "full"]
