"""`clinlabel demo` labels under a person's name, never the made-up "demo" (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli import demo
from clinlabel.cli.app import cli
from clinlabel.labelling.audit_trail import read_events


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """`label` opens the project, prints its link and returns instead of serving."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)


def _openers(project: Path) -> list[str]:
    return [e["actor"] for e in read_events(project, limit=0) if e["kind"] == "session_opened"]


def test_demo_without_label_suggests_no_made_up_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    next_line = next(line for line in result.output.splitlines() if line.startswith("Next:"))
    batch, project = tmp_path / "d" / "batch", tmp_path / "d" / "project"
    assert next_line == f"Next: clinlabel label {batch} --out {project}"


def test_demo_label_without_a_terminal_takes_the_login_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_serving: None
) -> None:
    monkeypatch.setattr("clinlabel.labelling.project.system_user", lambda: "jsmith")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "d"), "--label"])
    assert result.exit_code == 0, result.output
    assert "Labelling as jsmith (your login name; --annotator chooses another)." in result.output
    assert _openers(tmp_path / "d" / "project") == ["jsmith"]


def test_demo_label_uses_the_annotator_given(tmp_path: Path, no_serving: None) -> None:
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "d"), "--label", "--annotator", "Ann"])
    assert result.exit_code == 0, result.output
    assert _openers(tmp_path / "d" / "project") == ["Ann"]


def test_demo_label_at_a_terminal_asks_on_the_start_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_serving: None
) -> None:
    monkeypatch.setattr(demo, "_at_terminal", lambda: True)
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "d"), "--label"])
    assert result.exit_code == 0, result.output
    assert "Open: http://" in result.output
    assert "resuming at image" not in result.output  # no session yet: the page asks the name
    assert _openers(tmp_path / "d" / "project") == []
