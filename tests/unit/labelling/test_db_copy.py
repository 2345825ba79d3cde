"""`clinlabel db copy`: a project moves from SQLite to a real PostgreSQL without losing an event,
its chain verifies there, and the team server serves it from there."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from clinlabel.cli.app import cli
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import copy as copy_rows
from clinlabel.web.app import create_app
from clinlabel.web.auth_secret import project_secret
from clinlabel.web.auth_team import TeamServer, new_token
from clinlabel.web.config import WebSettings

from .conftest import make_batch

pytestmark = pytest.mark.postgres
PASSWORD = "a long enough password"


def _labelled_project(root: Path) -> Path:
    project_dir = root / "project"
    init_project(make_batch(root / "Batch"), project_dir)
    with open_project(project_dir) as project:
        Accounts(project.store).add("ann", Role.ADMIN, PASSWORD, actor="test")
        session = LabellingSession(project, annotator="ann")
        shown = session.start()
        session.save_label(shown.view.id, "NA", "blurred")
        session.save_label(shown.view.id, "Suspicious")
        second = session.next()
        session.save_label(second.view.id, "Non-Suspicious")
        session.clear_label(second.view.id)
        session.close()
    return project_dir


def test_copy_to_postgres_keeps_every_event_and_serves_from_there(
    tmp_path: Path, postgres_server: object
) -> None:
    project_dir = _labelled_project(tmp_path)
    before = read_events(project_dir, limit=0)
    with open_project(project_dir) as project, project.store.read() as conn:
        counts = copy_rows.row_counts(conn)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    result = CliRunner().invoke(cli, ["db", "copy", str(project_dir), "--to", url])
    assert result.exit_code == 0, result.output
    assert f"{len(before)} events" in result.output
    # The project now reads its records from PostgreSQL: the same events, verified there.
    with open_project(project_dir) as project:
        assert project.store.dialect == "postgresql"
        with project.store.read() as conn:
            assert copy_rows.row_counts(conn) == counts
    assert read_events(project_dir, limit=0) == before
    assert verify_project(project_dir).ok
    # `audit verify` as a user runs it.
    verified = CliRunner().invoke(cli, ["audit", "verify", str(project_dir)])
    assert verified.exit_code == 0 and "chain intact" in verified.output
    # The team server on the copy: log in and label (new rows continue the copied ids).
    with open_project(project_dir) as project:
        settings = WebSettings(batch=project.batch, token=new_token(), port=8000)
        team = TeamServer(project, settings, secret=project_secret(project_dir), idle_s=900)
        try:
            app = create_app(settings, team=team)
            with TestClient(app, base_url="http://team.example:8000") as client:
                login = client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
                assert login.status_code == 200
                image = client.get("/api/queue?start=1&count=3").json()[2]["id"]
                saved = client.put(f"/api/images/{image}/label", json={"label": "Suspicious"})
                assert saved.status_code == 200, saved.text
        finally:
            team.shutdown()
    assert verify_project(project_dir).ok
    assert len(read_events(project_dir, limit=0)) > len(before)


def test_copy_refuses_a_database_that_holds_records(
    tmp_path: Path, postgres_server: object
) -> None:
    project_dir = _labelled_project(tmp_path)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    first = CliRunner().invoke(
        cli, ["db", "copy", str(project_dir), "--to", url, "--keep-using-sqlite"]
    )
    assert first.exit_code == 0, first.output
    with open_project(project_dir) as project:
        assert project.store.dialect == "sqlite"  # only copied
    again = CliRunner().invoke(cli, ["db", "copy", str(project_dir), "--to", url])
    assert again.exit_code == 2
    assert "already holds records" in again.output
    assert "Traceback" not in again.output
