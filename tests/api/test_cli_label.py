"""`clinlabel label` refuses clearly, before serving, when it cannot work (exit status 2)."""

from __future__ import annotations

import re
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.labelling.project import SERVER_FILE, ProjectLock, init_project
from clinlabel.labelling.server_access import ServerAccess, load_server_access


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
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["label", str(batch), "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert "Choose another --port" in result.output


def _serve_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`label` opens the project, prints its link and returns instead of serving."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)


def _link(output: str) -> tuple[int, str]:
    found = re.search(r"Open: http://127\.0\.0\.1:(\d+)/\?token=(\S+)", output)
    assert found, output
    return int(found.group(1)), found.group(2)


def test_a_project_keeps_its_port_and_token_until_new_token(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve_nothing(monkeypatch)
    project = tmp_path / "project"
    args = ["label", str(batch), "--out", str(project), "--annotator", "a", "--no-browser"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    port, token = _link(first.output)
    assert load_server_access(project) == ServerAccess(token=token, port=port)
    assert stat.S_IMODE((project / SERVER_FILE).stat().st_mode) == 0o600

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert _link(again.output) == (port, token)

    rotated = CliRunner().invoke(cli, [*args, "--new-token"])
    assert rotated.exit_code == 0, rotated.output
    new_port, new_token = _link(rotated.output)
    assert (new_port, new_token != token) == (port, True)
    assert load_server_access(project) == ServerAccess(token=new_token, port=port)

    # The port is taken meanwhile: another one, said so; the token is kept.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        busy = CliRunner().invoke(cli, args)
    assert busy.exit_code == 0, busy.output
    assert f"Port {port}, used by this project last time, is busy" in busy.output
    other_port, same_token = _link(busy.output)
    assert (other_port != port, same_token) == (True, new_token)
    assert load_server_access(project) == ServerAccess(token=new_token, port=other_port)
