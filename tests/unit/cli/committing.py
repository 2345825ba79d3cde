"""A Ctrl+C at a command's commit, simulated: SQLite and psycopg commit in C, so a Ctrl+C
pressed during the commit is raised once the commit has returned (the change saved)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from clinlabel.store.store import Store


def _events(conn: Any) -> int:
    if not inspect(conn).has_table("events"):
        return 0  # a new project's first write: its schema
    return int(conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one())


def ctrl_c_at_the_commit(monkeypatch: pytest.MonkeyPatch, *, landed: bool) -> None:
    """KeyboardInterrupt once, at the commit of the first write that appends an event: right
    after it returns (`landed`), or right before it (the transaction then rolls back)."""
    real_write = Store.write
    fired: list[bool] = []

    @contextlib.contextmanager
    def write(self: Store) -> Iterator[Any]:
        with real_write(self) as conn:
            before = _events(conn)
            yield conn
            appended = _events(conn) > before and not fired
            if appended and not landed:
                fired.append(True)
                raise KeyboardInterrupt  # the last statement written, the commit not begun
        if appended and landed:
            fired.append(True)
            raise KeyboardInterrupt  # the commit returned, then the signal's handler ran

    monkeypatch.setattr(Store, "write", write)


def labelled_project(tmp_path: Path) -> Path:
    """A project of `two_case_batch` with Dr A's two labels, imported from a CSV."""
    from clinlabel.labelling.project import init_project

    from .cli_run import run, two_case_batch

    project = tmp_path / "project"
    init_project(two_case_batch(tmp_path / "Batch"), project)
    table = tmp_path / "in.csv"
    table.write_text(
        "case,visit,file,label,comment\n"
        "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,\n"
        "Case_2,Visit_1,XC_CLINICAL/img2.jpg,NA,blurred\n",
        encoding="utf-8",
    )
    assert run("import", project, "--csv", table, "--annotator", "Dr A").exit_code == 0
    return project


def export_events(project: Path) -> int:
    """How many `export_written` events the project's trail holds."""
    with contextlib.closing(sqlite3.connect(project / "clinlabel.db")) as db:
        found = db.execute("SELECT count(*) FROM events WHERE kind = 'export_written'")
        return int(found.fetchone()[0])
