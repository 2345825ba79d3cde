"""Attack: region edits that do not fit together (grids, owners, deleted regions)."""

from __future__ import annotations

import numpy as np
import pytest

from clinlabel.domain.regions import Extent, mask_from_array
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project
from clinlabel.labelling.regions import RegionEdit, RegionEditor

from .test_regions import _box, _session, regions_project  # noqa: F401


def _mask(uid: str, image_id: int, frame: int, width: int, height: int) -> RegionEdit:
    painted = np.zeros((height, width), dtype=bool)
    painted[2:6, 2:6] = True
    return RegionEdit(
        uid, image_id, "Vessel", "brush", mask_from_array(painted), frame=frame, plane="axial"
    )


def test_attack_interpolating_between_masks_of_two_grids_is_refused(
    regions_project: Project,  # noqa: F811
) -> None:
    # Drawn before and after the file was replaced by one of another size.
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    editor.save(_mask("g1", image_id, 1, 64, 48), extent=Extent(64, 48), frames=10)
    editor.save(_mask("g2", image_id, 5, 32, 32), extent=Extent(32, 32), frames=10)
    with pytest.raises(ValidationError, match="grid"):
        editor.interpolate("g1", "g2")


def test_attack_undoing_the_delete_of_a_region_someone_else_deleted_recreates_it_once(
    regions_project: Project,  # noqa: F811
) -> None:
    session, image_id = _session(regions_project)
    editor = RegionEditor(session)
    editor.save(_box("u1", image_id), extent=Extent(64, 48), frames=1)
    # Another tab deletes it; this tab's delete is then a no-op, not an error.
    assert editor.delete("u1") is not None
    assert editor.delete("u1") is None
    # Undo of the delete in both tabs: the second finds the same state and writes nothing.
    first = editor.save(_box("u1", image_id, undo=True), extent=Extent(64, 48), frames=1)
    second = editor.save(_box("u1", image_id, undo=True), extent=Extent(64, 48), frames=1)
    assert first.updated_at == second.updated_at
    assert [r.uid for r in editor.regions(image_id)] == ["u1"]
