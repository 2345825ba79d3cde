"""`clinlabel export --csv` and `clinlabel audit verify` on a project edited behind the trail's
back with sqlite3 (issue 12's quick path and the full one): a value no event is written with
and a kept head no row can have are refused or ignored with one line, as the full path does,
never with a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling import csv_export
from clinlabel.store import meta
from clinlabel.store.engine import DATABASE_FILE

from .test_exportfast_csv import _project, full_path_only, quick_path_only


def run(*args: object) -> Result:
    # Exceptions caught: a traceback is the defect, reported as the result's exception.
    return CliRunner().invoke(cli, [str(a) for a in args])


def _edit_events(project: Path, *statements: str) -> None:
    """Statements run on the trail with its append-only triggers dropped and put back, as
    someone with sqlite3 and the schema at hand would."""
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        triggers = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        found = triggers.fetchall()
        for name, _ in found:
            raw.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            raw.execute(statement)
        for _, text in found:
            raw.execute(text)


def _kept_head(project: Path) -> str | None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = raw.execute(
            "SELECT value FROM meta WHERE key = ?", (meta.VERIFIED_HEAD,)
        ).fetchone()
    return None if found is None else str(found[0])


@pytest.mark.parametrize("path", ["quick", "full"])
@pytest.mark.parametrize("column", ["actor", "data", "ts_utc"])
def test_a_blob_in_the_newest_event_is_a_broken_trail_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, column: str
) -> None:
    project = _project(tmp_path)
    assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    kept = _kept_head(project)
    _edit_events(
        project,
        f"UPDATE events SET {column} = CAST({column} AS BLOB) "
        "WHERE id = (SELECT max(id) FROM events)",
    )
    (quick_path_only if path == "quick" else full_path_only)(monkeypatch)
    target = tmp_path / "second.csv"
    result = run("export", project, "--csv", target)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "the audit trail is BROKEN" in result.output
    assert "its content does not match its hash" in result.output
    assert target.is_file()  # written and marked, as a broken trail's export always is
    assert _kept_head(project) == kept  # no newer head kept past a broken event
    verified = run("audit", "verify", project)
    assert verified.exception is None or isinstance(verified.exception, SystemExit)
    assert verified.exit_code == 1
    assert "BROKEN at event" in verified.output


@pytest.mark.parametrize("path", ["quick", "full"])
@pytest.mark.parametrize(
    "value",
    [
        '{"event_id": 1e400, "hash": "x"}',  # infinity
        '{"event_id": 99999999999999999999999, "hash": "x"}',  # past SQLite's INTEGER
        '{"event_id": -3, "hash": "x"}',
        '{"event_id": 0, "hash": "%s"}' % ("0" * 64),
    ],
)
def test_a_kept_head_no_row_can_have_means_checking_the_whole_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, value: str
) -> None:
    project = _project(tmp_path)
    assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = ?", (value, meta.VERIFIED_HEAD))
    # An edit before the old head: found only when the whole trail is checked.
    _edit_events(project, "UPDATE events SET actor = 'Mallory' WHERE id = 2")
    (quick_path_only if path == "quick" else full_path_only)(monkeypatch)
    result = run("export", project, "--csv", tmp_path / "second.csv")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "the audit trail is BROKEN at event 2" in result.output
    assert _kept_head(project) == value


def test_the_quick_path_takes_these_projects(tmp_path: Path) -> None:
    """The tests above exercise `labelling.csv_export`, not a fallback to the full path."""
    project = _project(tmp_path)
    assert csv_export.plan(project, tmp_path / "x.csv", force=False) is not None
