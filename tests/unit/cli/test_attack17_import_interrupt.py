"""Ctrl+C after an import's labels are committed (while the project closes, say: its last WAL
checkpoint): the import is saved, so the command must not say that nothing was changed. A user
told so would believe the file was not imported; it was, whole."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinlabel.labelling import importer
from clinlabel.labelling.project import Project, init_project
from clinlabel.store.store import Store

from .cli_run import run, two_case_batch
from .interrupting import SRC

_ONE_ROW = "case,visit,file,label,comment\nCase_1,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,\n"


def _project_and_table(tmp_path: Path, rows: str = _ONE_ROW) -> tuple[Path, Path]:
    """A project of the two-case batch, and a labels CSV of `rows` for it."""
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    init_project(batch, project)
    table = tmp_path / "in.csv"
    table.write_text(rows, encoding="utf-8")
    return project, table


def test_ctrl_c_after_the_commit_says_the_import_was_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, table = _project_and_table(
        tmp_path, _ONE_ROW + "Case_2,Visit_1,XC_CLINICAL/img2.jpg,NA,blurred\n"
    )
    real_exit = Project.__exit__

    def closing_then_ctrl_c(self: Project, *exc: Any) -> None:
        real_exit(self, *exc)
        raise KeyboardInterrupt  # pressed while the project closed, the labels committed

    monkeypatch.setattr(Project, "__exit__", closing_then_ctrl_c)
    result = run("import", project, "--csv", table, "--annotator", "Dr A")
    monkeypatch.undo()
    with sqlite3.connect(project / "clinlabel.db") as db:
        stored = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    assert stored == 2
    assert result.exit_code == 130
    assert "nothing was changed" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0] == (
        "clinlabel: interrupted, but the import of 2 labels for Dr A was already saved and "
        "recorded in the audit trail."
    )
    # What was saved, as an import that was not interrupted says it.
    assert "Imported 2 labels for Dr A (0 already the same)." in result.stdout


def test_ctrl_c_during_the_commit_says_the_import_was_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite (or PostgreSQL) runs the commit in C: a Ctrl+C pressed meanwhile is raised when it
    returns, the labels written. The import must find its event committed and say so."""
    project, table = _project_and_table(tmp_path)
    real_write = Store.write

    @contextlib.contextmanager
    def write_then_ctrl_c(self: Store) -> Iterator[Any]:
        with real_write(self) as conn:
            yield conn
            labelled = conn.exec_driver_sql("SELECT count(*) FROM labels").scalar_one()
        if labelled:
            raise KeyboardInterrupt  # the commit returned, then the signal's handler ran

    monkeypatch.setattr(Store, "write", write_then_ctrl_c)
    result = run("import", project, "--csv", table, "--annotator", "Dr A")
    monkeypatch.undo()
    with sqlite3.connect(project / "clinlabel.db") as db:
        assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 1
    assert result.exit_code == 130
    assert "nothing was changed" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "1 labels" in lines[0] and "saved" in lines[0]
    assert "Imported 1 labels for Dr A" in result.stdout


def test_ctrl_c_before_the_commit_still_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, table = _project_and_table(tmp_path)
    real_append = importer.append_event

    def append_then_ctrl_c(conn: Any, event: Any) -> int:
        real_append(conn, event)
        raise KeyboardInterrupt  # the import's last statement written, not committed

    monkeypatch.setattr(importer, "append_event", append_then_ctrl_c)
    result = run("import", project, "--csv", table, "--annotator", "Dr A")
    monkeypatch.undo()
    with sqlite3.connect(project / "clinlabel.db") as db:
        assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted: nothing was changed."


_CLOSE_INTERRUPTED = """
import sys
from sqlalchemy.engine.default import DefaultDialect
import clinlabel.labelling.importer as importer

done = []
real_import, real_close = importer.import_labels, DefaultDialect.do_close

def import_labels(*args, **kwargs):
    report = real_import(*args, **kwargs)
    done.append(1)
    return report

def do_close(self, connection):
    real_close(self, connection)
    if done == [1]:
        done.append(2)
        raise KeyboardInterrupt  # Ctrl+C while the last connection closes

importer.import_labels, DefaultDialect.do_close = import_labels, do_close
from clinlabel.cli.app import main
sys.argv = ["clinlabel", *sys.argv[1:]]
main()
"""


def test_ctrl_c_while_the_database_closes_prints_no_traceback(tmp_path: Path) -> None:
    """Closing SQLite's last connection checkpoints the WAL (long after a large import): a
    Ctrl+C then came out of the connection pool as a logged traceback before the message."""
    project, table = _project_and_table(tmp_path)
    env = {**os.environ, "PYTHONPATH": SRC}
    result = subprocess.run(
        [sys.executable, "-c", _CLOSE_INTERRUPTED, "import", str(project), "--csv", str(table),
         "--annotator", "Dr A"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 130
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "saved" in lines[0], result.stderr
