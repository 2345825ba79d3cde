"""The per-user map of batches to their projects: kept outside the batch, damage is a warning."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from clinlabel.labelling.project import init_project
from clinlabel.labelling.remembered import (
    DATA_DIR_ENV,
    FILE_NAME,
    ProjectMemory,
    user_data_dir,
)


def test_the_data_dir_comes_from_the_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "mine"))
    assert user_data_dir() == tmp_path / "mine"
    assert ProjectMemory().path == tmp_path / "mine" / FILE_NAME


def test_a_batch_is_remembered_with_the_day_its_project_was_chosen(
    batch: Path, tmp_path: Path
) -> None:
    memory = ProjectMemory(tmp_path / "data")
    assert memory.recall(batch) is None
    project = tmp_path / "project"
    init_project(batch, project)
    memory.remember(batch / ".." / batch.name, project)  # any spelling of the same folder
    found = ProjectMemory(tmp_path / "data").recall(batch)
    assert found is not None
    assert found.project_dir == project.resolve() and found.exists
    assert len(found.chosen_on) == 10 and found.chosen_on == found.chosen_at[:10]
    # Choosing it again keeps the day it was first chosen; another one replaces it.
    memory.remember(batch, project)
    assert memory.recall(batch) == found
    other = tmp_path / "other"
    memory.remember(batch, other)
    again = memory.recall(batch)
    assert again is not None and again.project_dir == other.resolve() and not again.exists
    # Written for its owner only, never inside the batch.
    assert stat.S_IMODE(memory.path.stat().st_mode) == 0o600
    assert not any(p.name == FILE_NAME for p in batch.rglob("*"))


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"batches": []}', b"\xff\xfe", b'{"version": 1}']
)
def test_a_damaged_file_is_one_warning_and_is_rewritten(
    batch: Path, tmp_path: Path, content: bytes
) -> None:
    warnings: list[str] = []
    memory = ProjectMemory(tmp_path / "data", warn=warnings.append)
    memory.path.parent.mkdir()
    memory.path.write_bytes(content)
    assert memory.recall(batch) is None
    assert len(warnings) == 1 and "damaged" in warnings[0] and "\n" not in warnings[0]
    memory.remember(batch, tmp_path / "project")
    found = memory.recall(batch)
    assert found is not None and found.project_dir == (tmp_path / "project").resolve()


def test_an_unreadable_file_is_a_warning(batch: Path, tmp_path: Path) -> None:
    warnings: list[str] = []
    memory = ProjectMemory(tmp_path / "data", warn=warnings.append)
    memory.path.mkdir(parents=True)  # a folder where the file should be: cannot be read
    assert memory.recall(batch) is None
    assert len(warnings) == 1 and "Cannot read" in warnings[0]


def test_a_data_dir_that_cannot_be_written_is_a_warning(batch: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    warnings: list[str] = []
    ProjectMemory(blocker / "data", warn=warnings.append).remember(batch, tmp_path / "p")
    assert len(warnings) == 1 and str(blocker) in warnings[0]


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 200_000,  # nested past Python's recursion limit, still under the size cap
        b'{"batches": {"%s": {"project": "a\\u0000b", "chosen_at": "2026-01-01"}}}',
        b'{"batches": {"%s": {"project": "relative/folder", "chosen_at": "2026-01-01"}}}',
    ],
)
def test_attack_a_hostile_memory_file_is_never_a_traceback(
    batch: Path, tmp_path: Path, content: bytes
) -> None:
    warnings: list[str] = []
    memory = ProjectMemory(tmp_path / "data", warn=warnings.append)
    memory.path.parent.mkdir()
    memory.path.write_bytes(content.replace(b"%s", str(batch.resolve()).encode()))
    found = memory.recall(batch)
    # Not a project folder anyone chose: nothing to reopen, and asking whether it exists is safe.
    assert found is None or not found.exists
    memory.remember(batch, tmp_path / "project")
    again = memory.recall(batch)
    assert again is not None and again.project_dir == (tmp_path / "project").resolve()


def test_attack_a_symlinked_memory_file_is_replaced_not_written_through(
    batch: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "someone-elses.json"
    elsewhere.write_text('{"version": 1, "batches": {}}\n')
    memory = ProjectMemory(tmp_path / "data")
    memory.path.parent.mkdir()
    memory.path.symlink_to(elsewhere)
    memory.remember(batch, tmp_path / "project")
    assert elsewhere.read_text() == '{"version": 1, "batches": {}}\n'
    assert not memory.path.is_symlink()
    assert memory.recall(batch) is not None


def test_attack_two_servers_remembering_at_once_keep_both_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "b1", tmp_path / "b2"
    first.mkdir()
    second.mkdir()
    one = ProjectMemory(tmp_path / "data")
    other = ProjectMemory(tmp_path / "data")
    real_read = ProjectMemory._read
    writer = threading.Thread(target=other.remember, args=(second, tmp_path / "p2"))

    def read_then_other_writes(self: ProjectMemory) -> dict[str, object]:
        seen = real_read(self)
        if self is one and not writer.is_alive() and writer.ident is None:
            # The other server tries to write its batch between this one's read and its write;
            # given the chance (join's wait), it would finish first and be overwritten.
            writer.start()
            writer.join(timeout=1.0)
        return seen

    monkeypatch.setattr(ProjectMemory, "_read", read_then_other_writes)
    one.remember(first, tmp_path / "p1")
    writer.join()
    monkeypatch.setattr(ProjectMemory, "_read", real_read)
    fresh = ProjectMemory(tmp_path / "data")
    assert fresh.recall(first) is not None
    assert fresh.recall(second) is not None


def test_attack_a_data_dir_without_file_locks_still_remembers(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    warnings: list[str] = []
    memory = ProjectMemory(tmp_path / "data", warn=warnings.append)
    memory.remember(batch, tmp_path / "project")
    assert warnings == []
    found = ProjectMemory(tmp_path / "data").recall(batch)
    assert found is not None and found.project_dir == (tmp_path / "project").resolve()
