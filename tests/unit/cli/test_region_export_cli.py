"""`clinlabel export --format`: region exports from the command line, bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

from clinlabel.labelling.project import init_project, open_project

from ..exports.region_project import PHOTO, SCHEMA, Drawer, make_region_batch
from .cli_run import assert_user_error, run


def _project(tmp_path: Path) -> Path:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_region_batch(tmp_path / "Batch", photo_cases=4)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project)
        drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
        drawer.draw(PHOTO, "Lesion", "point", {"x": 3, "y": 3})
        for n in range(4):
            relpath = f"Case_P{n:02d}/Visit_1/XC/img.png"
            drawer.draw(relpath, "Vessel", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
        drawer.close()
    return tmp_path / "project"


def test_list_formats_needs_no_project() -> None:
    result = run("export", "--list-formats")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ["csv", "coco", "png", "nifti", "labelme", "dicom-seg"]


def test_export_coco_by_default_into_the_project_folder(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run("export", project, "--format", "coco")
    assert result.exit_code == 0, result.output
    assert "Wrote 6 regions as coco" in result.output
    assert "1 regions left out: coco has no place for them" in result.output
    coco = json.loads((project / "exports" / "coco" / "instances.json").read_text())
    assert len(coco["annotations"]) == 5


def test_the_png_masks_answer_to_masks_as_issue_12_names_them_and_to_any_letter_case(
    tmp_path: Path,
) -> None:
    listed = run("export", "--list-formats").output
    assert "(also --format masks)" in next(line for line in listed.splitlines() if "png" in line)
    project = _project(tmp_path)
    for spelling in ("masks", "PNG", " Masks "):
        result = run("export", project, "--format", spelling, "--force")
        assert result.exit_code == 0, result.output
        # One folder whatever the spelling: the format's own name.
        assert (project / "exports" / "png" / "legend.json").is_file()
        assert not (project / "exports" / spelling.strip()).exists()
    result = run("export", project, "--format", "CSV")
    assert result.exit_code == 0, result.output
    assert (project / "clinical_labels.csv").is_file()


def test_export_with_a_split_says_how_many_cases_went_where(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = tmp_path / "out"
    result = run(
        "export", project, "--format", "png", "--out", out, "--split", "train=0.6,test=0.4",
        "--seed", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "train: 3 cases" in result.output and "test: 2 cases" in result.output
    assert (out / "splits.csv").is_file()
    assert (out / "train" / "legend.json").is_file() and (out / "test" / "legend.json").is_file()


def test_bad_region_exports_are_one_line_and_status_2(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert_user_error(run("export", project, "--format", "voc"), "Unknown export format 'voc'")
    assert_user_error(
        run("export", project, "--format", "coco", "--split", "train=0.5"), "add up to 0.5"
    )
    assert_user_error(
        run("export", project, "--format", "coco", "--out", tmp_path / "Batch" / "x"),
        "inside the batch",
    )
    assert_user_error(
        run("export", project, "--format", "coco", "--annotator", "Nobody"), "No annotator"
    )
    assert_user_error(run("export", project, "--split", "train=1"), "region --format")


def test_import_labelme_from_the_command_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = tmp_path / "lm"
    assert run("export", project, "--format", "labelme", "--out", out).exit_code == 0
    schema = tmp_path / "schema.toml"
    init_project(tmp_path / "Batch", tmp_path / "fresh", schema_path=schema)
    result = run("import", tmp_path / "fresh", "--labelme", out, "--annotator", "Dr B")
    assert result.exit_code == 0, result.output
    assert "Imported 6 regions for Dr B from 5 labelme files." in result.output
    (out / "Case_A/Visit_1/XC/photo.json").write_text("[]")
    assert_user_error(
        run("import", tmp_path / "fresh", "--labelme", out, "--annotator", "Dr C"),
        "Case_A/Visit_1/XC/photo.json is not a labelme file",
    )
    assert_user_error(
        run("import", tmp_path / "fresh", "--annotator", "Dr C"), "--csv FILE or --labelme DIR"
    )
