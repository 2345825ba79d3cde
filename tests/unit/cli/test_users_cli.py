"""`clinlabel users ...`: accounts of the team server, managed from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import users as user_rows

from .cli_run import assert_user_error, run, two_case_batch

PASSWORD = "a long enough password"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    init_project(two_case_batch(tmp_path / "batch"), folder)
    return folder


def _add(project: Path, name: str, role: str, password: str = PASSWORD) -> Result:
    return CliRunner().invoke(
        cli,
        ["users", "add", str(project), name, "--role", role, "--password-stdin"],
        input=password + "\n",
    )


def test_add_list_role_disable_reset(project: Path) -> None:
    added = _add(project, "Dr  Ada", "admin")
    assert added.exit_code == 0, added.output
    assert "Added Dr Ada (admin)" in added.output
    assert _add(project, "bob", "annotator").exit_code == 0
    assert run("users", "role", project, "bob", "reviewer").exit_code == 0
    assert run("users", "disable", project, "bob").exit_code == 0
    reset = CliRunner().invoke(
        cli,
        ["users", "reset-password", str(project), "Dr Ada", "--password-stdin"],
        input="the second password\n",
    )
    assert reset.exit_code == 0, reset.output
    listed = run("users", "list", project).output
    assert "Dr Ada\tadmin\tactive" in listed and "bob\treviewer\tdisabled" in listed
    with open_project(project) as opened, opened.store.read() as conn:
        row = user_rows.find_user(conn, "Dr Ada")
    assert row is not None
    # argon2id, and the new password (not the first) is the one that verifies.
    assert row.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(row.password_hash, "the second password")
    kinds = [e["kind"] for e in read_events(project, limit=0)]
    for kind in ("user_added", "role_changed", "user_disabled", "password_reset"):
        assert kind in kinds
    assert verify_project(project).ok


def test_bad_input_is_one_line_and_status_2(project: Path) -> None:
    assert_user_error(_add(project, "eve", "annotator", "short"), "shorter than 10")
    assert _add(project, "eve", "admin").exit_code == 0
    assert_user_error(_add(project, "eve", "annotator"), "already")
    assert_user_error(run("users", "disable", project, "nobody"), "no user called")
    # The last admin cannot be disabled or demoted: nobody could manage the users then.
    assert_user_error(run("users", "disable", project, "eve"), "last admin")
    assert_user_error(run("users", "role", project, "eve", "annotator"), "last admin")
    assert run("users", "add", project, "x", "--role", "king").exit_code == 2
