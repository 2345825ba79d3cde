"""The labelme import against hostile files, from the command line (issue 12): each is refused
in one line with exit status 2 and nothing imported; and the files labelme writes on Windows or
beside a copy of the images are taken in."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import init_project

from ..cli.cli_run import assert_user_error, run
from .region_project import PHOTO, SCHEMA, make_region_batch

LABEL_FILE = "Case_A/Visit_1/XC/photo.json"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    batch = make_region_batch(tmp_path / "Batch")
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    return tmp_path / "project"


def _png(pixels: np.ndarray) -> str:
    with io.BytesIO() as buffer:
        Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode("ascii")


def _bomb() -> str:
    """A PNG of a few hundred bytes whose header claims 100000 x 100000 pixels (10 G bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100_000, 9))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(data).decode("ascii")


def _box(**values: Any) -> dict[str, Any]:
    shape: dict[str, Any] = {"label": "Lesion", "points": [[1, 1], [5, 5]]}
    shape["shape_type"] = "rectangle"
    shape.update(values)
    return shape


def _write(folder: Path, shapes: list[Any], name: str = LABEL_FILE, **extra: Any) -> Path:
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
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def _events(project: Path) -> int:
    return len(read_events(project, limit=0))


HOSTILE = {
    "image outside the batch": (
        [_box()],
        {"imagePath": "../../../../../etc/passwd"},
        "its imagePath '../../../../../etc/passwd' is not an image of this project's batch",
    ),
    "absolute image elsewhere": (
        [_box()],
        {"imagePath": "/etc/hosts"},
        "is not an image of this project's batch",
    ),
    "huge size": (
        [_box()],
        {"imageHeight": 10**12, "imageWidth": 10**12},
        "the image is 40 x 30 but the file says 1000000000000 x 1000000000000",
    ),
    "size as text": (
        [_box()],
        {"imageHeight": "30"},
        "width and height must be whole numbers (the file says 40 x '30')",
    ),
    "mask of the wrong size": (
        [_box(shape_type="mask", mask=_png(np.ones((3, 3))))],
        {},
        "shape 1: the mask PNG is 3 x 3 but its corners span 5 x 5",
    ),
    "malformed base64 PNG": (
        [_box(shape_type="mask", mask="iVBORw0KGgoAAAANSUhEUgAA")],
        {},
        "shape 1: the mask is not a base64 PNG",
    ),
    "zip bomb PNG": (
        [_box(shape_type="mask", points=[[0, 0], [99_999, 99_999]], mask=_bomb())],
        {},
        "shape 1: the mask PNG claims more pixels than any image clinlabel reads",
    ),
    "zip bomb PNG at the image's size": (
        [_box(shape_type="mask", points=[[0, 0], [39, 29]], mask=_bomb())],
        {},
        "shape 1: the mask PNG claims more pixels than any image clinlabel reads",
    ),
    "polygon of one point": (
        [_box(shape_type="polygon", points=[[1, 1]])],
        {},
        "shape 1: A polygon needs at least three vertices",
    ),
    "polygon with NaN": (
        [_box(shape_type="polygon", points=[[1, 1], [float("nan"), 3], [5, 5]])],
        {},
        "shape 1: The region's vertex is not a finite number",
    ),
    "point with NaN": (
        [_box(shape_type="point", points=[[float("nan"), 1]])],
        {},
        "shape 1: The region's x is not a finite number",
    ),
    "description of 10 MB": (
        [_box(description="x" * 10_000_001)],
        {},
        "shape 1: its description is longer than the 10,000 characters",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_formats_a_hostile_labelme_file_is_one_line_exit_2_and_nothing_imported(
    project: Path, tmp_path: Path, case: str
) -> None:
    shapes, extra, fragment = HOSTILE[case]
    folder = tmp_path / "in"
    # A good file beside it: all or nothing, so its shapes are not imported either.
    good = "../../../../Batch/" + PHOTO  # from tmp_path/in/Case_A/Visit_1/XC to the image
    _write(folder, [_box()], name="Case_A/Visit_1/XC/a_good_one.json", imagePath=good)
    _write(folder, shapes, **extra)
    before = _events(project)
    assert_user_error(
        run("import", project, "--labelme", folder, "--annotator", "Dr X"), LABEL_FILE, fragment
    )
    assert _events(project) == before


def test_formats_a_labelme_file_saved_on_windows_finds_its_image(
    project: Path, tmp_path: Path
) -> None:
    # labelme on Windows writes imagePath with backslashes; the file may lie anywhere, here in a
    # flat folder that does not mirror the batch.
    folder = tmp_path / "flat"
    relative = Path("..", "Batch", *Path(PHOTO).parts)
    _write(folder, [_box()], name="anything.json", imagePath="\\".join(relative.parts))
    result = run("import", project, "--labelme", folder, "--annotator", "Dr W")
    assert result.exit_code == 0, result.output
    assert "Imported 1 regions for Dr W from 1 labelme files." in result.output


def test_formats_a_labelme_file_without_the_images_size_is_taken_as_labelme_reads_it(
    project: Path, tmp_path: Path
) -> None:
    # labelme 6 writes null for a size it was not given, and its loader then checks nothing;
    # the shapes are still checked against the image.
    folder = tmp_path / "in"
    _write(folder, [_box()], imageHeight=None, imageWidth=None)
    result = run("import", project, "--labelme", folder, "--annotator", "Dr N")
    assert result.exit_code == 0, result.output
    _write(folder, [_box(points=[[1, 1], [50, 5]])], imageHeight=None, imageWidth=None)
    assert_user_error(
        run("import", project, "--labelme", folder, "--annotator", "Dr M"), "outside the image"
    )


def test_formats_a_labelme_file_beside_a_copy_of_its_image_imports_onto_the_batchs(
    project: Path, tmp_path: Path
) -> None:
    # A team's labelme folder: images copied with their JSON files beside them (labelme's
    # default). imagePath names the copy, whose place mirrors the batch's image.
    folder = tmp_path / "team"
    _write(folder, [_box()], imagePath="photo.png")
    Image.new("RGB", (40, 30)).save(folder / "Case_A/Visit_1/XC/photo.png")
    result = run("import", project, "--labelme", folder, "--annotator", "Dr T")
    assert result.exit_code == 0, result.output
    assert "Imported 1 regions" in result.output


def test_formats_a_file_name_with_a_newline_cannot_forge_a_line_of_the_message(
    project: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a\nclinlabel: imported 100 regions.json").write_text("{broken")
    result = run("import", project, "--labelme", folder, "--annotator", "Dr X")
    assert_user_error(result, "a\\nclinlabel: imported 100 regions.json is not valid JSON")


def test_formats_two_labelme_files_for_one_image_import_nothing(
    project: Path, tmp_path: Path
) -> None:
    # A copy (or an older version) beside the file: each numbers its shapes from 1, so the
    # second's would silently replace the first's regions.
    folder = tmp_path / "in"
    image = "../../../../Batch/" + PHOTO
    _write(folder, [_box()], imagePath=image)
    _write(folder, [_box(points=[[10, 1], [13, 4]])], name="Case_A/Visit_1/XC/copy.json",
           imagePath=image)  # fmt: skip
    before = _events(project)
    assert_user_error(
        run("import", project, "--labelme", folder, "--annotator", "Dr X"),
        "Case_A/Visit_1/XC/copy.json and Case_A/Visit_1/XC/photo.json both hold shapes for "
        f"{PHOTO}",
    )
    assert _events(project) == before
