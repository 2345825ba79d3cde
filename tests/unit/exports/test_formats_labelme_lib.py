"""labelme's own code reads clinlabel's labelme export, and clinlabel imports what labelme saves.

labelme (GPL-3.0) is a test extra (`labelme-check` in pyproject.toml, installed by
scripts/setup.sh), never imported by src/. It imports Qt (PyQt5): run headless, offscreen.

What labelme 6 reads a file with: `labelme._label_file.LabelFile` (its `read_label_file`, which
also opens the image `imagePath` names and checks `imageHeight`/`imageWidth` against it) and,
per shape, `_load_shape_json_obj` (which decodes a mask's base64 PNG). labelme cannot open a
DICOM file (it reads images with Pillow) nor medical-labelme's per-frame form (no `imagePath`,
no `shapes`): for those, every frame's shapes go through labelme's shape loader and its own
rasteriser, `labelme.utils.shapes_to_label`.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_PILLOW_LIMIT = PIL.Image.MAX_IMAGE_PIXELS
labelme = pytest.importorskip("labelme", reason="the labelme-check extra is not installed")

from labelme._label_file import LabelFile, _load_shape_json_obj, write_label_file  # noqa: E402
from labelme._shape import Shape  # noqa: E402
from labelme.app import _shape_to_dict  # noqa: E402
from labelme.utils import shapes_to_label  # noqa: E402
from PIL import Image  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from clinlabel.domain.regions import mask_from_array  # noqa: E402
from clinlabel.labelling.project import Project, init_project, open_project  # noqa: E402
from clinlabel.labelling.region_exports import export_regions  # noqa: E402

from ..cli.cli_run import run  # noqa: E402
from .region_project import (  # noqa: E402
    DICOM,
    PHOTO,
    SCHEMA,
    SINGLE,
    VOLUME,
    Drawer,
    make_region_batch,
)

# Importing labelme turns Pillow's decompression-bomb limit off for the whole process (its
# _label_file module sets it to None); the other tests collected into this process rely on it.
PIL.Image.MAX_IMAGE_PIXELS = _PILLOW_LIMIT

CLASSES = {"Lesion": 1, "Vessel": 2}

MASK = np.zeros((30, 40), dtype=bool)
MASK[10:16, 20:27] = True
MASK[12, 19] = True
FRAME_MASK = np.zeros((32, 24), dtype=bool)
FRAME_MASK[3:9, 4:7] = True
SINGLE_MASK = np.zeros((20, 16), dtype=bool)
SINGLE_MASK[2:5, 3:9] = True


def _init(tmp_path: Path, name: str, batch: Path) -> Path:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / name, schema_path=schema)
    return tmp_path / name


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_region_batch(tmp_path / "Batch", photo_cases=2, single=True)


@pytest.fixture
def project(tmp_path: Path, batch: Path) -> Iterator[Project]:
    with open_project(_init(tmp_path, "project", batch)) as opened:
        yield opened


def _draw_everything(project: Project) -> None:
    drawer = Drawer(project)
    drawer.draw(PHOTO, "Lesion", "box", {"x": 1.5, "y": 2, "w": 6, "h": 4.25})
    drawer.draw(PHOTO, "Vessel", "polygon", {"points": [[2, 3], [15.5, 4], [12, 14.25]]})
    drawer.draw(PHOTO, "Vessel", "brush", mask_from_array(MASK))
    drawer.draw(PHOTO, "Lesion", "point", {"x": 35.5, "y": 3.2})
    drawer.draw(DICOM, "Lesion", "brush", mask_from_array(FRAME_MASK), frame=2)
    drawer.draw(DICOM, "Vessel", "polygon", {"points": [[1, 1], [8, 1], [8, 6]]}, frame=3)
    drawer.draw(DICOM, "Lesion", "box", {"x": 2, "y": 2, "w": 5, "h": 7}, frame=3)
    drawer.draw(SINGLE, "Vessel", "brush", mask_from_array(SINGLE_MASK))
    drawer.draw(SINGLE, "Lesion", "point", {"x": 4, "y": 5})
    drawer.draw(VOLUME, "Lesion", "box", {"x": 1, "y": 1, "w": 2, "h": 2}, frame=2, plane="axial")
    for n in range(2):
        drawer.draw(
            f"Case_P{n:02d}/Visit_1/XC/img.png", "Vessel", "box", {"x": 1, "y": 1, "w": 3, "h": 3}
        )
    drawer.close()


def _labelme_mask(shapes: list[Any], size: tuple[int, int]) -> np.ndarray:
    """Where labelme's own rasteriser puts a file's mask shapes (height, width)."""
    masks = [s for s in shapes if s["shape_type"] == "mask"]
    cls, _ = shapes_to_label(size, masks, CLASSES)
    return cls > 0


def test_labelme_loads_every_clinlabel_labelme_file_with_the_shapes_drawn(
    project: Project, tmp_path: Path
) -> None:
    _draw_everything(project)
    out = tmp_path / "lm"
    result = export_regions(project, "labelme", out=out, actor="t")
    assert result.left_out == 1  # the volume's box: labelme has no slices

    # A photo: labelme's LabelFile opens it, follows imagePath to the image in the batch and
    # finds its declared size true.
    photo = LabelFile(str(out / "Case_A/Visit_1/XC/photo.json"))
    assert Path(photo.filename or "").parent.joinpath(photo.image_path or "").resolve() == (
        project.batch / PHOTO
    )
    assert Image.open(project.batch / PHOTO).size == (40, 30)
    drawn = [(s["label"], s["shape_type"], s["points"]) for s in photo.shapes]
    assert drawn == [
        ("Lesion", "rectangle", [[1.5, 2.0], [7.5, 6.25]]),
        ("Vessel", "polygon", [[2, 3], [15.5, 4], [12, 14.25]]),
        ("Vessel", "mask", [[19, 10], [26, 15]]),
        ("Lesion", "point", [[35.5, 3.2]]),
    ]
    assert np.array_equal(_labelme_mask(photo.shapes, (30, 40)), MASK)

    # The other photos, one box each, load the same way.
    for n in range(2):
        other = LabelFile(str(out / f"Case_P{n:02d}/Visit_1/XC/img.json"))
        assert [(s["label"], s["shape_type"]) for s in other.shapes] == [("Vessel", "rectangle")]

    # A multi-frame DICOM file, in medical-labelme's per-frame form: every frame's shapes are
    # labelme shapes, and its rasteriser puts the mask where it was drawn.
    document = json.loads((out / "Case_B/Visit_1/XC/run.json").read_text())
    frames = {
        f["frame"]: [_load_shape_json_obj(s) for s in f["shapes"]] for f in document["frames"]
    }
    assert sorted(frames) == [1, 2]  # clinlabel's frames 2 and 3, counted from 0
    assert [(s["label"], s["shape_type"]) for s in frames[1]] == [("Lesion", "mask")]
    assert np.array_equal(_labelme_mask(frames[1], (32, 24)), FRAME_MASK)
    assert [(s["label"], s["shape_type"], s["points"]) for s in frames[2]] == [
        ("Vessel", "polygon", [[1, 1], [8, 1], [8, 6]]),
        ("Lesion", "rectangle", [[2.0, 2.0], [7.0, 9.0]]),
    ]

    # A single-frame DICOM file: labelme's form, whose image labelme cannot open (Pillow reads
    # no DICOM); its shapes still load in labelme's shape loader.
    single = json.loads((out / "Case_D/Visit_1/XC/single.json").read_text())
    shapes = [_load_shape_json_obj(s) for s in single["shapes"]]
    assert [(s["label"], s["shape_type"]) for s in shapes] == [
        ("Vessel", "mask"),
        ("Lesion", "point"),
    ]
    assert np.array_equal(_labelme_mask(shapes, (20, 16)), SINGLE_MASK)


def _labelme_shape(
    label: str, shape_type: str, points: list[tuple[float, float]], mask: np.ndarray | None = None
) -> dict[str, Any]:
    """A shape as labelme's app saves it (`labelme.app._shape_to_dict` of its `Shape`)."""
    shape = Shape(label=label, shape_type=shape_type, mask=mask)
    for x, y in points:
        shape.add_point(QtCore.QPointF(x, y))
    shape.close()
    return _shape_to_dict(shape)


