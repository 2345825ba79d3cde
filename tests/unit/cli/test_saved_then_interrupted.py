"""Ctrl+C once a command's change is committed says what was saved, not "nothing was changed".

SQLite and psycopg commit in C: a Ctrl+C pressed during the commit is raised once the commit
has returned, the change saved. It is simulated here by raising KeyboardInterrupt right after
the write transaction that appended the command's event has committed (and, for the contrary,
right before it commits: then nothing was changed, and the command must still say so). The
command is told by its own event, looked for in the project after the interruption.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli import project as project_cli
from clinlabel.cli.app import cli
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.store.store import Store

from .cli_run import run, two_case_batch
from .committing import ctrl_c_at_the_commit

PASSWORD = "a long enough password"
IMAGE = "Case_2/Visit_1/XC_CLINICAL/img1.jpg"
UNCHANGED = "Interrupted: nothing was changed."


def _invoke(args: list[object], stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, catch_exceptions=False)


def _events(project: Path, kind: str) -> int:
    with contextlib.closing(sqlite3.connect(project / "clinlabel.db")) as db:
        found = db.execute("SELECT count(*) FROM events WHERE kind = ?", (kind,))
        return int(found.fetchone()[0])


def _one_line(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, Path]:
    """A project of the two-case batch with two readers' accounts and their disagreeing labels;
    and its batch."""
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    init_project(batch, project)
    with open_project(project) as opened:
        for name in ("Dr A", "Dr B"):
            Accounts(opened.store).add(name, Role.ANNOTATOR, PASSWORD, actor="test")
    for reader, label in (("Dr A", "Suspicious"), ("Dr B", "Non-Suspicious")):
        table = tmp_path / f"{reader}.csv"
        table.write_text(
            f"case,visit,file,label,comment\nCase_2,Visit_1,XC_CLINICAL/img1.jpg,{label},\n"
        )
        assert run("import", project, "--csv", table, "--annotator", reader).exit_code == 0
    return project, batch


@dataclass(frozen=True)
class Command:
    args: list[object]
    kind: str
    """The kind of the event the command appends."""
    saved: str
    """What the line says was saved."""
    stdin: str | None = None


def _command(name: str, project: Path, batch: Path) -> Command:
    return {
        "init (rescan)": Command(
            ["init", batch, "--out", project],
            "batch_scanned",
            f"the scan of the batch {batch.resolve()} into the project {project.resolve()}",
        ),
        "study assign": Command(
            ["study", "assign", project, "--readers", "Dr A, Dr B", "--per-image", "2"],
            "study_assigned",
            "the study's worklists for Dr A, Dr B",
        ),
        "users add": Command(
            ["users", "add", project, "carol", "--role", "reviewer", "--password-stdin"],
            "user_added",
            "the new user carol (reviewer)",
            stdin=PASSWORD + "\n",
        ),
        "users disable": Command(
            ["users", "disable", project, "Dr B"], "user_disabled", "the disabling of the user Dr B"
        ),
        "users role": Command(
            ["users", "role", project, "Dr A", "admin"],
            "role_changed",
            "the new role of the user Dr A (admin)",
        ),
        "adjudicate": Command(
            ["adjudicate", project, "--image", IMAGE, "--label", "Suspicious", "--reason", "2x"],
            "image_adjudicated",
            f"the final label Suspicious of {IMAGE}",
        ),
    }[name]


COMMANDS = ["init (rescan)", "study assign", "users add", "users disable", "users role",
            "adjudicate"]  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_ctrl_c_as_the_commit_returns_says_what_was_saved(
    team: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    project, batch = team
    command = _command(name, project, batch)
    before = _events(project, command.kind)
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = _invoke(command.args, command.stdin)
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    line = _one_line(result)
    assert "nothing was changed" not in line
    assert line.startswith(f"clinlabel: interrupted, but {command.saved}"), line
    assert "was already saved and recorded in the audit trail" in line
    assert _events(project, command.kind) == before + 1
    assert run("audit", "verify", project).exit_code == 0


@pytest.mark.parametrize("name", COMMANDS)
def test_ctrl_c_before_the_commit_still_changes_nothing_and_says_so(
    team: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    project, batch = team
    command = _command(name, project, batch)
    before = _events(project, command.kind)
    ctrl_c_at_the_commit(monkeypatch, landed=False)
    result = _invoke(command.args, command.stdin)
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    assert _one_line(result) == UNCHANGED
    assert _events(project, command.kind) == before


@pytest.mark.parametrize("name", ["study assign", "users add", "users role", "adjudicate"])
def test_ctrl_c_while_the_project_closes_says_what_was_saved(
    team: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    project, batch = team
    command = _command(name, project, batch)
    before = _events(project, command.kind)
    real_exit = Project.__exit__

    def closing_then_ctrl_c(self: Project, *exc: Any) -> None:
        real_exit(self, *exc)
        raise KeyboardInterrupt  # pressed while the project closed (its last WAL checkpoint)

    monkeypatch.setattr(Project, "__exit__", closing_then_ctrl_c)
    result = _invoke(command.args, command.stdin)
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    line = _one_line(result)
    assert line.startswith(f"clinlabel: interrupted, but {command.saved}"), line
    assert _events(project, command.kind) == before + 1


def test_a_first_init_interrupted_as_its_commit_returns_makes_no_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first init interrupted at any point leaves no project (its files are removed): then
    "nothing was changed" is the truth, also once its scan had committed."""
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = run("init", batch, "--out", project)
    monkeypatch.undo()
    assert result.exit_code == 130
    assert _one_line(result) == UNCHANGED
    assert not project.exists()


def test_ctrl_c_while_init_prints_its_outcome_says_the_project_was_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"

    def ctrl_c(*_: Any) -> None:
        raise KeyboardInterrupt  # pressed as the counts were printed

    monkeypatch.setattr(project_cli, "_echo_init", ctrl_c)
    made = run("init", batch, "--out", project)
    rescanned = run("init", batch, "--out", project)
    monkeypatch.undo()
    assert made.exit_code == rescanned.exit_code == 130
    assert _one_line(made).startswith(
        f"clinlabel: interrupted, but the new project {project.resolve()} was already saved"
    )
    assert _one_line(rescanned).startswith(
        f"clinlabel: interrupted, but the scan of the batch into the project {project.resolve()} "
        "was already saved"
    )
    assert _events(project, "batch_scanned") == 2
    assert run("audit", "verify", project).exit_code == 0


def test_ctrl_c_as_a_rescan_closes_the_database_says_the_scan_was_saved(
    team: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing SQLite's last connection runs its WAL checkpoint (long after a large rescan)."""
    project, batch = team
    before = _events(project, "batch_scanned")
    real_close = Store.close

    def close_then_ctrl_c(self: Store) -> None:
        real_close(self)
        if _events(project, "batch_scanned") > before:
            raise KeyboardInterrupt  # pressed as the store closed, the scan committed

    monkeypatch.setattr(Store, "close", close_then_ctrl_c)
    result = run("init", batch, "--out", project)
    monkeypatch.undo()
    assert result.exit_code == 130
    assert _one_line(result).startswith(
        f"clinlabel: interrupted, but the scan of the batch {batch.resolve()} into the project "
        f"{project.resolve()} was already saved"
    )
    assert _events(project, "batch_scanned") == before + 1
