"""The page's "Finish and export" with region formats (issue 12): it offers only what the
project's schema and images make sensible, writes the ticked formats where the CLI would (inside
the chosen output folder), records each with every file's SHA-256, and says what it wrote."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pycocotools.coco import COCO

from clinlabel.demo.medical import write_demo_medical
from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.web.config import WebSettings

from .conftest import PORT, TOKEN, _client, make_batch

SCHEMA = """
[[labels]]
name = "Suspicious"
key = "1"
[[labels]]
name = "NA"
key = "3"
requires_comment = true

[[regions]]
name = "Lesion"
colour = "#e4572e"
"""


def _settings(batch: Path, root: Path, *, schema: bool) -> WebSettings:
    path = None
    if schema:
        path = root / "schema.toml"
        path.write_text(SCHEMA)
    return WebSettings(
        batch=batch,
        token=TOKEN,
        port=PORT,
        project_dir=root / "project",
        annotator="alice",
        schema_path=path,
    )


@pytest.fixture
def photo_regions(tmp_path: Path) -> Iterator[TestClient]:
    batch = make_batch(tmp_path / "batch", cases=1, visits=1, images=2)
    yield from _client(_settings(batch, tmp_path, schema=True))


@pytest.fixture
def medical_regions(tmp_path: Path) -> Iterator[TestClient]:
    root = tmp_path / "medical"
    write_demo_medical(root / "batch" / "Case_1" / "Visit_1" / "XC", seed=1)
    yield from _client(_settings(root / "batch", root, schema=True))


@pytest.fixture
def photos_only(tmp_path: Path) -> Iterator[TestClient]:
    root = tmp_path / "plain"
    batch = make_batch(root / "batch", cases=1, visits=1, images=2)
    yield from _client(_settings(batch, root, schema=False))


def _names(client: TestClient) -> list[str]:
    answer = client.get("/api/outputs/formats")
    assert answer.status_code == 200, answer.text
    return [f["name"] for f in answer.json()]


def test_offers_what_the_schema_and_images_make_sensible(
    photo_regions: TestClient, medical_regions: TestClient, photos_only: TestClient
) -> None:
    # Without region classes: nothing but the labels CSV.
    assert _names(photos_only) == []
    # Photos: no NIfTI (no volume), no DICOM SEG (no DICOM source).
    assert _names(photo_regions) == ["coco", "png", "labelme"]
    # DICOM files and a volume: every format.
    assert _names(medical_regions) == ["coco", "png", "nifti", "labelme", "dicom-seg"]


def test_finish_writes_the_ticked_format_records_it_and_says_so(
    photo_regions: TestClient, tmp_path: Path
) -> None:
    client = photo_regions
    (first, second) = client.get("/api/queue?start=1&count=10").json()
    assert client.put(f"/api/images/{first['id']}/label", json={"label": "Suspicious"}).is_success
    box = {"x": 10, "y": 20, "w": 30, "h": 40}
    polygon = {"points": [[50, 50], [90, 50], [70, 90]]}
    for uid, image, tool, geometry in [
        ("r-box", first, "box", box),
        ("r-poly", second, "polygon", polygon),
    ]:
        body = {"image_id": image["id"], "class": "Lesion", "tool": tool, "geometry": geometry}
        answer = client.put(f"/api/regions/{uid}", json=body)
        assert answer.status_code == 200, answer.text
    (offered,) = [f for f in client.get("/api/outputs/formats").json() if f["name"] == "coco"]
    folder = (tmp_path / "project" / "exports" / "coco").resolve()
    assert offered["folder"] == str(folder)

    answer = client.post("/api/outputs/final", json={"formats": ["coco"]})
    assert answer.status_code == 200, answer.text
    final = answer.json()
    assert final["region_exports"] == [
        {
            "name": "coco",
            "title": "COCO",
            "folder": str(folder),
            "files": 1,
            "regions": 2,
            "left_out": 0,
        }
    ]
    coco = COCO(str(folder / "instances.json"))
    assert len(coco.getAnnIds()) == 2 and len(coco.getImgIds()) == 2
    # The labels CSV and the report are written as always, the final event last.
    assert Path(final["csv"]).is_file() and Path(final["report"]).is_file()
    trail = read_events(tmp_path / "project", limit=0)
    events = [(e["kind"], json.loads(e["data"])) for e in trail]
    assert events[-1][0] == "export_written" and events[-1][1]["final"]  # the final event last
    (recorded,) = [data for _, data in events if data.get("output") == "regions_coco"]
    digest = hashlib.sha256((folder / "instances.json").read_bytes()).hexdigest()
    assert recorded["files"] == {"instances.json": digest}
    assert recorded["regions"] == 2
    assert verify_project(tmp_path / "project").ok


def test_finish_without_formats_writes_no_region_export(
    photo_regions: TestClient, tmp_path: Path
) -> None:
    answer = photo_regions.post("/api/outputs/final")
    assert answer.status_code == 200, answer.text
    assert answer.json()["region_exports"] == []
    assert not (tmp_path / "project" / "exports").exists()


def test_a_format_the_project_does_not_offer_is_refused_and_nothing_is_written(
    photo_regions: TestClient, photos_only: TestClient, tmp_path: Path
) -> None:
    for client in (photo_regions, photos_only):
        for asked in (["nifti"], ["coco", "../../etc"], ["dicom-seg"]):
            answer = client.post("/api/outputs/final", json={"formats": asked})
            assert answer.status_code == 422, answer.text
            assert "not an export this project offers" in answer.json()["message"]
    for root in (tmp_path, tmp_path / "plain"):
        assert not (root / "project" / "clinical_labels.csv").exists()
        assert not (root / "project" / "exports").exists()
    # The session is still open: nothing was finished.
    assert photo_regions.post("/api/outputs/final", json={"formats": ["png"]}).is_success


def test_a_region_that_cannot_be_exported_stops_the_finish_before_any_file_is_written(
    photo_regions: TestClient, tmp_path: Path
) -> None:
    client = photo_regions
    (_first, second) = client.get("/api/queue?start=1&count=10").json()
    body = {
        "image_id": second["id"],
        "class": "Lesion",
        "tool": "box",
        "geometry": {"x": 200, "y": 150, "w": 100, "h": 80},
    }
    assert client.put("/api/regions/r-late", json=body).status_code == 200
    # The photo is replaced by a smaller one after the region was drawn on it.
    Image.new("RGB", (64, 48), (1, 2, 3)).save(tmp_path / "batch" / second["relpath"])
    answer = client.post("/api/outputs/final", json={"formats": ["png", "coco"]})
    assert answer.status_code == 422, answer.text
    assert "was replaced after its regions were drawn" in answer.json()["message"]
    project = tmp_path / "project"
    assert not (project / "clinical_labels.csv").exists()
    assert not (project / "exports").exists()
    kinds = [e["kind"] for e in read_events(project, limit=0)]
    assert "export_written" not in kinds
