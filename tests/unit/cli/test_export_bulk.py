"""`clinlabel export` at the speed of the database (issue 12): the summary report only with
--report, and a second export checks only the trail added since the first, while still finding
a label edited behind the trail."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.engine import DATABASE_FILE


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for k in range(3):
        Image.new("RGB", (16, 12), (40 * k, 30, 90)).save(folder / f"img{k}.png")
    assert run("init", tmp_path / "Batch", "--out", tmp_path / "project").exit_code == 0
    _label(tmp_path / "project", "Suspicious")
    return tmp_path / "project"


def _label(project: Path, label: str) -> None:
    with open_project(project) as opened:
        session = LabellingSession(opened, annotator="Dr A", interface="test")
        shown = session.start()
        session.save_label(shown.view.id, label)
        session.close()


def _kept_head(project: Path) -> int | None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = raw.execute("SELECT value FROM meta WHERE key = 'verified_head'").fetchone()
    return None if found is None else int(json.loads(found[0])["event_id"])


def _last_event(project: Path) -> int:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        return int(raw.execute("SELECT max(id) FROM events").fetchone()[0])


def test_export_writes_the_report_only_when_asked(project: Path) -> None:
    plain = run("export", project)
    assert plain.exit_code == 0, plain.output
    assert (project / "clinical_labels.csv").is_file()
    assert not (project / "clinical_labels_summary.txt").exists()
    assert "summary report" not in plain.output
    reported = run("export", project, "--report")
    assert reported.exit_code == 0, reported.output
    assert "OK" in (project / "clinical_labels_summary.txt").read_text(encoding="utf-8")


def test_a_second_export_starts_from_the_head_the_first_verified(project: Path) -> None:
    assert _kept_head(project) is None
    before = _last_event(project)
    assert run("export", project).exit_code == 0
    # The head checked by the first export (the trail before its own event) is kept.
    assert _kept_head(project) == before
    _label(project, "Non-Suspicious")
    assert run("export", project).exit_code == 0
    assert _kept_head(project) is not None and _kept_head(project) > before
    # A label edited behind the trail is still found: the labels are checked in full.
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE labels SET labelled_at = '2020-01-01T00:00:00.000000Z'")
    broken = run("export", project)
    assert broken.exit_code == 1 and "BROKEN" in broken.stderr
