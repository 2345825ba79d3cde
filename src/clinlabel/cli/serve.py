"""`clinlabel serve PROJECT`: the multi-user server (logins, roles, one session per user)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from clinlabel.cli.database_url import ENVIRONMENT, chosen_url, url_file_option
from clinlabel.cli.imaging import budget_bytes, memory_budget_option
from clinlabel.cli.label import _bind


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number.")
    return value


@click.command("serve")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--database-url",
    help="The project's records on this database (PostgreSQL: postgresql+psycopg://USER@HOST/DB), "
    "e.g. after `clinlabel db copy`; left out: --database-url-file, then "
    f"{ENVIRONMENT}, then the project's own. A password here is visible to every local user "
    "(warned): keep it in ~/.pgpass or PGPASSWORD.",
)
@url_file_option
@click.option(
    "--idle-minutes",
    type=click.FloatRange(min=1, max=24 * 60),
    callback=_finite,
    default=15.0,
    show_default=True,
    help="Log a user off after this long without activity.",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Send the login cookie only over HTTPS (behind a TLS proxy; required there).",
)
@click.option(
    "--trusted-proxy",
    metavar="IP",
    help="The reverse proxy's address: its X-Forwarded-For and X-Forwarded-Proto are believed "
    "(the users' own addresses for the login slowing; Secure cookies when it says https).",
)
@memory_budget_option
def serve_command(
    project_dir: Path,
    host: str,
    port: int,
    database_url: str | None,
    url_file: Path | None,
    idle_minutes: float,
    secure_cookies: bool,
    trusted_proxy: str | None,
    memory_budget_mb: int,
) -> None:
    """Serve PROJECT to a team: each user logs in (`clinlabel users add` first) and labels as
    themselves. Ctrl+C stops; everything saved is kept."""
    import contextlib

    import uvicorn

    from clinlabel.errors import ValidationError
    from clinlabel.labelling.accounts import Accounts, prepare_logins
    from clinlabel.labelling.project import ProjectLock
    from clinlabel.web.app import create_app
    from clinlabel.web.auth_secret import project_secret
    from clinlabel.web.auth_team import TeamServer, new_token
    from clinlabel.web.config import WebSettings

    database_url = chosen_url(database_url, url_file, option="--database-url")
    project = open_team_project(project_dir, database_url)
    lock = contextlib.ExitStack()
    try:
        if project.store.dialect == "sqlite":
            # One server process per SQLite project (and not beside `label` or `db copy`);
            # on PostgreSQL several may serve it, the database serialising their writes.
            lock.enter_context(ProjectLock(project.dir))
        if not any(u.role == "admin" and not u.disabled for u in Accounts(project.store).list()):
            raise ValidationError(
                f"{project.dir} has no admin who may log in.",
                hint=f"Add one first: clinlabel users add {project_dir} NAME --role admin",
            )
        secret = project_secret(project.dir)
        prepare_logins()
        sock = _bind(host, port)
    except BaseException:
        project.close()
        lock.close()
        raise
    settings = WebSettings(
        batch=project.batch,
        token=new_token(),
        port=sock.getsockname()[1],
        host=host,
        project_dir=project.dir,
        idle_threshold_s=300.0,
        memory_budget_bytes=budget_bytes(memory_budget_mb),
    )
    team = TeamServer(
        project,
        settings,
        secret=secret,
        idle_s=idle_minutes * 60,
        secure_cookies=secure_cookies,
    )
    try:
        app = create_app(settings, team=team)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        click.echo(f"clinlabel is serving the project {project.dir} to a team")
        click.echo(f"Open: http://{shown}:{settings.port}/  (each user logs in)", color=False)
        click.echo("Press Ctrl+C to stop.")
        # Forwarded headers only from the proxy named: anyone else could claim any address.
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=trusted_proxy is not None,
            forwarded_allow_ips=trusted_proxy or "",
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        team.shutdown()
        sock.close()
        lock.close()
    click.echo("Stopped; every label shown as saved is in the project.")


def open_team_project(project_dir: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    """The project, its records on `database_url` when given (not remembered)."""
    from clinlabel.labelling.project import Project, open_project
    from clinlabel.store.store import Store

    if database_url is None:
        return open_project(project_dir)
    folder = project_dir.expanduser().resolve()
    if not folder.is_dir():
        from clinlabel.errors import StoreError

        raise StoreError(f"{project_dir} is not a folder (the project's folder is needed too).")
    store = Store.open_url(database_url)
    try:
        return Project(folder, store)
    except BaseException:
        store.close()
        raise
