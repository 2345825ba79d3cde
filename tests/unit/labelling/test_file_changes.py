"""A label points at the bytes in the batch when it was given: bytes replaced under a running
session are hashed anew and flagged, a file gone since it was shown is refused, and a file that
became a link out of the batch is never read (issue 9, part 2)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.errors import ImageFileError
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows


def _events(project: Project, kind: str) -> list[dict[str, object]]:
    with project.store.read() as conn:
        return [e for e in event_rows.iter_events(conn) if e["kind"] == kind]


def _replace_keeping_size_and_time(path: Path) -> bytes:
    """Other bytes of the same length, with the old modification time put back."""
    info = path.stat()
    old = path.read_bytes()
    new = old[:8] + bytes(reversed(old[8:]))  # still starts as its format's signature
    assert new != path.read_bytes() and len(new) == info.st_size
    path.write_bytes(new)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    return new


def test_bytes_replaced_under_a_session_are_hashed_again_and_flagged(
    project: Project,
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious")
    path = project.batch / image.relpath
    new = _replace_keeping_size_and_time(path)
    relabelled = session.save_label(image.id, "Non-Suspicious")
    assert relabelled.changed
    saved = json.loads(str(_events(project, "label_changed")[-1]["data"]))
    assert saved["sha256"] == hashlib.sha256(new).hexdigest()
    flagged = _events(project, "image_changed")
    assert [e["image"] for e in flagged] == [image.relpath]
    assert json.loads(str(flagged[0]["data"]))["new_sha256"] == saved["sha256"]
    assert verify_store(project.store).ok


def test_the_same_label_on_new_bytes_is_still_recorded(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    session.save_label(image.id, "Suspicious")
    new = _replace_keeping_size_and_time(project.batch / image.relpath)
    session.save_label(image.id, "Suspicious")
    data = json.loads(str(_events(project, "label_changed")[-1]["data"]))
    assert data["sha256"] == hashlib.sha256(new).hexdigest()
    assert verify_store(project.store).ok


def test_init_verify_hashes_and_finds_bytes_changed_with_size_and_time_kept(
    tmp_path: Path,
) -> None:
    from PIL import Image

    batch = tmp_path / "Real"
    folder = batch / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for name in ("a.bmp", "b.bmp"):  # uncompressed: one changed pixel keeps the size
        Image.new("RGB", (8, 8), (10, 20, 30)).save(folder / name)
    init_project(batch, tmp_path / "p")
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        image = session.start().view
        session.save_label(image.id, "Suspicious")
        session.close()
    path = batch / image.relpath
    info = path.stat()
    pixels = bytearray(path.read_bytes())
    pixels[-1] ^= 0xFF
    path.write_bytes(bytes(pixels))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert init_project(batch, tmp_path / "p").changed == []  # size and time say nothing
    assert init_project(batch, tmp_path / "p", verify=True).changed == [image.relpath]
    with open_project(tmp_path / "p") as project:
        assert LabellingSession(project, annotator="Dr A").image(image.id).changed


def test_a_file_deleted_while_shown_is_refused_and_nothing_is_saved(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    (project.batch / image.relpath).unlink()
    with pytest.raises(ImageFileError, match="no longer in the batch"):
        session.save_label(image.id, "Suspicious")
    with pytest.raises(ImageFileError):
        session.image_path(image.id)
    assert session.image(image.id).label is None
    assert _events(project, "label_saved") == []


def test_a_file_replaced_by_a_link_out_of_the_batch_is_never_read(
    project: Project, tmp_path: Path
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    secret = tmp_path / "outside" / "secret.jpg"
    secret.parent.mkdir()
    secret.write_bytes(b"not part of the batch")
    path = project.batch / image.relpath
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(ImageFileError, match="outside the batch"):
        session.image_path(image.id)
    with pytest.raises(ImageFileError, match="outside the batch"):
        session.save_label(image.id, "Suspicious")
    assert _events(project, "label_saved") == []
    # A rescan does not hash it either: the labelled bytes are simply no longer there.
    with project.store.read() as conn:
        assert (
            conn.exec_driver_sql(f"SELECT sha256 FROM images WHERE id = {image.id}").scalar()
            is None
        )


def test_a_link_that_stays_inside_the_batch_is_followed(project: Project) -> None:
    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    second = session.next().view
    target = project.batch / second.relpath
    path = project.batch / first.relpath
    path.unlink()
    path.symlink_to(target)
    assert session.image_path(first.id) == target.resolve()
    assert session.save_label(first.id, "Suspicious").label == "Suspicious"


def test_frames_of_one_file_are_hashed_once_until_the_file_changes(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinlabel.labelling import service

    reads: list[Path] = []
    real = service.file_sha256

    def counting(path: Path) -> str | None:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(service, "file_sha256", counting)
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    for frame in (1, 2, 3):
        session.save_label(image.id, "Suspicious", frame=frame)
    assert len(reads) == 1
    _replace_keeping_size_and_time(project.batch / image.relpath)  # its change time moves
    session.save_label(image.id, "Non-Suspicious", frame=4)
    assert len(reads) == 2
