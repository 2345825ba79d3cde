"""Attacks on the labels' digest kept beside the verified head (issue 12, `audit.label_digest`):
a label row the digest does not read is a label no check compares, so the digest must read every
row the export writes, whatever its id."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project
from clinlabel.store import csv_export as sqlite_rows
from clinlabel.store import events as event_rows
from clinlabel.store import meta
from clinlabel.store.engine import DATABASE_FILE

from .test_exportcpu_label_digest import (
    _image_id,
    _label_row,
    _put_back,
    _refused_as_the_full_path_refuses,
    _session,
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


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


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
    quick = CliRunner().invoke(cli, ["export", str(project), "--csv", str(tmp_path / "q.csv")])
    assert quick.exit_code == 0, quick.output
    full_path_only(monkeypatch)
    full = CliRunner().invoke(cli, ["export", str(project), "--csv", str(tmp_path / "f.csv")])
    assert full.exit_code == 0, full.output
    assert (tmp_path / "q.csv").read_bytes() == (tmp_path / "f.csv").read_bytes()


def _meta(made: Path) -> dict[str, str]:
    with sqlite3.connect(made / DATABASE_FILE) as raw:
        return dict(raw.execute("SELECT key, value FROM meta").fetchall())


def test_a_digest_put_back_from_an_earlier_export_hides_no_label_put_back_with_it(
    project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The meta rows and a label row copied from a backup of an earlier state, after the label
    was changed through the trail and exported: the digest matches the row, the trail does not."""
    earlier = _meta(project)
    row = _label_row(project, "%say%")
    with _session(project) as session:
        session.save_label(_image_id(project, "%say%"), "Suspicious", "changed")
    assert run("export", project, "--csv", tmp_path / "second.csv").exit_code == 0
    _put_back(project, row)
    for key in (meta.VERIFIED_HEAD, meta.VERIFIED_LABELS):
        _sql(project, f"UPDATE meta SET value = '{earlier[key]}' WHERE key = '{key}'")
    quick = _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)
    assert "do not match the newest label event" in quick.stderr


def test_an_event_below_the_kept_head_edited_in_place_is_found_by_audit_verify(
    project: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The trade-off ADR 0023 names: the export trusts the trail below its kept head (as the
    trail's own incremental check does), so an event edited there with its label row left alone
    is found by `audit verify`, which checks every event and every label from the start."""
    _sql(
        project,
        "DROP TRIGGER events_no_update",
        "UPDATE events SET data = json_set(data, '$.new.comment', 'forged')"
        " WHERE id = (SELECT event_id FROM labels WHERE comment = 'a, b')",
    )
    verified = run("audit", "verify", project)
    assert verified.exit_code == 1, verified.output
    assert "BROKEN at event" in verified.output + verified.stderr


@pytest.mark.parametrize(
    "edit",
    [
        # Every label changed, with the annotator's row gone: no label had an annotator to be
        # compared under, and the CSV (which names none) was written with the forged labels.
        "DELETE FROM annotators ;; UPDATE labels SET label = 'Suspicious', comment = 'forged'",
        # Every label gone with it: an export of no labels at all, as if none were given.
        "DELETE FROM annotators ;; DELETE FROM labels",
    ],
)
def test_a_label_whose_annotator_row_is_gone_is_still_compared(
    project: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: str,
) -> None:
    _sql(project, *edit.split(" ;; "))
    _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)
    verified = run("audit", "verify", project)
    assert verified.exit_code == 1, verified.output


@pytest.mark.parametrize(
    "statements",
    [
        # The annotators' rows gone: no region had an annotator to be compared under.
        ["DELETE FROM annotators", "UPDATE regions SET region_class = 'Vessel'"],
        ["DELETE FROM annotators", "DELETE FROM regions"],
    ],
)
def test_a_region_whose_annotator_row_is_gone_is_still_compared(
    tmp_path: Path, statements: list[str]
) -> None:
    from .test_region_export_cli import _project as region_project

    made = region_project(tmp_path)
    _sql(made, *statements)
    result = run("export", made, "--format", "png", "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "audit trail is BROKEN" in result.output
    assert run("audit", "verify", made).exit_code == 1
