"""Regions (issue 11): the schema's classes, checked shapes, audited saves, verify covers them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from clinlabel.audit.log import verify_store
from clinlabel.domain.labels import LabelSchema
from clinlabel.domain.regions import (
    Extent,
    check_shape,
    mask_from_array,
    mask_to_array,
)
from clinlabel.errors import ValidationError
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.regions import RegionEdit, RegionEditor
from clinlabel.labelling.service import LabellingSession

from .conftest import make_batch

SCHEMA = """
[[labels]]
name = "Suspicious"
key = "1"
[[labels]]
name = "Non-Suspicious"
key = "2"
[[labels]]
name = "NA"
key = "3"
requires_comment = true

[[regions]]
name = "Lesion"
colour = "#E4572E"

[[regions]]
name = "Vessel"
tools = ["brush", "polygon"]
"""

GRID = Extent(64, 48)


@pytest.fixture
def regions_project(tmp_path: Path, database_url: str | None) -> Iterator[Project]:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_batch(tmp_path / "Batch")
    init_project(batch, tmp_path / "project", schema_path=schema, database_url=database_url)
    with open_project(tmp_path / "project") as opened:
        yield opened


def _session(project: Project, name: str = "Dr A") -> tuple[LabellingSession, int]:
    session = LabellingSession(project, annotator=name)
    return session, session.start().view.id


def _box(uid: str, image_id: int, x: float = 4, **extra: object) -> RegionEdit:
    values: dict[str, object] = {
        "uid": uid,
        "image_id": image_id,
        "region_class": "Lesion",
        "tool": "box",
        "geometry": {"x": x, "y": 5.25, "w": 10, "h": 8},
    }
    values.update(extra)
    return RegionEdit(**values)  # type: ignore[arg-type]


# -- the schema ------------------------------------------------------------------------------


def test_schema_declares_region_classes_beside_labels() -> None:
    schema = LabelSchema.from_mapping(
        {
            "labels": [{"name": "Yes", "key": "1"}],
            "regions": [{"name": "Lesion", "colour": "#E4572E", "tools": ["point", "box"]}],
        }
    )
    (lesion,) = schema.regions
    assert (lesion.name, lesion.colour, lesion.tools) == ("Lesion", "#e4572e", ("box", "point"))
    assert LabelSchema.from_json(schema.to_json()) == schema


def test_a_schema_without_regions_keeps_its_stored_text() -> None:
    plain = LabelSchema.from_mapping({"labels": [{"name": "Yes", "key": "1"}]})
    assert plain.regions == ()
    assert "regions" not in plain.to_json()


def test_every_mistake_in_the_regions_is_named_on_its_own_line() -> None:
    with pytest.raises(ValidationError) as raised:
        LabelSchema.from_mapping(
            {
                "labels": [{"name": "Yes", "key": "1"}],
                "regions": [
                    {"name": "Lesion", "colour": "red", "tools": ["box", "lasso"]},
                    {"name": "Lesion"},
                    {"colour": "#000000"},
                ],
            }
        )
    lines = raised.value.message.splitlines()
    assert lines[0] == "The label schema has 4 mistakes:"
    assert any("colour 'red'" in line for line in lines)
    assert any("'lasso'" in line for line in lines)
    assert any("declared twice" in line for line in lines)
    assert any("Region class 3 needs a non-empty 'name'" in line for line in lines)


def test_a_label_key_that_draws_cannot_be_used_when_regions_are_declared() -> None:
    with pytest.raises(ValidationError, match="draws regions"):
        LabelSchema.from_mapping(
            {"labels": [{"name": "Blurred", "key": "b"}], "regions": [{"name": "Lesion"}]}
        )
    # Without regions the key is free.
    assert LabelSchema.from_mapping({"labels": [{"name": "Blurred", "key": "b"}]}).regions == ()


def test_init_refuses_a_bad_schema_with_one_line_per_mistake(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from clinlabel.cli.app import cli

    schema = tmp_path / "bad.toml"
    schema.write_text(
        '[[labels]]\nname = "Yes"\nkey = "1"\n[[regions]]\nname = "L"\ntools = ["lasso"]\n'
        '[[regions]]\nname = "L"\n'
    )
    batch = make_batch(tmp_path / "Batch")
    result = CliRunner().invoke(
        cli, ["init", str(batch), "--out", str(tmp_path / "p"), "--schema", str(schema)]
    )
    assert result.exit_code == 2, result.output
    assert "'lasso'" in result.output and "declared twice" in result.output
    assert "Traceback" not in result.output


# -- shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "geometry", "reason"),
    [
        ("box", {"x": 60, "y": 0, "w": 10, "h": 4}, "outside the image"),
        ("box", {"x": 1, "y": 1, "w": 0, "h": 4}, "above zero"),
        ("box", {"x": float("nan"), "y": 1, "w": 2, "h": 4}, "finite"),
        ("box", {"x": True, "y": 1, "w": 2, "h": 4}, "not a number"),
        ("polygon", {"points": [[1, 1], [2, 2]]}, "three vertices"),
        ("polygon", {"points": [[1, 1], [2, 2], [3, 3]]}, "no area"),
        ("polygon", {"points": [[1, 1], [2, 2], [-3, 3]]}, "outside"),
        ("point", {"x": 65, "y": 1}, "outside"),
        ("brush", {"width": 64, "height": 48, "rle": [3000]}, "cover 3000 pixels"),
        ("brush", {"width": 32, "height": 48, "rle": [1536]}, "own resolution"),
        ("brush", {"width": 64, "height": 48, "rle": [3072]}, "empty"),
        ("lasso", {}, "Unknown region tool"),
    ],
)
def test_shapes_outside_the_rules_are_refused_with_the_reason(
    tool: str, geometry: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        check_shape(tool, geometry, GRID)


def test_a_polygon_keeps_sub_pixel_vertices_in_image_coordinates() -> None:
    shape = check_shape("polygon", {"points": [[1.25, 2.5], [30.125, 2], [10, 40.0625]]}, GRID)
    assert shape.data == {"points": [[1.25, 2.5], [30.125, 2.0], [10.0, 40.062]]}


def test_one_mask_has_one_encoding_and_one_hash() -> None:
    painted = np.zeros((48, 64), dtype=bool)
    painted[10:20, 5:30] = True
    painted[0, 0] = True
    encoded = mask_from_array(painted)
    assert np.array_equal(mask_to_array(64, 48, encoded["rle"]), painted)
    # The same pixels with empty runs in between hash the same.
    runs = encoded["rle"]
    padded = [runs[0], runs[1], 0, 0, *runs[2:]]
    assert check_shape("brush", {**encoded, "rle": padded}, GRID).sha256 == (
        check_shape("brush", encoded, GRID).sha256
    )


# -- saving, audited -------------------------------------------------------------------------


def test_create_change_delete_and_undo_are_events_and_verify_holds(
    regions_project: Project,
) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    created = editor.save(_box("r1", image_id), extent=GRID, frames=1)
    assert created.region_class == "Lesion" and created.tool == "box"
    moved = editor.save(_box("r1", image_id, x=8), extent=GRID, frames=1)
    assert moved.sha256 != created.sha256
    deleted = editor.delete("r1")
    assert deleted is not None and deleted.sha256 == moved.sha256
    assert editor.regions(image_id) == []
    # Undo of the delete: the page sends the state it had again.
    restored = editor.save(_box("r1", image_id, x=8, undo=True), extent=GRID, frames=1)
    assert restored.sha256 == moved.sha256
    assert [r.uid for r in editor.regions(image_id)] == ["r1"]
    session.close()

    kinds = [e["kind"] for e in read_events(regions_project.dir, limit=50)]
    assert [k for k in kinds if k.startswith("region_")] == [
        "region_created",
        "region_changed",
        "region_deleted",
        "region_created",
    ]
    assert verify_store(regions_project.store).ok


def test_a_retried_save_or_delete_makes_no_second_region_or_event(
    regions_project: Project,
) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    editor.save(_box("r1", image_id), extent=GRID, frames=1)
    editor.save(_box("r1", image_id), extent=GRID, frames=1)
    editor.delete("r1")
    assert editor.delete("r1") is None
    session.close()
    kinds = [e["kind"] for e in read_events(regions_project.dir, limit=50)]
    assert kinds.count("region_created") == 1 and kinds.count("region_deleted") == 1


def test_a_region_follows_its_class_tools_frame_and_owner(regions_project: Project) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    with pytest.raises(ValidationError, match="polygon, brush"):
        editor.save(_box("v1", image_id, region_class="Vessel"), extent=GRID, frames=1)
    with pytest.raises(ValidationError, match="Unknown region class"):
        editor.save(_box("x1", image_id, region_class="Tumour"), extent=GRID, frames=1)
    with pytest.raises(ValidationError, match="no number 3"):
        editor.save(_box("f3", image_id, frame=3), extent=GRID, frames=2)
    with pytest.raises(ValidationError, match="belongs to a slice"):
        editor.save(_box("p0", image_id, plane="axial"), extent=GRID, frames=4)
    with pytest.raises(ValidationError, match="region's id"):
        editor.save(_box("../etc", image_id), extent=GRID, frames=1)
    editor.save(_box("mine", image_id), extent=GRID, frames=1)
    session.close()

    other, _ = _session(regions_project, "Dr B")
    with pytest.raises(ValidationError, match="another image or annotator"):
        RegionEditor(other).save(_box("mine", image_id, x=9), extent=GRID, frames=1)
    with pytest.raises(ValidationError, match="another annotator"):
        RegionEditor(other).delete("mine")
    assert RegionEditor(other).regions(image_id) == []
    other.close()
    assert verify_store(regions_project.store).ok


def test_a_mask_is_kept_at_the_image_resolution(regions_project: Project) -> None:
    session, image_id = _session(regions_project)
    painted = np.zeros((GRID.height, GRID.width), dtype=bool)
    painted[3:9, 2:40] = True
    edit = RegionEdit("m1", image_id, "Vessel", "brush", mask_from_array(painted), frame=0)
    saved = RegionEditor(session).save(edit, extent=GRID, frames=1)
    data = saved.to_dict()["geometry"]
    assert np.array_equal(mask_to_array(data["width"], data["height"], data["rle"]), painted)
    session.close()


# -- tampering -------------------------------------------------------------------------------


def _drawn(tmp_path: Path) -> Path:
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_batch(tmp_path / "Batch")
    init_project(batch, tmp_path / "project", schema_path=schema)
    with open_project(tmp_path / "project") as project:
        session, image_id = _session(project)
        editor = RegionEditor(session)
        editor.save(_box("r1", image_id), extent=GRID, frames=1)
        editor.save(_box("r2", image_id, x=20), extent=GRID, frames=1)
        session.close()
        assert verify_store(project.store).ok
    return tmp_path / "project"


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE regions SET region_class = 'Vessel' WHERE uid = 'r1'"],
        ["UPDATE regions SET comment = 'edited' WHERE uid = 'r2'"],
        ["DELETE FROM regions WHERE uid = 'r1'"],
        # Point r1 at r2's geometry (both kept): the shape moves without an event.
        [
            "UPDATE regions SET geometry_sha256 = "
            "(SELECT geometry_sha256 FROM regions WHERE uid = 'r2') WHERE uid = 'r1'"
        ],
        # Rewrite a kept geometry in place (the attacker drops the append-only trigger first).
        [
            "DROP TRIGGER region_geometries_no_update",
            "UPDATE region_geometries SET geometry = replace(geometry, '\"x\":4.0', '\"x\":5.0')",
        ],
    ],
)
def test_verify_finds_regions_changed_behind_the_trail(
    tmp_path: Path, statements: list[str]
) -> None:
    project_dir = _drawn(tmp_path)
    conn = sqlite3.connect(project_dir / "clinlabel.db")
    try:
        for statement in statements:
            assert conn.execute(statement).rowcount != 0 or statement.startswith("DROP")
        conn.commit()
    finally:
        conn.close()
    with open_project(project_dir) as project:
        status = verify_store(project.store)
    assert not status.ok
    assert status.first_broken_event is not None and status.first_broken_event > 0


def test_kept_geometries_cannot_be_changed_or_deleted(tmp_path: Path) -> None:
    project_dir = _drawn(tmp_path)
    conn = sqlite3.connect(project_dir / "clinlabel.db")
    try:
        for statement in (
            "UPDATE region_geometries SET geometry = '{}'",
            "DELETE FROM region_geometries",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
    finally:
        conn.close()


# -- interpolation between slices -------------------------------------------------------------


def _disc(centre: tuple[int, int], radius: int, shape: tuple[int, int] = (48, 64)) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return np.asarray((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2)


def test_masks_between_two_slices_follow_a_moving_growing_shape() -> None:
    from clinlabel.imaging.mask_interpolation import interpolate_masks

    first, last = _disc((20, 16), 6), _disc((20, 48), 12)
    (middle,) = interpolate_masks(first, last, 1)
    rows, cols = np.nonzero(middle)
    assert abs(cols.mean() - 32) < 1.5 and abs(rows.mean() - 20) < 1.5
    radius = np.sqrt(middle.sum() / np.pi)
    assert 8 <= radius <= 10
    three = interpolate_masks(first, last, 3)
    centres = [np.nonzero(m)[1].mean() for m in three]
    assert centres == sorted(centres)


def test_interpolation_fills_the_slices_between_and_keeps_drawn_ones(
    regions_project: Project,
) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)

    def mask(uid: str, frame: int, centre: tuple[int, int], tool: str = "brush") -> RegionEdit:
        return RegionEdit(
            uid,
            image_id,
            "Vessel",
            tool,
            mask_from_array(_disc(centre, 8)),
            frame=frame,
            plane="axial",
        )

    editor.save(mask("s2", 2, (20, 16)), extent=GRID, frames=10)
    editor.save(mask("s7", 7, (20, 46)), extent=GRID, frames=10)
    editor.save(mask("s4", 4, (30, 30)), extent=GRID, frames=10)  # drawn by hand: kept
    made = editor.interpolate("s7", "s2")
    assert sorted(r.frame for r in made) == [3, 5, 6]
    assert {r.tool for r in made} == {"interpolated"}
    again = editor.interpolate("s2", "s7")  # the same masks again: nothing new
    assert [r.sha256 for r in again] == [r.sha256 for r in made]
    # Editing an interpolated slice with the brush makes it a drawn one: no longer replaced.
    five = next(r for r in made if r.frame == 5)
    editor.save(mask(five.uid, 5, (10, 10)), extent=GRID, frames=10)
    assert sorted(r.frame for r in editor.interpolate("s2", "s7")) == [3, 6]
    with pytest.raises(ValidationError, match="no slice between"):
        editor.save(mask("s8", 8, (20, 46)), extent=GRID, frames=10)
        editor.interpolate("s7", "s8")
    session.close()
    assert verify_store(regions_project.store).ok
    events = read_events(regions_project.dir, limit=100)
    filled = [
        e for e in events if e["kind"] == "region_created" and "interpolated_from" in e["data"]
    ]
    assert len(filled) == 3


def test_a_closed_session_draws_nothing_more(regions_project: Project) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    editor.save(_box("c1", image_id), extent=GRID, frames=1)
    session.close()  # another tab's Finish and export
    with pytest.raises(ValidationError, match="session has ended"):
        editor.save(_box("c2", image_id), extent=GRID, frames=1)
    with pytest.raises(ValidationError, match="session has ended"):
        editor.delete("c1")
    kinds = [e["kind"] for e in read_events(regions_project.dir, limit=50)]
    assert kinds[-1] == "session_closed" and kinds.count("region_created") == 1
