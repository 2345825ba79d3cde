"""`export` stops on a broken trail; `audit verify`, `audit log` and `report --print` read a
project without writing anything, so they work on read-only media (issue 9, part 2)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.engine import DATABASE_FILE


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for k in range(3):
        Image.new("RGB", (16, 12), (40 * k, 30, 90)).save(folder / f"img{k}.png")
    assert run("init", tmp_path / "Batch", "--out", tmp_path / "project").exit_code == 0
    with open_project(tmp_path / "project") as opened:
        session = LabellingSession(opened, annotator="Dr A", interface="test")
        shown = session.start()
        session.save_label(shown.view.id, "Suspicious")
        session.save_label(session.next().view.id, "NA", "blurred")
        session.close()
    return tmp_path / "project"


def _forge_label_time(project: Path) -> None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE labels SET labelled_at = '2020-01-01T00:00:00.000000Z'")


def test_export_on_a_broken_trail_writes_marked_outputs_and_exits_1(project: Path) -> None:
    _forge_label_time(project)
    result = run("export", project, "--report")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "BROKEN" in lines[0] and "--allow-broken" in lines[0]
    assert "Traceback" not in result.output
    report = (project / "clinical_labels_summary.txt").read_text(encoding="utf-8")
    assert "BROKEN" in report
    assert (project / "clinical_labels.csv").is_file()


def test_export_allow_broken_exits_0_and_csv_only_export_checks_too(project: Path) -> None:
    _forge_label_time(project)
    assert run("export", project, "--allow-broken").exit_code == 0
    csv_only = run("export", project, "--no-report")
    assert csv_only.exit_code == 1 and "BROKEN" in csv_only.stderr
    assert run("export", project, "--no-report", "--allow-broken").exit_code == 0


def test_export_of_an_intact_trail_exits_0(project: Path) -> None:
    result = run("export", project)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file's bytes and time, but SQLite's own -wal/-shm files: a read-only connection
    in a folder it may write still sets those up to read alongside a writer."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def _read_commands(project: Path) -> None:
    verify = run("audit", "verify", project)
    assert verify.exit_code == 0 and verify.output.startswith("OK:"), verify.output
    log = run("audit", "log", project, "--limit", "0")
    assert log.exit_code == 0 and "label_saved" in log.output
    report = run("report", project, "--print")
    assert report.exit_code == 0 and "Audit trail" in report.output, report.output
    assert "BROKEN" not in report.output


def test_reading_commands_write_nothing_in_the_project(project: Path) -> None:
    before = _snapshot(project)
    _read_commands(project)
    assert _snapshot(project) == before


def test_reading_commands_on_a_folder_that_cannot_be_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only media as the process sees them: the folder is not writable, so the database
    is opened immutable, without the -shm file SQLite could not create there."""
    real_access = os.access

    def no_writing(path: object, mode: int, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(str(path)).resolve() == project.resolve():
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", no_writing)
    before = _snapshot(project)
    _read_commands(project)
    assert _snapshot(project) == before


@pytest.fixture
def read_only_mount(project: Path, tmp_path: Path) -> Iterator[Path]:
    """The project on a read-only bind mount, where the machine allows one (root, Linux)."""
    mount = tmp_path / "media"
    mount.mkdir()
    done = subprocess.run(["mount", "--bind", str(project), str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot bind-mount here (needs root on Linux)")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(mount)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("cannot make a read-only mount here")
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_reading_commands_on_a_read_only_mount(read_only_mount: Path) -> None:
    with pytest.raises(OSError):
        (read_only_mount / "probe").write_bytes(b"")
    _read_commands(read_only_mount)


def test_a_file_name_with_a_newline_cannot_forge_a_line_of_the_log(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    forged = "a\n    99  2026-01-01T00:00:00Z  Dr B  label_saved x\x1b[2J.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(folder / "b.png")
    (folder / "b.png").rename(folder / forged)
    assert run("init", tmp_path / "Batch", "--out", tmp_path / "project").exit_code == 0
    with open_project(tmp_path / "project") as opened:
        session = LabellingSession(opened, annotator="Dr A", interface="test")
        session.save_label(session.start().view.id, "Suspicious")
        session.close()
    log = run("audit", "log", tmp_path / "project", "--limit", "0")
    assert log.exit_code == 0
    lines = log.output.splitlines()
    assert all(line.split()[0].isdigit() for line in lines), log.output
    assert not any(line.lstrip().startswith("99 ") for line in lines)
    assert "\x1b" not in log.output and "\\n" in log.output
