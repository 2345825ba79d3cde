"""Region exports against hostile names and interruptions, from the command line (issue 12).

Names with a newline, `%`, look-alike letters, both Unicode forms of one accent, a leading dash,
and names near the 255 bytes a file name holds: every format writes below `--out` only, never
inside the batch, one file per image. Ctrl+C or a full disk while the files are moved into
place leaves the earlier export as it was and no event."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clinlabel.domain.regions import mask_from_array
from clinlabel.errors import OutputError
from clinlabel.labelling import region_exports
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import init_project, open_project

from ..cli.cli_run import assert_user_error, run
from .region_project import PHOTO, SCHEMA, Drawer, make_region_batch, write_dicom

#: (case folder, photo name): each a case of its own.
HOSTILE_PHOTOS = [
    ("Case_new\nline", "im\ng.png"),
    ("Case_%s%n%x", "100%.png"),
    ("C\u0430se_A", "ph\u043eto.png"),  # Cyrillic a and o: looks like Case_A/photo.png
    ("Case_\u00e9", "x.png"),  # é as one code point (NFC)
    ("Case_e\u0301", "x.png"),  # é as e and a combining accent (NFD)
    ("-Case", "-x.png"),
    ("Case_L", "L" * 246 + ".png"),  # 250 bytes: its mask's name would be 254, its .tmp more
    ("Case_U", "\u00fc" * 123 + ".png"),  # 250 bytes of two-byte letters
]
LONG_DICOM = "Case_D/Visit_1/XC/" + "D" * 247 + ".dcm"
FORMATS = ["coco", "png", "labelme", "nifti", "dicom-seg"]


def _relpath(case: str, name: str) -> str:
    return f"{case}/Visit_1/XC/{name}"


def _hostile_project(tmp_path: Path) -> tuple[Path, Path]:
    batch = make_region_batch(tmp_path / "Batch")
    for case, name in HOSTILE_PHOTOS:
        folder = batch / case / "Visit_1" / "XC"
        folder.mkdir(parents=True)
        Image.new("RGB", (20, 16), (9, 9, 9)).save(folder / name, format="PNG")
    write_dicom(batch / LONG_DICOM, frames=3)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    mask = np.zeros((16, 20), dtype=bool)
    mask[2:5, 3:6] = True
    frame_mask = np.zeros((32, 24), dtype=bool)
    frame_mask[2:5, 3:6] = True
    with open_project(tmp_path / "project") as project:
        drawer = Drawer(project)
        for case, name in HOSTILE_PHOTOS:
            drawer.draw(_relpath(case, name), "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
            drawer.draw(_relpath(case, name), "Vessel", "brush", mask_from_array(mask))
        drawer.draw(LONG_DICOM, "Vessel", "brush", mask_from_array(frame_mask), frame=2)
        drawer.draw(LONG_DICOM, "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
        drawer.close()
    return batch, tmp_path / "project"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_formats_hostile_names_are_written_below_out_only_in_every_format(
    tmp_path: Path,
) -> None:
    batch, project = _hostile_project(tmp_path)
    batch_before = _tree(batch)
    around = sorted(p.name for p in tmp_path.iterdir())
    for fmt in FORMATS:
        out = tmp_path / "out" / fmt
        result = run(
            "export", project, "--format", fmt, "--out", out, "--split", "train=0.5,test=0.5"
        )
        assert result.exit_code == 0, (fmt, result.output)
        written = [p for p in out.rglob("*") if p.is_file()]
        assert written and all(p.resolve().is_relative_to(out) for p in written)
        assert all(len(p.name.encode()) <= 255 for p in written)
    assert _tree(batch) == batch_before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*around, "out"])

    # One file per image drawn on, the long names too, none written over another.
    png = [p for p in (tmp_path / "out" / "png").rglob("*.png")]
    assert len(png) == len(HOSTILE_PHOTOS) + 2  # the photos, the DICOM file whole and frame 2
    labelme = [p for p in (tmp_path / "out" / "labelme").rglob("*.json")]
    assert len(labelme) == len(HOSTILE_PHOTOS) + 1
    (seg,) = (tmp_path / "out" / "dicom-seg").rglob("*.seg.dcm")
    assert seg.name.startswith("D" * 200) and seg.parent.name == "XC"
    # Each labelme file still leads to its image: a fresh project takes them all back in.
    schema = tmp_path / "schema.toml"
    init_project(batch, tmp_path / "fresh", schema_path=schema)
    for split in ("train", "test"):
        result = run(
            "import", tmp_path / "fresh", "--labelme", tmp_path / "out" / "labelme" / split,
            "--annotator", f"Dr {split}",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    documents = [json.loads(p.read_text()) for p in labelme]
    shapes = sum(len(f["shapes"]) for d in documents for f in d.get("frames", [d]))
    events = read_events(tmp_path / "fresh", limit=0)
    assert sum(1 for e in events if e["kind"] == "region_created") == shapes


def _two_exports(tmp_path: Path, fmt: str) -> tuple[Path, Path, dict[str, bytes]]:
    """A project exported once into `out`, then drawn on again (more files the next time)."""
    batch = make_region_batch(tmp_path / "Batch", photo_cases=4)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    project = tmp_path / "project"
    with open_project(project) as opened:
        drawer = Drawer(opened)
        for n in range(2):
            drawer.draw(f"Case_P{n:02d}/Visit_1/XC/img.png", "Vessel", "box",
                        {"x": 1, "y": 1, "w": 3, "h": 3})  # fmt: skip
        drawer.close()
    out = tmp_path / "out"
    assert run("export", project, "--format", fmt, "--out", out).exit_code == 0
    before = _tree(out)
    with open_project(project) as opened:
        drawer = Drawer(opened)
        for n in range(4):
            drawer.draw(f"Case_P{n:02d}/Visit_1/XC/img.png", "Lesion", "point", {"x": 5, "y": 5})
        drawer.close()
    return project, out, before


def _fail_on_second_publish(monkeypatch: pytest.MonkeyPatch, failure: BaseException) -> list[Path]:
    published: list[Path] = []
    real = region_exports.publish

    def publish(pending: Path, path: Path) -> None:
        if len(published) == 2:
            raise failure
        real(pending, path)
        published.append(path)

    monkeypatch.setattr(region_exports, "publish", publish)
    return published


@pytest.mark.parametrize("fmt", ["png", "labelme"])
def test_formats_ctrl_c_while_an_export_is_moved_into_place_changes_nothing(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, out, before = _two_exports(tmp_path, fmt)
    events = len(read_events(project, limit=0))
    published = _fail_on_second_publish(monkeypatch, KeyboardInterrupt())
    result = run("export", project, "--format", fmt, "--out", out)
    assert result.exit_code == 130
    assert "Interrupted: nothing was changed." in result.stderr
    assert len(published) == 2  # two files had been moved into place (one replacing)
    assert _tree(out) == before
    assert len(read_events(project, limit=0)) == events
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("fmt", ["png", "labelme"])
def test_formats_a_full_disk_while_an_export_is_moved_into_place_changes_nothing(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, out, before = _two_exports(tmp_path, fmt)
    events = len(read_events(project, limit=0))
    full = OutputError(f"Cannot write {out}: {os.strerror(errno.ENOSPC)}.")
    _fail_on_second_publish(monkeypatch, full)
    assert_user_error(run("export", project, "--format", fmt, "--out", out), "Cannot write")
    assert _tree(out) == before
    assert len(read_events(project, limit=0)) == events
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("fmt", ["png", "labelme", "dicom-seg"])
def test_formats_a_link_in_the_out_folder_never_leads_the_export_into_the_batch(
    tmp_path: Path, fmt: str
) -> None:
    batch, project = _hostile_project(tmp_path)
    before = _tree(batch)
    out = tmp_path / "out"
    out.mkdir()
    # Planted (or left by a script): the tree an export mirrors, leading into the batch.
    for case in ("Case_A", "Case_D", "Case_%s%n%x"):
        (out / case).symlink_to(batch / case, target_is_directory=True)
    assert_user_error(
        run("export", project, "--format", fmt, "--out", out), "(a link); an export is written"
    )
    assert _tree(batch) == before
    assert sorted(p.name for p in out.iterdir()) == ["Case_%s%n%x", "Case_A", "Case_D"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_a_project_without_regions_exports_valid_empty_splits(
    tmp_path: Path, fmt: str
) -> None:
    from pycocotools.coco import COCO

    batch = make_region_batch(tmp_path / "Batch")
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    out = tmp_path / "out"
    result = run(
        "export", tmp_path / "project", "--format", fmt, "--out", out,
        "--split", "train=0.8,val=0.1,test=0.1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Wrote 0 regions as {fmt}" in result.output
    assert (out / "splits.csv").read_text().splitlines() == ["case,split,stratum,images"]
    for split in ("train", "val", "test"):
        if fmt == "coco":
            coco = COCO(str(out / split / "instances.json"))
            assert coco.dataset["annotations"] == [] and len(coco.dataset["categories"]) == 2
        elif fmt in ("png", "nifti"):
            table = json.loads(
                (out / split / ("legend.json" if fmt == "png" else "labels.json")).read_text()
            )
            assert [e["name"] for e in table["labels"]] == ["Lesion", "Vessel"]
        else:
            assert not (out / split).exists() or not any((out / split).rglob("*.*"))


def test_formats_two_images_one_file_on_a_case_blind_disk_export_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = make_region_batch(tmp_path / "Batch")
    folder = batch / "Case_A" / "Visit_1" / "XC"
    for name in ("IMG.png", "img.png"):  # two images on Linux; one name on a Mac's disk
        Image.new("RGB", (20, 16)).save(folder / name)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as opened:
        drawer = Drawer(opened)
        for name in ("IMG.png", "img.png"):
            drawer.draw(
                f"Case_A/Visit_1/XC/{name}", "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3}
            )
        drawer.close()
    events = _events_of(tmp_path / "project")
    out = tmp_path / "out"
    real = region_exports.publish

    def case_blind(pending: Path, path: Path) -> None:
        # What a disk blind to case does: `IMG.png.png` and `img.png.png` are one entry. Here
        # the second name is made a hard link to the first once that is written.
        real(pending, path)
        if path.name == "IMG.png.png":
            os.link(path, path.with_name("img.png.png"))

    monkeypatch.setattr(region_exports, "publish", case_blind)
    assert_user_error(
        run("export", tmp_path / "project", "--format", "png", "--out", out),
        "Case_A/Visit_1/XC/IMG.png.png and Case_A/Visit_1/XC/img.png.png are one file",
    )
    assert _events_of(tmp_path / "project") == events
    # Nothing of the export is left (the hard link is the simulation's own: on a case-blind
    # disk it is the one entry removed).
    assert [p for p in out.rglob("*") if p.is_file() and p.name != "img.png.png"] == []


def _events_of(project: Path) -> int:
    return len(read_events(project, limit=0))


@pytest.mark.parametrize("fmt", ["png", "labelme", "coco"])
def test_formats_an_image_path_edited_into_the_database_never_leads_out_of_out(
    tmp_path: Path, fmt: str
) -> None:
    from sqlalchemy import text, update

    from clinlabel.store.schema import images

    batch = make_region_batch(tmp_path / "Batch")
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as opened:
        drawer = Drawer(opened)
        drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 1, "w": 3, "h": 3})
        drawer.close()
        # Still the photo once resolved (the batch is tmp_path/Batch), but mirrored below the
        # export's folder it climbs out of it, into the batch.
        edited = "Case_A/../../Batch/" + PHOTO
        with opened.store.write() as conn:
            # By hand: the trigger that keeps an image's identity fixed is dropped first.
            conn.execute(text("DROP TRIGGER images_identity_fixed"))
            conn.execute(update(images).where(images.c.relpath == PHOTO).values(relpath=edited))
    before = _tree(batch)
    assert_user_error(
        run("export", tmp_path / "project", "--format", fmt, "--out", tmp_path / "out"),
        f"The project's database names an image '{edited}'",
    )
    assert _tree(batch) == before
