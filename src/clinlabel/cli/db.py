"""`clinlabel db copy PROJECT --to URL`: move a project's records to PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("db")
def db_group() -> None:
    """The project's database."""


@db_group.command("copy")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option("--to", "url", required=True, help="An empty PostgreSQL database's URL.")
@click.option(
    "--keep-using-sqlite",
    is_flag=True,
    help="Only copy; the project keeps using its SQLite file.",
)
def copy_command(project_dir: Path, url: str, keep_using_sqlite: bool) -> None:
    """Copy PROJECT's records (every event, label and user) into the database at URL, verify
    the copy's audit trail, and make the project use it (for `clinlabel serve` on several
    machines). The SQLite file stays as it was."""
    from clinlabel.labelling.db_copy import copy_project

    report = copy_project(project_dir, url, switch=not keep_using_sqlite)
    rows = sum(report.rows.values())
    click.echo(
        f"Copied {rows} rows; the copy's audit trail verifies: {report.events} events, "
        f"head {report.head_hash}."
    )
    if report.switched:
        click.echo(f"{project_dir} now keeps its records on the server (project.toml).")
