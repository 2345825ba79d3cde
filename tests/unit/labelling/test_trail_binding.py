"""The audit trail binds every value an export reads: the image a label belongs to (its path,
case, visit and file), the label, comment, annotator, time and SHA-256 (issue 9, part 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.errors import StoreError
from clinlabel.labelling.outputs import export_csv
from clinlabel.labelling.project import Project
from clinlabel.store import events as event_rows

from .conftest import label_two


def _tamper(project: Project, *statements: str) -> None:
    """What someone with the database file (or a server login) can do: drop our trigger."""
    with project.store.write() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _drop_identity_trigger(project: Project) -> str:
    if project.store.dialect == "postgresql":
        return "DROP TRIGGER images_identity_fixed ON images"
    return "DROP TRIGGER images_identity_fixed"


def test_label_events_record_the_image_path_hash_and_frame(project: Project) -> None:
    first, _ = label_two(project)
    with project.store.read() as conn:
        saved = [e for e in event_rows.iter_events(conn) if e["kind"] == "label_saved"]
    event = saved[0]
    assert event["image_id"] == first and event["image"] == "Case_1/Visit_1/XC_CLINICAL/img1.jpg"
    assert event["frame"] == 0
    assert len(json.loads(str(event["data"]))["sha256"]) == 64
    assert verify_store(project.store).ok


def test_the_identity_of_an_image_cannot_be_updated(project: Project) -> None:
    label_two(project)
    for column in ("relpath", "case_name", "visit", "folder", "file", "kind"):
        with pytest.raises(StoreError, match="identity of an image"):
            _tamper(project, f"UPDATE images SET {column} = 'x' WHERE id = 1")
    # What a rescan changes (position, size, time, presence) is still allowed.
    _tamper(project, "UPDATE images SET size = size + 1, seq = seq WHERE id = 1")


def test_swapping_two_labelled_images_rows_is_a_break(project: Project, tmp_path: Path) -> None:
    first, second = label_two(project)
    assert verify_store(project.store).ok
    columns = ("relpath", "case_name", "visit", "folder", "file")
    with project.store.read() as conn:
        rows = {
            int(r[0]): tuple(r[1:])
            for r in conn.exec_driver_sql(
                f"SELECT id, {', '.join(columns)} FROM images WHERE id IN ({first}, {second})"
            )
        }

    def assign(values: tuple[str, ...]) -> str:
        return ", ".join(f"{c} = '{v}'" for c, v in zip(columns, values, strict=True))

    _tamper(
        project,
        _drop_identity_trigger(project),
        f"UPDATE images SET relpath = 'parked' WHERE id = {first}",  # relpath is unique
        f"UPDATE images SET {assign(rows[first])} WHERE id = {second}",
        f"UPDATE images SET {assign(rows[second])} WHERE id = {first}",
    )
    status = verify_store(project.store)
    assert not status.ok
    assert status.reason is not None and "image path" in status.reason
    # The export would carry each label onto the other image: verify is what tells.
    out = tmp_path / "labels.csv"
    export_csv(project, out, actor="t")
    assert "XC_CLINICAL/img2.jpg,Suspicious" in out.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE labels SET sha256 = '" + "0" * 64 + "'",
        "UPDATE labels SET labelled_at = '2020-01-01T00:00:00.000000Z'",
        "UPDATE labels SET comment = 'forged' WHERE label = 'NA'",
        "UPDATE labels SET sha256 = NULL",
    ],
)
def test_edited_hash_time_or_comment_of_a_label_is_a_break(project: Project, edit: str) -> None:
    label_two(project)
    _tamper(project, edit)
    status = verify_store(project.store)
    assert not status.ok and status.first_broken_event is not None


def test_an_image_row_whose_case_disagrees_with_its_path_is_a_break(project: Project) -> None:
    first, _ = label_two(project)
    _tamper(
        project,
        _drop_identity_trigger(project),
        f"UPDATE images SET case_name = 'Case_2' WHERE id = {first}",
    )
    assert not verify_store(project.store).ok
