"""Projects: creation, refusing the batch as output, rescans noticing new, gone, changed files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clinlabel.errors import (
    DatasetError,
    OutputError,
    ProjectInUseError,
    StoreError,
    ValidationError,
)
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
    labelled.write_bytes(b"\xff\xd8\xff\xe0different bytes now")
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


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_relabel_after_the_bytes_changed_points_at_the_new_bytes(
    tmp_path: Path, batch: Path
) -> None:
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        image = session.start().view
        session.save_label(image.id, "Suspicious")
        path = batch / image.relpath
        path.write_bytes(b"\xff\xd8\xff\xe0retaken photograph")
        os.utime(path, ns=(5, 5))
        assert init_project(batch, tmp_path / "p").changed == [image.relpath]
        relabelled = session.save_label(image.id, "Non-Suspicious")
        assert not relabelled.changed
        with project.store.read() as conn:
            data = [e["data"] for e in event_rows.iter_events(conn) if e["image"] == image.relpath]
        assert json.loads(str(data[-1]))["sha256"] == _sha(path)


def test_an_image_that_comes_back_with_other_bytes_is_flagged(tmp_path: Path, batch: Path) -> None:
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        image = session.start().view
        session.save_label(image.id, "Suspicious")
    path = batch / image.relpath
    original = path.read_bytes()
    path.unlink()
    assert init_project(batch, tmp_path / "p").removed == 1
    path.write_bytes(original + b" but edited")
    back = init_project(batch, tmp_path / "p")
    assert back.returned == 1 and back.changed == [image.relpath]


def test_a_rescan_under_a_long_session_never_returns_another_image(
    tmp_path: Path, batch: Path
) -> None:
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        first = session.start().view
        session.queue(1, 10)
        make_batch(
            batch, {"Case_0/Visit_1/XC": ["img0.jpg"], "Case_1/Visit_1/XC_CLINICAL": ["img0.jpg"]}
        )
        init_project(batch, tmp_path / "p")  # another server's rescan renumbers the queue
        saved = session.save_label(first.id, "NA", "check")
        assert saved.id == first.id and saved.relpath == first.relpath
        assert saved.position == first.position + 2


def test_a_project_is_not_moved_onto_another_batch_while_its_own_is_there(
    tmp_path: Path, batch: Path
) -> None:
    # `init OTHER --out P` with P made for BATCH (a mistyped --out): refused, nothing changed.
    init_project(batch, tmp_path / "p")
    other = tmp_path / "other"
    make_batch(other, {"Case_9/Visit_1/XC": ["a.jpg"]})
    with pytest.raises(ValidationError, match="belongs to the batch") as refused:
        init_project(other, tmp_path / "p")
    assert refused.value.hint is not None and "--new-batch" in refused.value.hint
    with open_project(tmp_path / "p") as project:
        assert project.batch == batch.resolve()
    again = init_project(batch, tmp_path / "p")
    assert (again.new, again.removed) == (0, 0)
    # Said on purpose: the project follows the other folder.
    moved = init_project(other, tmp_path / "p", new_batch=True)
    assert moved.new == 1 and moved.removed == again.total


def test_a_project_follows_its_batch_to_a_new_folder(tmp_path: Path, batch: Path) -> None:
    # The batch was moved (its old folder is gone): the project follows it, labels kept.
    init_project(batch, tmp_path / "p")
    moved = batch.rename(tmp_path / "moved-batch")
    report = init_project(moved, tmp_path / "p")
    assert (report.new, report.removed) == (0, 0)