def _save_as_labelme(label_path: Path, image: Path, shapes: list[dict[str, Any]]) -> None:
    """What labelme's `save_labels` does: imagePath relative to the file, the image's size."""
    width, height = Image.open(image).size
    label_path.parent.mkdir(parents=True, exist_ok=True)
    write_label_file(
        filename=str(label_path),
        shapes=shapes,
        image_path=os.path.relpath(image, label_path.parent),
        image_height=height,
        image_width=width,
        image_data=None,
        other_data={},
        flags={},
    )


def _loaded(path: Path) -> list[tuple[str, str, list[list[float]] | bytes]]:
    """A file's shapes as labelme reads them: label, type, and points (a mask's pixels placed
    on the image by labelme's rasteriser: its rectangle may hold empty rows at the edges)."""
    label = LabelFile(str(path))
    assert label.image_data is not None
    size = Image.open(io.BytesIO(label.image_data)).size[::-1]
    return [
        (
            s["label"],
            s["shape_type"],
            _labelme_mask([s], size).tobytes()
            if s["shape_type"] == "mask"
            else [[float(x), float(y)] for x, y in s["points"]],
        )
        for s in label.shapes
    ]


def test_files_saved_by_labelme_import_and_export_back_the_same(
    tmp_path: Path, batch: Path
) -> None:
    crop = np.zeros((6, 8), dtype=bool)
    crop[1:5, 2:7] = True
    crop[0, 0] = True
    saved = tmp_path / "from_labelme"
    photo_shapes = [
        _labelme_shape("Lesion", "rectangle", [(1.5, 2.0), (7.5, 6.25)]),
        _labelme_shape("Vessel", "polygon", [(2.0, 3.0), (15.5, 4.0), (12.0, 14.25)]),
        _labelme_shape("Vessel", "mask", [(19.0, 10.0), (26.0, 15.0)], mask=crop),
        _labelme_shape("Lesion", "point", [(35.5, 3.2)]),
    ]
    # Drawn corner first from the bottom right: labelme keeps the order it was dragged in.
    other_shapes = [_labelme_shape("Vessel", "rectangle", [(9.0, 8.0), (2.0, 1.0)])]
    _save_as_labelme(saved / "Case_A/Visit_1/XC/photo.json", batch / PHOTO, photo_shapes)
    other_image = batch / "Case_P00/Visit_1/XC/img.png"
    _save_as_labelme(saved / "Case_P00/Visit_1/XC/img.json", other_image, other_shapes)

    fresh = _init(tmp_path, "fresh", batch)
    result = run("import", fresh, "--labelme", saved, "--annotator", "Dr L")
    assert result.exit_code == 0, result.output
    assert "Imported 5 regions for Dr L from 2 labelme files." in result.output

    out = tmp_path / "back"
    result = run("export", fresh, "--format", "labelme", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json")) == [
        "Case_A/Visit_1/XC/photo.json",
        "Case_P00/Visit_1/XC/img.json",
    ]
    # labelme reads clinlabel's files back to the shapes it saved: same labels, kinds, points
    # and mask pixels (a rectangle's corners in labelme's top-left, bottom-right order).
    assert _loaded(out / "Case_A/Visit_1/XC/photo.json") == _loaded(
        saved / "Case_A/Visit_1/XC/photo.json"
    )
    assert _loaded(out / "Case_P00/Visit_1/XC/img.json") == [
        ("Vessel", "rectangle", [[2.0, 1.0], [9.0, 8.0]])
    ]
