"""Region exports (issue 12): COCO, PNG masks, NIfTI label maps, checked by their reference
libraries (pycocotools, Pillow, nibabel), audited, and split by whole cases."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from clinlabel.audit.log import verify_store
from clinlabel.domain.regions import mask_from_array, mask_to_array
from clinlabel.errors import OutputError, ValidationError
from clinlabel.exports.coco import mask_columns, rle_string, runs_bbox
from clinlabel.exports.region_data import polygon_pixels
from clinlabel.exports.splits import assign_splits, parse_split
from clinlabel.imaging.nifti import oriented_slice, read_volume
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.region_exports import export_regions

from .region_project import DICOM, PHOTO, SCHEMA, VOLUME, VOLUME_AFFINE, Drawer, make_region_batch

LESION, VESSEL = 1, 2


def _project(tmp_path: Path, database_url: str | None, *, photo_cases: int = 0) -> Path:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_region_batch(tmp_path / "Batch", photo_cases=photo_cases)
    init_project(batch, tmp_path / "project", schema_path=schema, database_url=database_url)
    return tmp_path / "project"


@pytest.fixture
def project(tmp_path: Path, database_url: str | None) -> Iterator[Project]:
    with open_project(_project(tmp_path, database_url)) as opened:
        yield opened


def _blob(width: int, height: int, centre: tuple[int, int], radius: int) -> np.ndarray:
    rows, cols = np.mgrid[:height, :width]
    return np.asarray((cols - centre[0]) ** 2 + (rows - centre[1]) ** 2 <= radius**2)


#: What the fixture below draws, for the assertions.
PHOTO_MASK = _blob(40, 30, (28, 20), 5)
FRAME_MASK = _blob(24, 32, (10, 12), 4)
AXIAL_MASK = _blob(6, 5, (2, 2), 1)  # axial slices of the (6, 5, 4) volume are 6 x 5 as shown
POLYGON = [[2.0, 3.0], [15.5, 4.0], [12.0, 14.25], [3.0, 11.0]]


def _draw_everything(project: Project) -> Drawer:
    drawer = Drawer(project)
    drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
    drawer.draw(PHOTO, "Vessel", "polygon", {"points": POLYGON})
    drawer.draw(PHOTO, "Vessel", "brush", mask_from_array(PHOTO_MASK))
    drawer.draw(PHOTO, "Lesion", "point", {"x": 35.5, "y": 3.2})
    drawer.draw(DICOM, "Lesion", "brush", mask_from_array(FRAME_MASK), frame=2)
    drawer.draw(DICOM, "Vessel", "polygon", {"points": [[1, 1], [8, 1], [8, 6]]}, frame=3)
    drawer.draw(VOLUME, "Lesion", "brush", mask_from_array(AXIAL_MASK), frame=2, plane="axial")
    drawer.draw(VOLUME, "Vessel", "box", {"x": 1, "y": 0, "w": 2, "h": 2}, frame=3, plane="coronal")
    return drawer


def _last_export(project: Project) -> dict[str, Any]:
    found = [e for e in read_events(project.dir, limit=0) if e["kind"] == "export_written"]
    data = found[-1]["data"]
    loaded: dict[str, Any] = json.loads(data) if isinstance(data, str) else data
    return loaded


# -- COCO ------------------------------------------------------------------------------------


def column_major_runs(painted: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts of a grid: runs over it read column by column, from 0s
    (the form `mask_columns` makes from runs, here from the grid: the tests' oracle).

    Only the columns holding painted pixels are read; the empty columns before and after them
    are one run of zeros each, added by arithmetic (a mask is a small part of its frame).
    """
    grid = np.asarray(painted, dtype=bool)
    height, width = grid.shape
    cols = np.flatnonzero(grid.any(axis=0))
    if cols.size == 0:
        return [height * width]
    first, last = int(cols[0]), int(cols[-1])
    flat = grid[:, first : last + 1].ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs: list[int] = np.diff(edges).tolist()
    if flat[0]:
        runs = [0, *runs]
    runs[0] += first * height
    trailing = (width - 1 - last) * height
    if trailing:
        if flat[-1]:
            runs.append(trailing)
        else:
            runs[-1] += trailing
    return runs


