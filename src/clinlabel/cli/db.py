"""`clinlabel db copy PROJECT --to URL`: move a project's records to PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click

from clinlabel.cli.database_url import ENVIRONMENT, chosen_url, url_file_option


@click.group("db")
def db_group() -> None:
    """The project's database."""


@db_group.command("copy")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "url",
    help="An empty PostgreSQL database's URL (postgresql+psycopg://USER@HOST/DB); left out: "
    f"--database-url-file, then {ENVIRONMENT}. Keep the password in ~/.pgpass or PGPASSWORD: "
    "one here is visible to every local user (warned).",
)
@url_file_option
@click.option(
    "--keep-using-sqlite",
    is_flag=True,
    help="Only copy; the project keeps using its SQLite file.",
)
def copy_command(
    project_dir: Path, url: str | None, url_file: Path | None, keep_using_sqlite: bool
) -> None:
    """Copy PROJECT's records (every event, label and user) into the database at URL, verify
    the copy's audit trail, and make the project use it (for `clinlabel serve` on several
    machines). The SQLite file stays as it was."""
    from clinlabel.errors import ValidationError
    from clinlabel.labelling.db_copy import copy_project

    target = chosen_url(url, url_file, option="--to")
    if target is None:
        raise ValidationError(
            f"Which database? Give --to URL, --database-url-file FILE, or set {ENVIRONMENT}.",
        )
    report = copy_project(project_dir, target, switch=not keep_using_sqlite)
    rows = sum(report.rows.values())
    click.echo(
        f"Copied {rows} rows; the copy's audit trail verifies: {report.events} events, "
        f"head {report.head_hash}."
    )
    if report.switched:
        click.echo(f"{project_dir} now keeps its records on the server (project.toml).")
