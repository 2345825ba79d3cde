"""labelme JSON both ways (issue 12): the export follows labelme's file format (checked here
against its documented rules: labelme itself is GPL and needs Qt, so it is not installed), the
import takes it back all or nothing, and export -> import -> export gives the same bytes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from clinlabel.audit.log import verify_store
from clinlabel.domain.regions import mask_from_array
from clinlabel.errors import ImportFileError
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.labelme_import import import_labelme
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.region_exports import export_regions

from .region_project import DICOM, PHOTO, SCHEMA, VOLUME, Drawer, make_region_batch

SHAPE_KEYS = {"label", "points", "group_id", "description", "shape_type", "flags", "mask"}
FILE_KEYS = {"version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth"}


def _init(tmp_path: Path, name: str, batch: Path, database_url: str | None = None) -> Path:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / name, schema_path=schema, database_url=database_url)
    return tmp_path / name


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_region_batch(tmp_path / "Batch")


@pytest.fixture
def project(tmp_path: Path, batch: Path, database_url: str | None) -> Iterator[Project]:
    with open_project(_init(tmp_path, "project", batch, database_url)) as opened:
        yield opened


MASK = np.zeros((30, 40), dtype=bool)
MASK[10:16, 20:27] = True
MASK[12, 19] = True
FRAME_MASK = np.zeros((32, 24), dtype=bool)
FRAME_MASK[3:9, 4:7] = True


def _draw(project: Project) -> None:
    drawer = Drawer(project)
    drawer.draw(PHOTO, "Lesion", "box", {"x": 1.5, "y": 2, "w": 6, "h": 4.25})
    drawer.draw(PHOTO, "Vessel", "polygon", {"points": [[2, 3], [15.5, 4], [12, 14.25]]})
    drawer.draw(PHOTO, "Vessel", "brush", mask_from_array(MASK))
    drawer.draw(PHOTO, "Lesion", "point", {"x": 35.5, "y": 3.2})
    drawer.draw(DICOM, "Lesion", "brush", mask_from_array(FRAME_MASK), frame=2)
    drawer.draw(DICOM, "Vessel", "polygon", {"points": [[1, 1], [8, 1], [8, 6]]}, frame=3)
    drawer.draw(VOLUME, "Lesion", "box", {"x": 1, "y": 1, "w": 2, "h": 2}, frame=2, plane="axial")
    drawer.close()


def _check_labelme_shape(shape: dict[str, Any]) -> None:
    """labelme's rules for a shape (labelme/_label_file.py, `_load_shape_json_obj`)."""
    assert set(shape) == SHAPE_KEYS
    assert isinstance(shape["label"], str)
    assert shape["points"] and all(len(p) == 2 for p in shape["points"])
    assert shape["shape_type"] in {"rectangle", "polygon", "point", "mask"}
    assert shape["group_id"] is None and shape["flags"] == {}
    assert isinstance(shape["description"], str)
    if shape["shape_type"] == "mask":
        assert isinstance(shape["mask"], str)
    else:
        assert shape["mask"] is None


def _b64_png(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text)))).astype(bool)


def test_labelme_export_follows_labelmes_format(project: Project, tmp_path: Path) -> None:
    _draw(project)
    result = export_regions(project, "labelme", out=tmp_path / "lm", actor="t")
    assert result.left_out == 1  # the box on a volume slice: labelme has no slices
    photo_json = tmp_path / "lm" / "Case_A/Visit_1/XC/photo.json"
    document = json.loads(photo_json.read_text())
    assert set(document) == FILE_KEYS
    assert document["imageData"] is None
    assert (document["imageWidth"], document["imageHeight"]) == (40, 30)
    # imagePath leads from the file back to the image in the batch, as labelme opens it.
    assert (photo_json.parent / document["imagePath"]).resolve() == (project.batch / PHOTO)
    for shape in document["shapes"]:
        _check_labelme_shape(shape)
    box, polygon, mask, point = document["shapes"]
    assert box["shape_type"] == "rectangle" and box["points"] == [[1.5, 2], [7.5, 6.25]]
    assert polygon["points"] == [[2, 3], [15.5, 4], [12, 14.25]]
    assert point["points"] == [[35.5, 3.2]]
    # labelme's mask: the first and last painted pixel, and the PNG of what lies between.
    (x1, y1), (x2, y2) = mask["points"]
    assert (x1, y1, x2, y2) == (19, 10, 26, 15)
    placed = np.zeros((30, 40), dtype=bool)
    placed[y1 : y2 + 1, x1 : x2 + 1] = _b64_png(mask["mask"])
    assert np.array_equal(placed, MASK)


def test_multi_frame_dicom_uses_medical_labelmes_per_frame_form(
    project: Project, tmp_path: Path
) -> None:
    _draw(project)
    export_regions(project, "labelme", out=tmp_path / "lm", actor="t")
    document = json.loads((tmp_path / "lm" / "Case_B/Visit_1/XC/run.json").read_text())
    assert set(document) == {"version", "flags", "image_path", "total_frames", "frames"}
    assert document["total_frames"] == 3
    assert [f["frame"] for f in document["frames"]] == [1, 2]  # counted from 0
    first = document["frames"][0]
    assert (first["width"], first["height"]) == (24, 32)
    (shape,) = first["shapes"]
    _check_labelme_shape(shape)
    (x1, y1), (x2, y2) = shape["points"]
    placed = np.zeros((32, 24), dtype=bool)
    placed[y1 : y2 + 1, x1 : x2 + 1] = _b64_png(shape["mask"])
    assert np.array_equal(placed, FRAME_MASK)


