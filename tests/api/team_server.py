"""A team server (`clinlabel serve`) in process, with users of each role, for the API tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.project import init_project, open_project
from clinlabel.web.app import create_app
from clinlabel.web.auth_secret import project_secret
from clinlabel.web.auth_team import TeamServer, new_token
from clinlabel.web.config import WebSettings

from .conftest import make_batch

BASE = "http://team.example:8000"
PASSWORD = "correct horse battery"
USERS = {"ann": Role.ANNOTATOR, "bea": Role.ANNOTATOR, "rev": Role.REVIEWER, "adm": Role.ADMIN}


SCHEMA = """
[[labels]]
name = "Suspicious"
key = "1"
[[labels]]
name = "Benign"
key = "2"
[[labels]]
name = "NA"
key = "3"
requires_comment = true
[[regions]]
name = "Lesion"
colour = "#e4572e"
"""


def make_team_project(root: Path, *, database_url: str | None = None) -> Path:
    """A project of a small batch with one user of each role (and two annotators)."""
    batch = make_batch(root / "batch", cases=2, visits=1, images=2)
    project_dir = root / "project"
    schema = root / "schema.toml"
    schema.write_text(SCHEMA, encoding="utf-8")
    init_project(batch, project_dir, database_url=database_url, schema_path=schema)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        for name, role in USERS.items():
            accounts.add(name, role, PASSWORD, actor="test")
    return project_dir


@contextlib.contextmanager
def team_server(project_dir: Path, *, idle_s: float = 900.0) -> Iterator[TeamServer]:
    project = open_project(project_dir)
    settings = WebSettings(batch=project.batch, token=new_token(), port=8000, host="team.example")
    team = TeamServer(project, settings, secret=project_secret(project_dir), idle_s=idle_s)
    try:
        yield team
    finally:
        team.shutdown()


@contextlib.contextmanager
def clients(team: TeamServer) -> Iterator[dict[str, TestClient]]:
    """One logged-in client per user, and "anon" (not logged in), all on one app."""
    app = create_app(team.base.settings, team=team)
    with contextlib.ExitStack() as stack:
        found: dict[str, TestClient] = {}
        for name in ("anon", *USERS):
            client = stack.enter_context(TestClient(app, base_url=BASE))
            if name != "anon":
                answer = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
                assert answer.status_code == 200, answer.text
            found[name] = client
        yield found
