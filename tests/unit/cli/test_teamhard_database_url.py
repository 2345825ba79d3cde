"""The database password stays off the command line (where `ps` shows it to every local user):
`serve` and `db copy` take the URL from a 0600 file or `CLINLABEL_DATABASE_URL` (the password
itself may stay in ~/.pgpass or PGPASSWORD, which libpq reads), warn in one line when a password
is given on the command line anyway, and never print it: not in errors, output or the trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinlabel.cli.app import cli
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import init_project, open_project

from .cli_run import assert_user_error, two_case_batch

SECRET = "s3cret-Pa55word"


def _run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def _with_password(url: str) -> str:
    # The test server trusts its Unix socket, so a password in the URL is accepted and unused.
    return url.replace(
        "postgresql+psycopg://clinlabel@", f"postgresql+psycopg://clinlabel:{SECRET}@"
    )


def _project(root: Path) -> Path:
    project_dir = root / "project"
    init_project(two_case_batch(root / "Batch"), project_dir)
    return project_dir


def _url_file(root: Path, url: str, mode: int = 0o600) -> Path:
    path = root / "database-url"
    path.write_text(url + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def _assert_no_secret(result: Result, *places: Path) -> None:
    assert SECRET not in result.output
    assert SECRET not in (result.stderr or "")
    for place in places:
        for path in place.rglob("*.toml"):
            assert SECRET not in path.read_text(encoding="utf-8")


@pytest.mark.postgres
def test_teamhard_db_copy_takes_the_url_from_an_owner_only_file(
    tmp_path: Path, postgres_server: object
) -> None:
    project_dir = _project(tmp_path)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    url_file = _url_file(tmp_path, url)
    result = _run("db", "copy", project_dir, "--database-url-file", url_file)
    assert result.exit_code == 0, result.output
    assert "verifies" in result.stdout
    with open_project(project_dir) as project:
        assert project.store.dialect == "postgresql"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_teamhard_a_url_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    project_dir = _project(tmp_path)
    url_file = _url_file(tmp_path, f"postgresql+psycopg://clinlabel:{SECRET}@/x", mode)
    for args in (
        ("db", "copy", project_dir, "--database-url-file", url_file),
        ("serve", project_dir, "--database-url-file", url_file, "--port", "0"),
    ):
        result = _run(*args)
        assert_user_error(result, "can be read by other users", "chmod 600")
        _assert_no_secret(result, project_dir)
    with open_project(project_dir) as project:
        assert project.store.dialect == "sqlite"  # nothing was copied or switched


def test_teamhard_a_missing_or_empty_url_file_is_one_line(tmp_path: Path) -> None:
    project_dir = _project(tmp_path)
    missing = _run("db", "copy", project_dir, "--database-url-file", tmp_path / "nope")
    assert_user_error(missing, "Cannot read")
    empty = _url_file(tmp_path, "")
    assert_user_error(_run("db", "copy", project_dir, "--database-url-file", empty), "empty")
    both = _run(
        "db", "copy", project_dir, "--to", "postgresql+psycopg://x@/y", "--database-url-file", empty
    )
    assert_user_error(both, "not both")
    assert_user_error(
        _run("db", "copy", project_dir, env={"CLINLABEL_DATABASE_URL": ""}), "--to URL"
    )


@pytest.mark.postgres
def test_teamhard_db_copy_takes_the_url_from_the_environment(
    tmp_path: Path, postgres_server: object
) -> None:
    project_dir = _project(tmp_path)
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    result = _run("db", "copy", project_dir, env={"CLINLABEL_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    with open_project(project_dir) as project:
        assert project.store.dialect == "postgresql"


@pytest.mark.postgres
def test_teamhard_a_password_on_the_command_line_is_warned_and_never_shown(
    tmp_path: Path, postgres_server: object
) -> None:
    project_dir = _project(tmp_path)
    url = _with_password(postgres_server.create_database())  # type: ignore[attr-defined]
    copied = _run("db", "copy", project_dir, "--to", url, "--keep-using-sqlite")
    assert copied.exit_code == 0, copied.output
    warnings = [line for line in copied.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "visible to every user of this machine" in warnings[0]
    assert "~/.pgpass" in warnings[0]
    _assert_no_secret(copied, project_dir)
    # Serving that copy with the password on the command line: warned, then (no admin yet)
    # refused in one line, the URL never repeated with its password.
    served = _run("serve", project_dir, "--database-url", url, "--port", "0")
    assert served.exit_code == 2, served.output
    lines = [line for line in served.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and "visible to every user" in lines[0]
    assert "no admin who may log in" in lines[1]
    _assert_no_secret(served, project_dir)
    # Nor in the trail, of the original or of the copy.
    assert SECRET not in json.dumps(read_events(project_dir, limit=0), default=str)
    from clinlabel.store.store import Store

    store = Store.open_url(url)
    try:
        from clinlabel.store import events as event_rows

        with store.read() as conn:
            assert SECRET not in json.dumps(list(event_rows.iter_events(conn)), default=str)
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://clinlabel:{SECRET}@/no_such_db?host=/nonexistent-socket-dir",
        f"postgresql+psycopg://clinlabel@/no_such_db?host=/nonexistent-socket-dir&password={SECRET}",
        f"postgresql+nosuchdriver://clinlabel:{SECRET}@/db",
        f"postgresql+psycopg://clinlabel:{SECRET}@[bad",
        f"sqlite+nosuch://clinlabel:{SECRET}@/db",
    ],
)
def test_teamhard_errors_never_repeat_the_password(tmp_path: Path, url: str) -> None:
    project_dir = _project(tmp_path)
    for args in (
        ("db", "copy", project_dir, "--to", url, "--keep-using-sqlite"),
        ("serve", project_dir, "--database-url", url, "--port", "0"),
        ("serve", project_dir, "--port", "0"),
    ):
        env = {"CLINLABEL_DATABASE_URL": url} if "--database-url" not in args else None
        result = _run(*args, env=env)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        _assert_no_secret(result, project_dir)


def test_teamhard_init_refuses_to_keep_a_password_in_project_toml(tmp_path: Path) -> None:
    batch = two_case_batch(tmp_path / "Batch")
    project_dir = tmp_path / "project"
    for url in (
        f"postgresql+psycopg://clinlabel:{SECRET}@/db",
        f"postgresql+psycopg://clinlabel@/db?password={SECRET}",
    ):
        result = _run("init", batch, "--out", project_dir, "--database-url", url)
        assert_user_error(result, "would be kept in project.toml", "~/.pgpass")
        _assert_no_secret(result)
        assert not project_dir.exists()
