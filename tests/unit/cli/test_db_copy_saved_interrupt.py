"""Ctrl+C raised as `clinlabel db copy`'s commit on PostgreSQL returns (psycopg commits in C):
the verified copy is in the target, so the command says so, and that the project still uses
its SQLite file (the switch did not happen). Before the commit the target is left empty and
the command says nothing was changed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from clinlabel.labelling.project import init_project
from clinlabel.store import copy as copy_rows
from clinlabel.store.store import Store
from clinlabel.store.urls import masked_url

from .cli_run import run, two_case_batch
from .committing import ctrl_c_at_the_commit

pytestmark = pytest.mark.postgres


def _rows_in(url: str) -> list[str]:
    store = Store.open_url(url)
    try:
        with store.read() as conn:
            return copy_rows.non_empty(conn)
    finally:
        store.close()


def _uses(project: Path) -> str | None:
    settings = project / "project.toml"
    if not settings.is_file():
        return None
    found = tomllib.loads(settings.read_text(encoding="utf-8")).get("database_url")
    return None if found is None else str(found)


def test_ctrl_c_as_the_copys_commit_returns_says_the_copy_is_saved_and_not_in_use(
    tmp_path: Path, postgres_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    init_project(two_case_batch(tmp_path / "Batch"), project)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = run("db", "copy", project, "--to", url)
    monkeypatch.undo()
    assert result.exit_code == 130
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert lines[0].startswith(
        "clinlabel: interrupted, but the verified copy of the project's records into "
        f"{masked_url(url)} was already saved"
    ), lines[0]
    assert "the project still keeps its records in its SQLite file" in lines[0]
    assert "events" in _rows_in(url)
    assert _uses(project) is None


def test_ctrl_c_before_the_copys_commit_leaves_the_target_empty_and_says_so(
    tmp_path: Path, postgres_server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    init_project(two_case_batch(tmp_path / "Batch"), project)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    ctrl_c_at_the_commit(monkeypatch, landed=False)
    result = run("db", "copy", project, "--to", url)
    monkeypatch.undo()
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted: nothing was changed."
    assert _rows_in(url) == []
    assert _uses(project) is None
