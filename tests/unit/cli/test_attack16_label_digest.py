"""Attacks on the labels' digest kept beside the verified head (issue 12, `audit.label_digest`):
a label row the digest does not read is a label no check compares, so the digest must read every
row the export writes, whatever its id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinlabel.labelling.project import open_project
from clinlabel.store import csv_export as sqlite_rows
from clinlabel.store import events as event_rows

from .test_exportcpu_label_digest import (
    _refused_as_the_full_path_refuses,
    _sql,
    _whole_digest,
    project,  # noqa: F401  (the fixture)
)
from .test_exportfast_csv import full_path_only

FORGED = (
    "INSERT INTO labels (id, image_id, annotator_id, frame, label, comment, labelled_at, sha256,"
    " event_id) SELECT {id}, (SELECT id FROM images WHERE file LIKE '%plain%'), annotator_id,"
    " frame, 'Suspicious', 'forged', labelled_at, sha256, event_id FROM labels"
    " WHERE comment = 'a, b'"
)


@pytest.mark.parametrize("label_id", [-1, 0, -(2**63)])
def test_a_label_inserted_below_the_first_id_is_refused(
    project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    label_id: int,
) -> None:
    """A label forged on the image whose label was cleared, naming an event below the kept
    head, under an id the digest's ranges (0 upwards) did not read: exported as a real one."""
    _sql(project, FORGED.format(id=label_id))
    _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)


class _Counted:
    """A connection that refuses to run more than `limit` statements (a loop over every
    possible id never ends)."""

    def __init__(self, conn: Any, limit: int) -> None:
        self._conn, self._left = conn, limit

    def execute(self, *args: Any) -> Any:
        self._left -= 1
        if self._left < 0:
            raise AssertionError("the digest ran a statement for every possible label id")
        return self._conn.execute(*args)

    def __getattr__(self, name: str) -> Any:  # the dialect SQLAlchemy's path asks for
        return getattr(self._conn, name)


@pytest.mark.parametrize("moved_to", [2**62, 2**63 - 1])
def test_a_label_with_a_huge_id_does_not_stop_the_export(
    project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moved_to: int,
) -> None:
    """Its id alone made the digest read 2**48 empty ranges: the export never finished."""
    before = _whole_digest(project)
    _sql(project, f"UPDATE labels SET id = {moved_to} WHERE comment = 'a, b'")
    database = sqlite_rows.open_database(project)
    assert database is not None
    conn = database.connect()
    try:
        with database.read(conn):
            moved = sqlite_rows.labels_digest(_Counted(conn, 100))  # type: ignore[arg-type]
    finally:
        conn.close()
    assert moved is not None and moved != before  # the order of the labels is part of it
    with open_project(project) as opened, opened.store.read() as sa:
        assert event_rows.labels_digest(_Counted(sa, 100)) == moved  # type: ignore[arg-type]
    # Moved, the same label is the same label: both paths export it.
    from click.testing import CliRunner

    from clinlabel.cli.app import cli

    quick = CliRunner().invoke(cli, ["export", str(project), "--csv", str(tmp_path / "q.csv")])
    assert quick.exit_code == 0, quick.output
    full_path_only(monkeypatch)
    full = CliRunner().invoke(cli, ["export", str(project), "--csv", str(tmp_path / "f.csv")])
    assert full.exit_code == 0, full.output
    assert (tmp_path / "q.csv").read_bytes() == (tmp_path / "f.csv").read_bytes()