def test_export_import_export_gives_the_same_bytes(
    project: Project, tmp_path: Path, batch: Path
) -> None:
    _draw(project)
    first = export_regions(project, "labelme", out=tmp_path / "one", actor="t")
    with open_project(_init(tmp_path, "fresh", batch)) as fresh:
        report = import_labelme(fresh, tmp_path / "one", annotator="Dr B")
        assert (report.files, report.regions) == (2, 6)
        second = export_regions(fresh, "labelme", out=tmp_path / "two", actor="t")
        events = read_events(fresh.dir, limit=0)
        # The imported regions and both events verify like drawn ones.
        assert verify_store(fresh.store).ok
    assert [p.relative_to(tmp_path / "one") for p in first.files] == [
        p.relative_to(tmp_path / "two") for p in second.files
    ]
    assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in second.files]
    created = [e for e in events if e["kind"] == "region_created"]
    assert len(created) == 6
    data = [json.loads(e["data"]) if isinstance(e["data"], str) else e["data"] for e in created]
    assert all(d["imported"]["format"] == "labelme" for d in data)
    assert {d["imported"]["file"] for d in data} == {
        "Case_A/Visit_1/XC/photo.json",
        "Case_B/Visit_1/XC/run.json",
    }
    assert [e["kind"] for e in events][-2] == "labels_imported"


def test_importing_the_same_files_again_changes_nothing(
    project: Project, tmp_path: Path, batch: Path
) -> None:
    _draw(project)
    export_regions(project, "labelme", out=tmp_path / "lm", actor="t")
    with open_project(_init(tmp_path, "fresh", batch)) as fresh:
        import_labelme(fresh, tmp_path / "lm", annotator="Dr B")
        before = len(read_events(fresh.dir, limit=0))
        import_labelme(fresh, tmp_path / "lm", annotator="Dr B")
        after = read_events(fresh.dir, limit=0)
    # Only the import's own summary event: every region was already the same.
    assert len(after) == before + 1 and after[-1]["kind"] == "labels_imported"


def _labelme_file(folder: Path, shapes: list[dict[str, Any]], **extra: Any) -> Path:
    path = folder / "Case_A/Visit_1/XC/photo.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "version": "5.5.0",
        "flags": {},
        "shapes": shapes,
        "imagePath": "photo.png",
        "imageData": None,
        "imageHeight": 30,
        "imageWidth": 40,
        **extra,
    }
    path.write_text(json.dumps(document))
    return path


def _shape(**values: Any) -> dict[str, Any]:
    shape = {"label": "Lesion", "points": [[1, 1], [5, 5]], "shape_type": "rectangle"}
    shape.update(values)
    return shape


@pytest.mark.parametrize(
    ("shapes", "extra", "fragment"),
    [
        ([_shape(label="Tumour")], {}, "shape 1: "),
        ([_shape(shape_type="circle")], {}, "'circle' shapes have no clinlabel region"),
        ([_shape(points=[[1, 1], [90, 5]])], {}, "outside the image"),
        ([_shape()], {"imageWidth": 41}, "the image is 40 x 30 but the file says 41 x 30"),
        ([_shape(shape_type="mask", mask="not base64!")], {}, "not a base64 PNG"),
        ("nope", {}, "'shapes' must be a list"),
    ],
)
def test_a_bad_file_imports_nothing_and_names_itself(
    project: Project, tmp_path: Path, shapes: Any, extra: dict[str, Any], fragment: str
) -> None:
    folder = tmp_path / "in"
    good = folder / "Case_B/Visit_1/XC/run.json"
    good.parent.mkdir(parents=True)
    good.write_text(
        json.dumps(
            {
                "version": "5.5.0",
                "flags": {},
                "shapes": [_shape(label="Vessel")],
                "imagePath": "run.dcm",
                "imageData": None,
                "imageHeight": 32,
                "imageWidth": 24,
            }
        )
    )
    _labelme_file(folder, shapes, **extra)
    before = len(read_events(project.dir, limit=0))
    with pytest.raises(ImportFileError) as raised:
        import_labelme(project, folder, annotator="Dr A")
    assert "Case_A/Visit_1/XC/photo.json" in raised.value.message
    assert fragment in raised.value.message
    assert "\n" not in raised.value.message
    assert len(read_events(project.dir, limit=0)) == before


def test_files_that_are_not_labelme_are_refused(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    with pytest.raises(ImportFileError, match="not a folder"):
        import_labelme(project, folder, annotator="Dr A")
    folder.mkdir()
    with pytest.raises(ImportFileError, match="no labelme JSON file"):
        import_labelme(project, folder, annotator="Dr A")
    (folder / "x.json").write_text("{broken")
    with pytest.raises(ImportFileError, match=r"x.json is not valid JSON \(line 1"):
        import_labelme(project, folder, annotator="Dr A")
    (folder / "x.json").write_text(json.dumps({"shapes": [], "imagePath": "../elsewhere.png"}))
    with pytest.raises(ImportFileError, match="is not in this project's batch"):
        import_labelme(project, folder, annotator="Dr A")
