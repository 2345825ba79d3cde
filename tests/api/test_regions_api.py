"""The regions API (issue 11): shapes on the image's own pixel grid, audited, owned, undoable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from clinlabel.web.config import WebSettings

from .conftest import PORT, TOKEN, _client, add_special_images

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


@pytest.fixture
def regions_client(batch: Path, tmp_path: Path) -> Iterator[TestClient]:
    add_special_images(batch)
    volume = batch / "Case_950" / "Visit_1" / "XC"
    volume.mkdir(parents=True)
    data = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    nib.save(nib.Nifti1Image(data, np.eye(4)), volume / "ct.nii.gz")
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    settings = WebSettings(
        batch=batch,
        token=TOKEN,
        port=PORT,
        project_dir=tmp_path / "project",
        annotator="alice",
        schema_path=schema,
    )
    yield from _client(settings)


def _ids(client: TestClient) -> dict[str, int]:
    views = client.get("/api/queue?start=1&count=100").json()
    return {
        v["relpath"].rsplit("/", 1)[-1] + ":" + v["relpath"].split("/")[0]: v["id"] for v in views
    }


def _box(image_id: int, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "image_id": image_id,
        "class": "Lesion",
        "tool": "box",
        "geometry": {"x": 10.5, "y": 20, "w": 30, "h": 40},
    }
    body.update(extra)
    return body


def test_draw_change_delete_and_undo_a_box(regions_client: TestClient) -> None:
    image = _ids(regions_client)["img1.jpg:Case_001"]
    listed = regions_client.get(f"/api/images/{image}/regions").json()
    assert listed == {
        "classes": [
            {"name": "Lesion", "colour": "#e4572e", "tools": ["box", "polygon", "brush", "point"]}
        ],
        "regions": [],
        "grid": {"width": 320, "height": 240, "frames": 1, "plane": None},
        "crossings": {},
    }
    saved = regions_client.put("/api/regions/a1", json=_box(image, comment="rim"))
    assert saved.status_code == 200, saved.text
    region = saved.json()
    assert region["class"] == "Lesion" and region["geometry"]["x"] == 10.5
    assert region["comment"] == "rim" and region["annotator"] == "alice"

    moved = regions_client.put(
        "/api/regions/a1", json=_box(image, geometry={"x": 0, "y": 0, "w": 320, "h": 240})
    )
    assert moved.status_code == 200, moved.text
    gone = regions_client.delete("/api/regions/a1").json()["deleted"]
    assert gone["geometry"] == {"x": 0.0, "y": 0.0, "w": 320.0, "h": 240.0}
    assert regions_client.get(f"/api/images/{image}/regions").json()["regions"] == []
    undone = regions_client.put("/api/regions/a1", json={**_box(image), **gone, "undo": True})
    assert undone.status_code == 200, undone.text
    (back,) = regions_client.get(f"/api/images/{image}/regions").json()["regions"]
    assert back["sha256"] == gone["sha256"]


def test_shapes_must_lie_on_the_image_grid(regions_client: TestClient) -> None:
    ids = _ids(regions_client)
    photo = ids["img1.jpg:Case_001"]  # 320 x 240
    outside = regions_client.put(
        "/api/regions/b1", json=_box(photo, geometry={"x": 300, "y": 0, "w": 30, "h": 10})
    )
    assert outside.status_code == 422
    assert "outside the image (0..320 x 0..240)" in outside.json()["message"]
    # A phone photo stored 400 x 200 with EXIF orientation 6 is shown 200 x 400: drawn as shown.
    rotated = ids["a_rotated.jpg:Case_900"]
    tall = _box(rotated, geometry={"x": 0, "y": 0, "w": 200, "h": 400})
    assert regions_client.put("/api/regions/b2", json=tall).status_code == 200
    wide = _box(rotated, geometry={"x": 0, "y": 0, "w": 400, "h": 200})
    assert regions_client.put("/api/regions/b3", json=wide).status_code == 422
    broken = ids["d_broken.jpg:Case_900"]
    refused = regions_client.put("/api/regions/b4", json=_box(broken))
    assert regions_client.get(f"/api/images/{broken}/regions").json()["grid"] is None
    assert refused.status_code in (415, 422)
    assert "Traceback" not in refused.text


def test_a_volume_region_names_its_plane_and_slice(regions_client: TestClient) -> None:
    volume = _ids(regions_client)["ct.nii.gz:Case_950"]  # 6 x 5 x 4 voxels
    box = {"x": 0.5, "y": 0.5, "w": 2, "h": 2}
    no_plane = regions_client.put("/api/regions/v0", json=_box(volume, frame=1, geometry=box))
    assert no_plane.status_code == 422 and "plane" in no_plane.json()["message"]
    # Axial slices are 6 x 5 (columns along x, rows along y); there are 4 of them.
    axial = _box(volume, frame=4, plane="axial", geometry={"x": 0, "y": 0, "w": 6, "h": 5})
    assert regions_client.put("/api/regions/v1", json=axial).status_code == 200
    too_far = _box(volume, frame=5, plane="axial", geometry=box)
    assert regions_client.put("/api/regions/v2", json=too_far).status_code == 422
    # Sagittal slices are 5 x 4; there are 6.
    sagittal = _box(volume, frame=6, plane="sagittal", geometry={"x": 0, "y": 0, "w": 5, "h": 4})
    assert regions_client.put("/api/regions/v3", json=sagittal).status_code == 200
    listed = regions_client.get(f"/api/images/{volume}/regions?plane=sagittal").json()
    assert listed["grid"] == {"width": 5, "height": 4, "frames": 6, "plane": "sagittal"}
    (v1, v3) = listed["regions"]
    assert (v1["plane"], v1["frame"], v3["plane"], v3["frame"]) == ("axial", 4, "sagittal", 6)
    # Seen from the sagittal plane, the axial region (a whole slice) crosses every sagittal
    # slice along one row; seen from the axial plane, the sagittal one crosses all four axial
    # slices down one column, over all five rows.
    assert set(listed["crossings"]) == {v1["uid"]}
    assert len(listed["crossings"][v1["uid"]]) == 6
    axial = regions_client.get(f"/api/images/{volume}/regions?plane=axial").json()
    lines = axial["crossings"][v3["uid"]]
    assert [line["frame"] for line in lines] == [1, 2, 3, 4]
    assert {(line["along"], tuple(map(tuple, line["runs"]))) for line in lines} == {
        ("rows", ((0, 5),))
    }
    assert len({line["at"] for line in lines}) == 1


def test_hostile_region_requests_are_refused_cleanly(regions_client: TestClient) -> None:
    image = _ids(regions_client)["img1.jpg:Case_001"]
    assert regions_client.put("/api/regions/..%2Fx", json=_box(image)).status_code in (404, 422)
    assert regions_client.put("/api/regions/" + "a" * 65, json=_box(image)).status_code == 422
    assert regions_client.put("/api/regions/c1", json=_box(424242)).status_code == 422
    lasso = regions_client.put("/api/regions/c2", json=_box(image, tool="lasso"))
    assert lasso.status_code == 422
    nan = regions_client.put(
        "/api/regions/c3",
        content=b'{"image_id": %d, "class": "Lesion", "tool": "point", '
        b'"geometry": {"x": NaN, "y": 1}}' % image,
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert regions_client.delete("/api/regions/never").json() == {"deleted": None}


@pytest.fixture
def xa_client(batch: Path, tmp_path: Path) -> Iterator[TestClient]:
    from clinlabel.demo.medical import write_demo_medical

    write_demo_medical(batch / "Case_960" / "Visit_1" / "XC", seed=5)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA + '\n[[regions]]\nname = "Vessel"\ntools = ["brush"]\n')
    settings = WebSettings(
        batch=batch,
        token=TOKEN,
        port=PORT,
        project_dir=tmp_path / "project",
        annotator="alice",
        schema_path=schema,
    )
    yield from _client(settings)


def test_the_vessel_assist_proposes_and_an_accepted_mask_records_how(
    xa_client: TestClient, tmp_path: Path
) -> None:
    import io
    import json

    from PIL import Image

    from clinlabel.domain.regions import mask_from_array
    from clinlabel.labelling.audit_trail import read_events

    ids = _ids(xa_client)
    xa, photo = ids["xa_run.dcm:Case_960"], ids["img1.jpg:Case_001"]
    answer = xa_client.get(f"/api/images/{xa}/vesselness?frame=30")
    assert answer.status_code == 200, answer.text
    vessel = np.asarray(Image.open(io.BytesIO(answer.content)))
    assert vessel.shape == (256, 256) and vessel.dtype == np.uint8
    params = json.loads(answer.headers["X-Clinlabel-Assist"])
    assert params["filter"] == "frangi" and params["frame"] == 30
    # The demo's artery runs down the middle (column 128 +- 40): the map finds it there.
    assert vessel[:, 88:170].mean() > 3 * vessel[:, :40].mean()

    refused = xa_client.get(f"/api/images/{photo}/vesselness")
    assert refused.status_code == 422 and "grey DICOM" in refused.json()["message"]

    proposal = mask_from_array(vessel > 80)
    body = {
        "image_id": xa,
        "class": "Vessel",
        "tool": "assist:frangi",
        "geometry": proposal,
        "frame": 30,
    }
    missing = xa_client.put("/api/regions/m1", json=body)
    assert missing.status_code == 422 and "records how it was made" in missing.json()["message"]
    accepted = xa_client.put(
        "/api/regions/m1", json={**body, "assist": {**params, "threshold": 80}}
    )
    assert accepted.status_code == 200, accepted.text
    event = next(
        e for e in read_events(tmp_path / "project", limit=20) if e["kind"] == "region_created"
    )
    data = json.loads(event["data"]) if isinstance(event["data"], str) else event["data"]
    assert data["assist"]["threshold"] == 80 and data["assist"]["filter"] == "frangi"
    assert data["new"]["tool"] == "assist:frangi"


def test_masks_are_interpolated_between_two_slices_of_a_volume(regions_client: TestClient) -> None:
    from clinlabel.domain.regions import mask_from_array

    volume = _ids(regions_client)["ct.nii.gz:Case_950"]  # axial slices: 6 x 5, four of them
    painted = np.zeros((5, 6), dtype=bool)
    painted[1:4, 1:5] = True
    for uid, frame in (("lo", 1), ("hi", 4)):
        body = {
            "image_id": volume,
            "class": "Lesion",
            "tool": "brush",
            "geometry": mask_from_array(painted),
            "frame": frame,
            "plane": "axial",
        }
        assert regions_client.put(f"/api/regions/{uid}", json=body).status_code == 200
    made = regions_client.post("/api/regions/interpolate", json={"first": "lo", "last": "hi"})
    assert made.status_code == 200, made.text
    assert sorted((r["frame"], r["tool"]) for r in made.json()) == [
        (2, "interpolated"),
        (3, "interpolated"),
    ]
    photo = _ids(regions_client)["img1.jpg:Case_001"]
    regions_client.put("/api/regions/p1", json=_box(photo))
    refused = regions_client.post("/api/regions/interpolate", json={"first": "lo", "last": "p1"})
    assert refused.status_code == 422 and "two of your masks" in refused.json()["message"]


def test_the_review_table_counts_each_images_regions(regions_client: TestClient) -> None:
    ids = _ids(regions_client)
    first, second = ids["img1.jpg:Case_001"], ids["img2.jpg:Case_001"]
    for uid in ("r1", "r2"):
        assert regions_client.put(f"/api/regions/{uid}", json=_box(first)).status_code == 200
    regions_client.put("/api/regions/r3", json=_box(second))
    regions_client.delete("/api/regions/r3")
    rows = regions_client.get("/api/review?offset=0&limit=5").json()["rows"]
    drawn = {row["id"]: row["regions"] for row in rows}
    assert drawn[first] == 2 and drawn[second] == 0


def test_the_review_table_filters_images_with_and_without_regions(
    regions_client: TestClient,
) -> None:
    ids = _ids(regions_client)
    first = ids["img1.jpg:Case_001"]
    regions_client.put("/api/regions/f1", json=_box(first))
    everything = regions_client.get("/api/review?limit=100").json()["total"]
    for sort in ("position", "case", "file", "label"):
        drawn = regions_client.get(f"/api/review?regions=with&sort={sort}").json()
        assert drawn["total"] == 1 and [r["id"] for r in drawn["rows"]] == [first]
        rest = regions_client.get(f"/api/review?regions=without&sort={sort}&limit=100").json()
        assert rest["total"] == everything - 1
        assert first not in [r["id"] for r in rest["rows"]]
    unlabelled = regions_client.get("/api/review?regions=with&unlabelled=true").json()
    assert unlabelled["total"] == 1
    assert regions_client.get("/api/review?regions=maybe").status_code == 422
