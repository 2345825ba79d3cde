"""`clinlabel label` refuses clearly, before serving, when it cannot work (exit status 2)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.labelling.project import ProjectLock, init_project


def test_busy_project_is_one_line_and_status_2(batch: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    init_project(batch, project)
    with ProjectLock(project):
        result = CliRunner().invoke(
            cli, ["label", str(batch), "--out", str(project), "--annotator", "a", "--no-browser"]
        )
    assert result.exit_code == 2
    assert "in use" in result.output


def test_output_inside_the_batch_is_refused(batch: Path) -> None:
    inside = batch / "labels"
    result = CliRunner().invoke(
        cli, ["label", str(batch), "--out", str(inside), "--annotator", "a", "--no-browser"]
    )
    assert result.exit_code == 2
    assert "inside the batch" in result.output
    assert not inside.exists()


def test_port_in_use_is_reported(batch: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["label", str(batch), "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert "Choose another --port" in result.output
