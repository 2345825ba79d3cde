"""`clinlabel label BATCH` reopens the project the batch was labelled into, and choosing another
one is never silent (issue 10: restarting without --out used to start a second, empty project)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from clinlabel.cli.app import cli
from clinlabel.labelling.remembered import ProjectMemory

from .conftest import TOKEN, _client


def _serve_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`label` opens the project, prints its link and returns instead of serving."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)


def _label(*args: str) -> str:
    result = CliRunner().invoke(cli, ["label", *args, "--no-browser"])
    assert result.exit_code == 0, result.output
    return result.output


def test_label_without_out_reopens_the_remembered_project(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_nothing(monkeypatch)
    project = (tmp_path / "chosen").resolve()
    first = _label(str(batch), "--out", str(project), "--annotator", "ann")
    assert "Reopening" not in first
    link = re.search(r"Open: (\S+)", first)
    assert link

    again = _label(str(batch), "--annotator", "ann")
    found = re.search(
        r"Reopening the project (\S+) chosen for this batch on (\d{4}-\d\d-\d\d); "
        r"--out chooses another\.",
        again,
    )
    assert found, again
    assert Path(found.group(1)) == project
    assert f"Project {project}: 0 of 12 labelled; resuming at image 1." in again
    # The same project, so the same port and token: a page left open reconnects.
    assert f"Open: {link.group(1)}" in again
    assert not (tmp_path / "batch-clinlabel").exists()


def test_another_out_is_said_and_becomes_the_batch_project(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_nothing(monkeypatch)
    project, other = (tmp_path / "chosen").resolve(), (tmp_path / "other").resolve()
    _label(str(batch), "--out", str(project), "--annotator", "ann")
    said = _label(str(batch), "--out", str(other), "--annotator", "ann")
    notice = [line for line in said.splitlines() if line.startswith("Note:")]
    assert len(notice) == 1, said
    assert str(project) in notice[0] and str(other) in notice[0]
    remembered = ProjectMemory().recall(batch)
    assert remembered is not None and remembered.project_dir == other


def test_a_remembered_project_that_is_gone_falls_back_to_the_start_page(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_nothing(monkeypatch)
    project = (tmp_path / "chosen").resolve()
    _label(str(batch), "--out", str(project), "--annotator", "ann")
    shutil.rmtree(project)
    said = _label(str(batch), "--annotator", "ann")
    assert f"The project {project} chosen for this batch on" in said
    assert "is no longer there; choose a folder on the start page." in said
    assert "resuming at image" not in said  # nothing opened: the start page asks
    assert not project.exists()


def test_a_damaged_memory_file_is_one_warning_line(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_nothing(monkeypatch)
    memory = ProjectMemory()
    memory.path.parent.mkdir(parents=True, exist_ok=True)
    memory.path.write_text("{ damaged")
    result = CliRunner().invoke(
        cli, ["label", str(batch), "--out", str(tmp_path / "p"), "--annotator", "a", "--no-browser"]
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "damaged" in warnings[0]
    remembered = ProjectMemory().recall(batch)
    assert remembered is not None and remembered.project_dir == (tmp_path / "p").resolve()


def test_the_start_page_names_the_existing_project_before_starting_another(
    bare_client: TestClient, batch: Path, tmp_path: Path
) -> None:
    from clinlabel.labelling.project import init_project

    project = (tmp_path / "earlier").resolve()
    init_project(batch, project)
    ProjectMemory().remember(batch, project)
    described = bare_client.get("/api/session").json()
    assert described["remembered"]["project_dir"] == str(project)
    assert described["remembered"]["exists"] is True

    other = tmp_path / "second"
    body = {"project_dir": str(other), "annotator": "ann"}
    asked = bare_client.post("/api/session", json=body)
    assert asked.status_code == 409
    assert asked.json()["error"] == "other_project"
    assert str(project) in asked.json()["message"]
    assert not other.exists()  # nothing was created before the annotator said so

    started = bare_client.post("/api/session", json={**body, "other_project": True})
    assert started.status_code == 200, started.text
    remembered = ProjectMemory().recall(batch)
    assert remembered is not None and remembered.project_dir == other.resolve()


def test_the_start_page_opens_the_remembered_project_without_asking(
    batch: Path, tmp_path: Path
) -> None:
    from clinlabel.labelling.project import init_project
    from clinlabel.web.config import WebSettings

    project = (tmp_path / "earlier").resolve()
    init_project(batch, project)
    ProjectMemory().remember(batch, project)
    # As `clinlabel label BATCH` sets it up after recalling the project.
    settings = WebSettings(batch=batch, token=TOKEN, port=8123, project_dir=project)
    for client in _client(settings):
        described = client.get("/api/session").json()
        assert described["suggested_project_dir"] == str(project)
        opened = client.post("/api/session", json={"project_dir": str(project), "annotator": "a"})
        assert opened.status_code == 200, opened.text
