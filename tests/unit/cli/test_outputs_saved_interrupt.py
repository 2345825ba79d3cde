"""Ctrl+C raised as an export's or a report's commit returns (SQLite commits in C: the signal's
handler runs once it has): the files are in place and recorded, so the command says so. Before
the commit, nothing is written or recorded and it says that (test_export_saved_interrupt,
test_interrupt)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from clinlabel.labelling import csv_export
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store.csv_export import Database

from ..exports.region_project import SCHEMA, Drawer, make_region_batch
from .cli_run import run
from .committing import ctrl_c_at_the_commit, export_events, labelled_project


def _one_line(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ctrl_c_as_the_quick_exports_commit_returns_says_the_csv_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    target = project / "clinical_labels.csv"
    assert csv_export.plan(project, None, force=False) is not None  # the quick path is taken
    real_write = Database.write

    @contextlib.contextmanager
    def write(self: Database, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        with real_write(self, conn) as same:
            yield same
        raise KeyboardInterrupt  # the commit returned, then the signal's handler ran

    monkeypatch.setattr(Database, "write", write)
    result = run("export", project)
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result)
    assert f"the labels CSV at {target} was already saved and recorded" in line
    assert "audit verify" in line  # the check beside it did not finish
    assert target.is_file() and export_events(project) == 1
    assert run("audit", "verify", project).exit_code == 0


@pytest.mark.parametrize("args", [["--detailed"], ["--report"]])
def test_ctrl_c_as_the_exports_commit_returns_says_the_csv_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    project = labelled_project(tmp_path)
    target = project / "clinical_labels.csv"
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = run("export", project, *args)
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result)
    assert f"the labels CSV at {target.resolve()}" in line
    assert "was already saved and recorded in the audit trail" in line
    assert target.is_file() and export_events(project) >= 1
    assert run("audit", "verify", project).exit_code == 0


def test_ctrl_c_as_the_reports_commit_returns_says_the_report_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled_project(tmp_path)
    target = project / "clinical_labels_summary.txt"
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = run("report", project)
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result)
    assert f"the summary report at {target.resolve()} was already saved and recorded" in line
    assert target.is_file() and export_events(project) == 1


def _regions_exported_then_drawn(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A project whose regions were exported as PNG masks into `out`, then drawn on again;
    and the files of that first export."""
    batch = make_region_batch(tmp_path / "Batch", photo_cases=3)
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    project = tmp_path / "project"
    init_project(batch, project, schema_path=schema)
    out = tmp_path / "out"
    for label, count in (("Vessel", 1), ("Lesion", 3)):
        tool, geometry = (
            ("box", {"x": 1, "y": 1, "w": 3, "h": 3})
            if label == "Vessel"
            else ("point", {"x": 5, "y": 5})
        )
        with open_project(project) as opened:
            drawer = Drawer(opened)
            for n in range(count):
                drawer.draw(f"Case_P{n:02d}/Visit_1/XC/img.png", label, tool, geometry)
            drawer.close()
        if label == "Vessel":
            assert run("export", project, "--format", "png", "--out", out).exit_code == 0
    return project, out, _tree(out)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_ctrl_c_as_a_region_exports_commit_returns_keeps_its_files_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files were moved into place inside the transaction: once it has committed they stay
    with their event (taken back, the trail would record files that are not there)."""
    project, out, before = _regions_exported_then_drawn(tmp_path)
    exports = export_events(project)
    ctrl_c_at_the_commit(monkeypatch, landed=True)
    result = run("export", project, "--format", "png", "--out", out)
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result)
    assert f"the png export of the regions to {out.resolve()} was already saved" in line
    assert export_events(project) == exports + 1
    after = _tree(out)
    assert after != before and len(after) > len(before)  # the new masks, as recorded
    assert run("audit", "verify", project).exit_code == 0
    assert run("export", project, "--format", "png", "--out", out).exit_code == 0
    assert _tree(out) == after  # what the interrupted export wrote is what it recorded


def test_ctrl_c_before_a_region_exports_commit_still_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, out, before = _regions_exported_then_drawn(tmp_path)
    exports = export_events(project)
    ctrl_c_at_the_commit(monkeypatch, landed=False)
    result = run("export", project, "--format", "png", "--out", out)
    monkeypatch.undo()
    assert result.exit_code == 130
    assert _one_line(result) == "Interrupted: nothing was changed."
    assert export_events(project) == exports and _tree(out) == before


@pytest.mark.parametrize("landed", [True, False])
def test_ctrl_c_at_a_labelme_imports_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, landed: bool
) -> None:
    """As the commit returns: the regions are saved and the command says so; before it:
    nothing was imported, and it says that."""
    project, _, _ = _regions_exported_then_drawn(tmp_path)
    labelme = tmp_path / "lm"
    assert run("export", project, "--format", "labelme", "--out", labelme).exit_code == 0
    fresh = tmp_path / "fresh"
    init_project(tmp_path / "Batch", fresh, schema_path=tmp_path / "schema.toml")
    ctrl_c_at_the_commit(monkeypatch, landed=landed)
    result = run("import", fresh, "--labelme", labelme, "--annotator", "Dr B")
    monkeypatch.undo()
    assert result.exit_code == 130
    line = _one_line(result)
    with contextlib.closing(sqlite3.connect(fresh / "clinlabel.db")) as db:
        regions = int(db.execute("SELECT count(*) FROM regions").fetchone()[0])
    if landed:
        assert line == (
            f"clinlabel: interrupted, but the import of the labelme files in {labelme} for Dr B "
            "was already saved and recorded in the audit trail."
        )
        assert regions == 4
    else:
        assert line == "Interrupted: nothing was changed."
        assert regions == 0
