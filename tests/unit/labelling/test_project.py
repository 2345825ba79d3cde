"""Projects: creation, refusing the batch as output, rescans noticing new, gone, changed files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clinlabel.errors import DatasetError, OutputError, ProjectInUseError, StoreError
from clinlabel.labelling.project import ProjectLock, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows

from .conftest import make_batch


def test_project_inside_the_batch_is_refused_and_nothing_written(batch: Path) -> None:
    before = sorted(p.as_posix() for p in batch.rglob("*"))
    with pytest.raises(OutputError, match="inside the batch"):
        init_project(batch, batch / "Case_1" / "out")
    with pytest.raises(OutputError, match="inside the batch"):
        init_project(batch, batch)
    assert sorted(p.as_posix() for p in batch.rglob("*")) == before


def test_missing_batch_and_batch_without_xc_folders(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        init_project(tmp_path / "nope", tmp_path / "p")
    (tmp_path / "flat" / "Case_1" / "Visit_1" / "photos").mkdir(parents=True)
    (tmp_path / "flat" / "Case_1" / "Visit_1" / "photos" / "x.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="XC"):
        init_project(tmp_path / "flat", tmp_path / "p2")


def test_not_a_project_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a clinlabel project"):
        open_project(tmp_path)


def test_rescan_adds_new_keeps_gone_and_flags_changed_labels(
    tmp_path: Path, batch: Path, database_url: str | None
) -> None:
    out = tmp_path / "project"
    first = init_project(batch, out, database_url=database_url)
    assert first.created and first.total == 6
    with open_project(out) as project:
        session = LabellingSession(project, annotator="Dr A")
        shown = session.start()
        session.save_label(shown.view.id, "Suspicious")
        session.close()
    labelled = batch / shown.view.relpath
    labelled.write_bytes(b"different bytes now")
    os.utime(labelled, ns=(1, 1))
    (batch / "Case_2/Visit_1/XC/b.png").unlink()
    make_batch(batch, {"Case_10/Visit_1/XC": ["new.jpg"], "Case_2/Visit_1/XC": ["c.png"]})

    again = init_project(batch, out)
    assert not again.created
    assert (again.total, again.new, again.removed) == (7, 2, 1)
    assert again.changed == [shown.view.relpath]
    with open_project(out) as project:
        session = LabellingSession(project, annotator="Dr A")
        session.start()
        views = session.queue(1, 10)
        assert [v.relpath for v in views][-1] == "Case_10/Visit_1/XC/new.jpg"  # natural order
        kept = views[0]
        assert kept.label == "Suspicious" and kept.changed
        with project.store.read() as conn:
            kinds = [e["kind"] for e in event_rows.iter_events(conn)]
        assert "image_changed" in kinds
        scans = [e for e in kinds if e == "batch_scanned"]
        assert len(scans) == 2


def test_second_server_on_the_same_project_is_told_it_is_in_use(tmp_path: Path) -> None:
    with (
        ProjectLock(tmp_path),
        pytest.raises(ProjectInUseError, match="in use"),
        ProjectLock(tmp_path),
    ):
        pass
    with ProjectLock(tmp_path):  # released with the first holder
        pass


def test_no_rescan_under_a_running_server(tmp_path: Path, batch: Path) -> None:
    init_project(batch, tmp_path / "p")
    with ProjectLock(tmp_path / "p"), pytest.raises(ProjectInUseError):
        init_project(batch, tmp_path / "p")


def test_custom_label_schema(tmp_path: Path, batch: Path) -> None:
    schema = tmp_path / "labels.toml"
    schema.write_text(
        '[[labels]]\nname = "Melanoma"\nkey = "m"\n\n'
        '[[labels]]\nname = "Benign"\nkey = "b"\n\n'
        '[[labels]]\nname = "Unsure"\nkey = "u"\nrequires_comment = true\n',
        encoding="utf-8",
    )
    init_project(batch, tmp_path / "p", schema_path=schema)
    with open_project(tmp_path / "p") as project:
        assert project.schema.names == ("Melanoma", "Benign", "Unsure")
        assert [d.key for d in project.schema.labels] == ["m", "b", "u"]
        assert json.loads(project.schema.to_json())["labels"][2]["requires_comment"] is True
