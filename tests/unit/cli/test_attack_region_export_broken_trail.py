"""Attack: regions changed behind the audit trail, then exported. The region export says the
trail is broken and exits 1, as the labels CSV's export does, unless --allow-broken."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .cli_run import run
from .test_region_export_cli import _project


def _tamper(project: Path, statements: list[str]) -> None:
    conn = sqlite3.connect(project / "clinlabel.db")
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE regions SET region_class = 'Vessel' WHERE region_class = 'Lesion'"],
        [
            "DROP TRIGGER region_geometries_no_update",
            "UPDATE region_geometries SET geometry = replace(geometry, '\"x\":1.0', '\"x\":2.0')",
        ],
    ],
)
def test_attack_a_region_export_of_a_tampered_project_exits_1_naming_the_break(
    tmp_path: Path, statements: list[str]
) -> None:
    project = _project(tmp_path)
    _tamper(project, statements)
    out = tmp_path / "out"
    result = run("export", project, "--format", "png", "--out", out)
    assert result.exit_code == 1, result.output
    assert "audit trail is BROKEN" in result.output
    # Written all the same (as the CSV is), so what was exported can be examined.
    assert (out / "legend.json").is_file()
    allowed = run("export", project, "--format", "png", "--out", out, "--allow-broken")
    assert allowed.exit_code == 0, allowed.output


def test_attack_a_region_export_of_an_intact_project_exits_0(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run("export", project, "--format", "png", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "BROKEN" not in result.output
