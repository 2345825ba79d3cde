"""Ctrl+C after `clinlabel export` has put its files in place and recorded them (while it waits
for the check of the audit trail that runs beside it, or while the project closes): the export
stands, so the command must say so, not "nothing was changed". Before the files are in place
the export still changes nothing (test_interrupt, test_exportfast_interrupt)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clinlabel.labelling import csv_export, outputs
from clinlabel.labelling.project import Project

from .cli_run import run
from .committing import export_events, labelled_project


def _interrupted_check(*_: Any) -> Callable[[], Any]:
    def result() -> Any:
        raise KeyboardInterrupt  # pressed while the export waited for the check

    return result


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_ctrl_c_while_the_quick_export_waits_for_its_check_says_the_csv_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    target = project / "clinical_labels.csv"
    assert csv_export.plan(project, None, force=False) is not None  # the quick path is taken
    monkeypatch.setattr(csv_export, "_check_meanwhile", _interrupted_check)
    result = run("export", project)
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result.stderr)
    assert "nothing was changed" not in result.output and "Traceback" not in result.output
    assert f"the labels CSV at {target} was already saved and recorded in the audit trail" in line
    assert "audit verify" in line  # what did not finish, and how to run it
    assert target.read_text(encoding="utf-8-sig").count("\n") == 3
    assert export_events(project) == 1
    assert run("audit", "verify", project).exit_code == 0


def test_ctrl_c_while_the_detailed_export_waits_for_its_check_says_the_csv_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    target = tmp_path / "out" / "detailed.csv"
    target.parent.mkdir()
    monkeypatch.setattr(outputs, "chain_status_meanwhile", _interrupted_check)
    result = run("export", project, "--csv", target, "--detailed")
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result.stderr)
    assert (
        f"the labels CSV at {target.resolve()} was already saved and recorded in the audit trail"
        in line
    )
    assert "audit verify" in line
    assert target.is_file() and export_events(project) == 1
    assert run("audit", "verify", project).exit_code == 0


def test_ctrl_c_while_the_project_closes_after_an_export_with_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    real_exit = Project.__exit__

    def closing_then_ctrl_c(self: Project, *exc: Any) -> None:
        real_exit(self, *exc)
        raise KeyboardInterrupt  # pressed while the project closed, the export committed

    monkeypatch.setattr(Project, "__exit__", closing_then_ctrl_c)
    result = run("export", project, "--report")
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result.stderr)
    assert "with its summary report was already saved and recorded in the audit trail." in line
    assert "audit verify" not in line  # the report's own check had finished
    assert (project / "clinical_labels_summary.txt").is_file()
    assert export_events(project) == 3  # the CSV, the report, and the finished export


def test_ctrl_c_before_the_export_is_recorded_still_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    real_stage = outputs._stage_csv

    def staged_then_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        real_stage(*args, **kwargs)
        raise KeyboardInterrupt  # the CSV staged, nothing in place or recorded yet

    monkeypatch.setattr(outputs, "_stage_csv", staged_then_ctrl_c)
    result = run("export", project, "--detailed")
    monkeypatch.undo()
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted: nothing was changed."
    assert export_events(project) == 0
    assert not (project / "clinical_labels.csv").exists()