def test_coco_rle_string_is_what_pycocotools_encodes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        painted = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < 0.3
        ours = rle_string(column_major_runs(painted))
        theirs = mask_utils.encode(np.asfortranarray(painted.astype(np.uint8)))
        assert ours == theirs["counts"].decode()


def test_coco_export_loads_in_pycocotools_with_masks_boxes_and_polygons(
    project: Project, tmp_path: Path
) -> None:
    _draw_everything(project).close()
    result = export_regions(project, "coco", out=tmp_path / "coco", actor="tester")
    coco = COCO(str(tmp_path / "coco" / "instances.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["Lesion", "Vessel"]
    images = {(i["file_name"], i["frame"], i["plane"]): i for i in coco.dataset["images"]}
    assert set(images) == {
        (PHOTO, 0, None),
        (DICOM, 2, None),
        (DICOM, 3, None),
        (VOLUME, 2, "axial"),
        (VOLUME, 3, "coronal"),
    }
    assert (images[PHOTO, 0, None]["width"], images[PHOTO, 0, None]["height"]) == (40, 30)
    assert (images[DICOM, 2, None]["width"], images[DICOM, 2, None]["height"]) == (24, 32)
    # The point has no place among COCO's instances: left out, and said so.
    assert result.left_out == 1 and len(coco.dataset["annotations"]) == 7

    photo = images[PHOTO, 0, None]["id"]
    anns = {a["attributes"]["tool"]: a for a in coco.loadAnns(coco.getAnnIds(imgIds=[photo]))}
    box = anns["box"]
    assert box["bbox"] == [1, 2, 6, 4] and box["area"] == 24 and box["category_id"] == LESION
    brush = anns["brush"]
    decoded = mask_utils.decode(brush["segmentation"]).astype(bool)
    assert np.array_equal(decoded, PHOTO_MASK)
    assert np.array_equal(coco.annToMask(brush).astype(bool), PHOTO_MASK)
    assert brush["area"] == float(mask_utils.area(brush["segmentation"])) == PHOTO_MASK.sum()
    assert brush["bbox"] == mask_utils.toBbox(brush["segmentation"]).tolist()
    polygon = anns["polygon"]
    assert polygon["segmentation"] == [[v for p in POLYGON for v in p]]
    theirs = coco.annToMask(polygon).astype(bool)
    ours = polygon_pixels(POLYGON, 40, 30)
    _within_one_pixel(ours, theirs)

    frame = images[DICOM, 2, None]["id"]
    (on_frame,) = coco.loadAnns(coco.getAnnIds(imgIds=[frame]))
    assert np.array_equal(coco.annToMask(on_frame).astype(bool), FRAME_MASK)


def _within_one_pixel(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Two rasterisations of one polygon differ only on its outline."""
    from scipy.ndimage import binary_dilation, binary_erosion

    differ = ours ^ theirs
    outline = binary_dilation(ours) & ~binary_erosion(ours)
    assert not (differ & ~outline).any()
    assert ours.sum() > 0 and theirs.sum() > 0


def test_random_masks_round_trip_through_coco_and_png(project: Project, tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    drawer = Drawer(project)
    drawn = {}
    for frame in (1, 2, 3):
        painted = rng.random((32, 24)) < 0.4
        drawer.draw(DICOM, "Lesion", "brush", mask_from_array(painted), frame=frame)
        drawn[frame] = painted
    drawer.close()
    export_regions(project, "coco", out=tmp_path / "coco", actor="tester")
    export_regions(project, "png", out=tmp_path / "png", actor="tester")
    coco = COCO(str(tmp_path / "coco" / "instances.json"))
    for image in coco.dataset["images"]:
        (ann,) = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        assert np.array_equal(coco.annToMask(ann).astype(bool), drawn[image["frame"]])
    for frame, painted in drawn.items():
        png = np.asarray(Image.open(tmp_path / "png" / f"{DICOM}.frame{frame:04d}.png"))
        assert png.dtype == np.uint8 and np.array_equal(png, painted * LESION)


# -- PNG masks -------------------------------------------------------------------------------


def test_png_masks_hold_the_class_index_per_pixel_with_a_legend(
    project: Project, tmp_path: Path
) -> None:
    _draw_everything(project).close()
    export_regions(project, "png", out=tmp_path / "png", actor="tester")
    png = np.asarray(Image.open(tmp_path / "png" / f"{PHOTO}.png"))
    assert png.shape == (30, 40) and png.dtype == np.uint8
    expected = np.zeros((30, 40), dtype=np.uint8)
    expected[2:6, 1:7] = LESION  # the box
    expected[polygon_pixels(POLYGON, 40, 30)] = VESSEL
    expected[PHOTO_MASK] = VESSEL
    expected[3, 35] = LESION  # the point: the pixel it falls in
    assert np.array_equal(png, expected)
    legend = json.loads((tmp_path / "png" / "legend.json").read_text())
    assert legend["background"] == 0
    assert [(e["value"], e["name"]) for e in legend["labels"]] == [(1, "Lesion"), (2, "Vessel")]
    slice_png = tmp_path / "png" / f"{VOLUME}.axial0002.png"
    assert np.array_equal(np.asarray(Image.open(slice_png)), AXIAL_MASK * LESION)


def test_each_annotator_gets_their_own_masks(project: Project, tmp_path: Path) -> None:
    Drawer(project, "Dr A").draw(PHOTO, "Lesion", "box", {"x": 0, "y": 0, "w": 4, "h": 4})
    Drawer(project, "Dr B").draw(PHOTO, "Vessel", "box", {"x": 2, "y": 2, "w": 4, "h": 4})
    export_regions(project, "png", out=tmp_path / "png", actor="tester")
    a = np.asarray(Image.open(tmp_path / "png" / "Dr_A" / f"{PHOTO}.png"))
    b = np.asarray(Image.open(tmp_path / "png" / "Dr_B" / f"{PHOTO}.png"))
    assert a[3, 3] == LESION and b[3, 3] == VESSEL and a[5, 5] == 0
    only_b = export_regions(project, "png", out=tmp_path / "b", annotator="Dr B", actor="t")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b" / f"{PHOTO}.png")), b)
    assert only_b.regions == 1


# -- NIfTI label maps ------------------------------------------------------------------------


def test_nifti_label_map_has_the_volumes_grid_and_what_was_drawn(
    project: Project, tmp_path: Path
) -> None:
    _draw_everything(project).close()
    export_regions(project, "nifti", out=tmp_path / "nii", actor="tester")
    path = tmp_path / "nii" / "Case_C/Visit_1/XC/ct.labels.nii.gz"
    exported = nib.load(path)
    assert exported.shape == (6, 5, 4)
    assert np.array_equal(exported.affine, VOLUME_AFFINE)
    assert np.asarray(exported.dataobj).dtype == np.uint8
    # Read back as the viewer reads a volume: each drawn slice shows exactly what was drawn.
    labels = read_volume(path)
    axial, _, _ = oriented_slice(labels, plane="axial", index=2)
    assert np.array_equal(axial, AXIAL_MASK * LESION)
    coronal, _, _ = oriented_slice(labels, plane="coronal", index=3)
    # The coronal slice also crosses the lesion drawn on the axial slice, which it shows too.
    expected = np.zeros(coronal.shape, dtype=bool)
    expected[0:2, 1:3] = True
    assert np.array_equal(coronal == VESSEL, expected)
    # Nothing anywhere else.
    values = np.asarray(exported.dataobj)
    assert int((values == LESION).sum()) == int(AXIAL_MASK.sum())
    assert int((values == VESSEL).sum()) == 4
    table = json.loads((tmp_path / "nii" / "Case_C/Visit_1/XC/ct.labels.json").read_text())
    assert table["source"] == VOLUME
    assert [e["name"] for e in table["labels"]] == ["Lesion", "Vessel"]


def test_the_same_regions_give_the_same_bytes(project: Project, tmp_path: Path) -> None:
    _draw_everything(project).close()
    for fmt in ("coco", "png", "nifti"):
        first = export_regions(project, fmt, out=tmp_path / fmt / "1", actor="t")
        second = export_regions(project, fmt, out=tmp_path / fmt / "2", actor="t")
        assert [p.read_bytes() for p in first.files] == [p.read_bytes() for p in second.files]


# -- every format: empty projects, audit, where it may write ----------------------------------


@pytest.mark.parametrize("fmt", ["coco", "png", "nifti"])
def test_a_project_without_regions_exports_valid_empty_files(
    project: Project, tmp_path: Path, fmt: str
) -> None:
    result = export_regions(project, fmt, out=tmp_path / "out", actor="tester")
    assert result.regions == 0 and result.files
    if fmt == "coco":
        coco = COCO(str(result.files[0]))
        assert coco.dataset["images"] == [] and coco.dataset["annotations"] == []
        assert len(coco.dataset["categories"]) == 2
    else:
        table = json.loads(result.files[0].read_text())
        assert [e["name"] for e in table["labels"]] == ["Lesion", "Vessel"]


def test_an_export_is_one_audit_event_with_every_files_sha256(
    project: Project, tmp_path: Path
) -> None:
    _draw_everything(project).close()
    result = export_regions(project, "png", out=tmp_path / "png", actor="tester")
    event = _last_export(project)
    assert event["output"] == "regions_png" and event["regions"] == 8
    files = event["files"]
    assert len(files) == len(result.files) == 6
    for name, sha in files.items():
        assert hashlib.sha256((tmp_path / "png" / name).read_bytes()).hexdigest() == sha
    # No staging folder is left behind, and the trail with the event still verifies.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert verify_store(project.store).ok


def test_an_export_never_writes_inside_the_batch(project: Project) -> None:
    with pytest.raises(OutputError, match="inside the batch"):
        export_regions(project, "coco", out=project.batch / "Case_A" / "out", actor="t")
    with pytest.raises(ValidationError, match="Unknown export format"):
        export_regions(project, "voc", actor="t")
    with pytest.raises(ValidationError, match="No annotator"):
        export_regions(project, "coco", annotator="Nobody", actor="t")


# -- splits ----------------------------------------------------------------------------------


def test_parse_split_says_what_is_wrong_in_one_line() -> None:
    assert parse_split("train=0.8,val=0.1,test=0.1").as_dict() == {
        "train": 0.8,
        "val": 0.1,
        "test": 0.1,
    }
    assert parse_split("train=80,test=20").fractions == (0.8, 0.2)
    for bad, fragment in [
        ("train=0.8,val=0.1", "add up to 0.9"),
        ("train=0.8,train=0.2", "named twice"),
        ("train", "NAME=FRACTION"),
        ("train=x,val=1", "not a number"),
        ("tr/ain=1", "only letters"),
        ("train=-0.5,val=1.5", "0 or more"),
    ]:
        with pytest.raises(ValidationError, match=fragment):
            parse_split(bad)


def test_splits_are_stratified_deterministic_and_keep_cases_whole() -> None:
    strata = {f"case{n:03d}": ("rare" if n % 10 == 0 else "common") for n in range(100)}
    spec = parse_split("train=0.8,val=0.1,test=0.1", seed=3)
    assigned = assign_splits(strata, spec)
    assert assigned == assign_splits(strata, spec)
    assert assigned != assign_splits(strata, parse_split("train=0.8,val=0.1,test=0.1", seed=4))
    counts = {name: list(assigned.values()).count(name) for name in spec.names}
    assert counts == {"train": 80, "val": 10, "test": 10}
    rare = [assigned[c] for c, s in strata.items() if s == "rare"]
    assert (rare.count("train"), rare.count("val"), rare.count("test")) == (8, 1, 1)


def test_a_split_export_never_puts_one_patient_in_two_splits(
    tmp_path: Path, database_url: str | None
) -> None:
    with open_project(_project(tmp_path, database_url, photo_cases=20)) as project:
        drawer = Drawer(project)
        for n in range(20):
            relpath = f"Case_P{n:02d}/Visit_1/XC/img.png"
            drawer.draw(relpath, "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
            drawer.session.save_label(
                drawer.ids[relpath], "Suspicious" if n % 4 else "Non-Suspicious"
            )
        _draw_everything(project).close()
        drawer.close()
        spec = parse_split("train=0.6,val=0.2,test=0.2", seed=11)
        result = export_regions(project, "coco", out=tmp_path / "s", split=spec, actor="t")
        again = export_regions(project, "coco", out=tmp_path / "t", split=spec, actor="t")
        event = _last_export(project)
    assert result.splits == again.splits
    cases_in: dict[str, set[str]] = {}
    for name in spec.names:
        coco = json.loads((tmp_path / "s" / name / "instances.json").read_text())
        cases_in[name] = {i["file_name"].split("/")[0] for i in coco["images"]}
    assert not cases_in["train"] & cases_in["val"]
    assert not cases_in["train"] & cases_in["test"]
    assert not cases_in["val"] & cases_in["test"]
    assert set().union(*cases_in.values()) == set(result.splits) and len(result.splits) == 23
    with (tmp_path / "s" / "splits.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["case"]: r["split"] for r in rows} == result.splits
    assert event["split"]["seed"] == 11
    assert event["split"]["fractions"] == {"train": 0.6, "val": 0.2, "test": 0.2}
    assert sum(event["split"]["cases"].values()) == 23


def test_mask_helpers_agree() -> None:
    painted = _blob(9, 7, (4, 3), 2)
    g = mask_from_array(painted)
    assert np.array_equal(mask_to_array(g["width"], g["height"], g["rle"]), painted)


def test_coco_runs_and_box_match_pycocotools_for_any_mask() -> None:
    """Masks touching every edge, wrapping rows, single pixels, empty columns at both ends."""
    rng = np.random.default_rng(5)
    cases = [rng.random((13, 17)) < p for p in (0.02, 0.3, 0.9)]
    full = np.ones((6, 5), dtype=bool)
    corner = np.zeros((6, 5), dtype=bool)
    corner[5, 4] = True
    wrap = np.zeros((4, 6), dtype=bool)
    wrap[1, 4:] = True
    wrap[2, :2] = True
    edge = np.zeros((5, 7), dtype=bool)
    edge[1:3, 6] = True  # the last column only: the strip ends painted
    for painted in [*cases, full, corner, wrap, edge]:
        encoded = mask_utils.encode(np.asfortranarray(painted.astype(np.uint8)))
        assert rle_string(column_major_runs(painted)) == encoded["counts"].decode()
        g = mask_from_array(painted)
        assert (
            rle_string(mask_columns(g["width"], g["height"], g["rle"]))
            == encoded["counts"].decode()
        )
        x, y, w, h, area = runs_bbox(g["width"], g["rle"])
        assert [x, y, w, h] == mask_utils.toBbox(encoded).tolist()
        assert area == int(mask_utils.area(encoded))


def test_coco_counts_of_masks_anywhere_in_their_frame_are_what_pycocotools_encodes() -> None:
    """`mask_columns` reads only the mask's box: boxes touching the frame's top, bottom, first
    and last columns (a column painted to the bottom then the next from the top is one run),
    the frame's last pixel, whole frames and single pixels."""
    rng = np.random.default_rng(12)
    for k in range(400):
        height, width = int(rng.integers(1, 24)), int(rng.integers(1, 24))
        painted = np.zeros((height, width), dtype=bool)
        top, left = int(rng.integers(0, height)), int(rng.integers(0, width))
        bottom = height if k % 3 == 0 else int(rng.integers(top, height)) + 1
        right = width if k % 4 == 0 else int(rng.integers(left, width)) + 1
        if k % 5 == 0:
            top = 0
        box = painted[top:bottom, left:right]
        box[...] = rng.random(box.shape) < (1.0 if k % 6 == 0 else rng.random())
        if not painted.any():
            continue
        g = mask_from_array(painted)
        encoded = mask_utils.encode(np.asfortranarray(painted.astype(np.uint8)))
        counts = mask_columns(g["width"], g["height"], g["rle"])
        assert counts == column_major_runs(painted)
        assert rle_string(counts) == encoded["counts"].decode()
