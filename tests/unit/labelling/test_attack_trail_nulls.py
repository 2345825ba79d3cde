"""NULL in a row an export reads slips past `audit verify` (found by the attack on issue 9).

`first_label_mismatch` compares the current rows with their events by `!=`; in SQL a comparison
with NULL is NULL, never true, so a tamperer who lets a column hold NULL (one `PRAGMA
writable_schema` edit of the table's NOT NULL, or `ALTER COLUMN ... DROP NOT NULL` on
PostgreSQL) can blank an NA comment or a label time, or swap two labelled images (NULL paths
and swapped files), and verify still says OK while the export carries the forgery.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.labelling.outputs import export_csv
from clinlabel.labelling.project import init_project, open_project

from .conftest import label_two, make_batch


def _labelled_project(tmp_path: Path) -> tuple[Path, int, int]:
    batch = make_batch(tmp_path / "Batch")
    init_project(batch, tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        first, second = label_two(project)
        assert verify_store(project.store).ok
    return tmp_path / "project", first, second


def _tamper(database: Path, table: str, column_decl: str, *statements: str) -> None:
    """Let `column_decl` (e.g. "comment TEXT NOT NULL") hold NULL, then run `statements`."""
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        changed = conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = ?",
            (column_decl, column_decl.removesuffix(" NOT NULL"), table),
        ).rowcount
        assert changed == 1
        conn.commit()
    finally:
        conn.close()
    conn = sqlite3.connect(database)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("table", "column_decl", "edit"),
    [
        ("labels", "comment TEXT NOT NULL", "UPDATE labels SET comment = NULL WHERE label = 'NA'"),
        ("labels", "labelled_at VARCHAR(40) NOT NULL", "UPDATE labels SET labelled_at = NULL"),
        ("labels", "label TEXT NOT NULL", "UPDATE labels SET label = NULL WHERE label = 'NA'"),
    ],
)
def test_a_label_column_set_to_null_is_a_break(
    tmp_path: Path, table: str, column_decl: str, edit: str
) -> None:
    folder, _, _ = _labelled_project(tmp_path)
    _tamper(folder / "clinlabel.db", table, column_decl, edit)
    with open_project(folder) as project:
        assert not verify_store(project.store).ok, f"verify said OK after: {edit}"


def test_two_labelled_images_swapped_behind_null_paths_is_a_break(tmp_path: Path) -> None:
    folder, first, second = _labelled_project(tmp_path)
    with open_project(folder) as project, project.store.read() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT id, file FROM images WHERE id IN ({first}, {second})"
        ).all()
        files = {int(row[0]): str(row[1]) for row in rows}
    _tamper(
        folder / "clinlabel.db",
        "images",
        "relpath TEXT NOT NULL",
        "DROP TRIGGER images_identity_fixed",
        f"UPDATE images SET relpath = NULL WHERE id IN ({first}, {second})",
        f"UPDATE images SET file = 'parked' WHERE id = {first}",
        f"UPDATE images SET file = '{files[first]}' WHERE id = {second}",
        f"UPDATE images SET file = '{files[second]}' WHERE id = {first}",
    )
    with open_project(folder) as project:
        out = tmp_path / "labels.csv"
        export_csv(project, out, actor="t")
        text = out.read_text(encoding="utf-8-sig")
        # The export now gives the first image's label to the second file, and vice versa.
        assert f"{files[second]},Suspicious" in text
        assert not verify_store(project.store).ok, "verify said OK; the export swapped labels"


@pytest.mark.parametrize(
    ("table", "column_decl", "edit"),
    [
        ("labels", "label TEXT NOT NULL", "UPDATE labels SET label = NULL WHERE label = 'NA'"),
        ("images", "case_name TEXT NOT NULL", "UPDATE images SET case_name = NULL"),
    ],
)
def test_export_of_a_nulled_project_says_broken_in_one_line(
    tmp_path: Path, table: str, column_decl: str, edit: str
) -> None:
    """It was a TypeError traceback and an "Exception ignored ... closed database" after it."""
    from click.testing import CliRunner

    from clinlabel.cli.app import cli

    folder, _, _ = _labelled_project(tmp_path)
    if (
        table == "images"
    ):  # the identity trigger (migration 0003) is dropped first, as a tamperer would
        conn = sqlite3.connect(folder / "clinlabel.db")
        conn.execute("DROP TRIGGER images_identity_fixed")
        conn.commit()
        conn.close()
    _tamper(folder / "clinlabel.db", table, column_decl, edit)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["export", str(folder), "--csv", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Exception ignored" not in result.output
    assert [line for line in result.stderr.splitlines() if line.strip()][-1].startswith(
        "Error: the audit trail is BROKEN"
    )
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 3  # header and two labels
