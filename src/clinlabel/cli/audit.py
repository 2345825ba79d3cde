"""`clinlabel audit verify|log`: check and read the tamper-evident audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import click

from clinlabel.cli.shown import shown


@click.group("audit")
def audit_group() -> None:
    """Check or read a project's audit trail."""


@audit_group.command("verify")
@click.argument("project_dir", type=click.Path(path_type=Path))
@click.option(
    "--expect-head",
    metavar="HASH",
    help="A head hash recorded earlier (the summary report prints it): the trail must hold it.",
)
def verify_command(project_dir: Path, expect_head: str | None) -> None:
    """Recompute the hash chain and check the current labels against it; exit 1 and name the
    first broken event if anything does not match."""
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.audit_trail import verify_project

    with terminal_progress() as progress:
        status = verify_project(project_dir, expect_head=expect_head, progress=progress)
    if status.ok:
        click.echo(f"OK: {status.events} events, chain intact (head {status.head_hash})")
        return
    click.echo(
        f"BROKEN at event {status.first_broken_event}: {status.reason}. "
        f"The {(status.first_broken_event or 1) - 1} events before it are intact.",
        err=True,
    )
    raise SystemExit(1)


@audit_group.command("log")
@click.argument("project_dir", type=click.Path(path_type=Path))
@click.option("--limit", default=50, show_default=True, help="Newest N events (0 for all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def log_command(project_dir: Path, limit: int, as_json: bool) -> None:
    """Show the newest events: when, who, what, which image, old and new value."""
    from clinlabel.labelling.audit_trail import read_events

    for event in read_events(project_dir, limit=limit):
        if as_json:
            click.echo(json.dumps(event, ensure_ascii=False))
            continue
        image = f" {shown(event['image'])}" if event["image"] else ""
        when, who, what = event["ts_utc"], shown(event["actor"]), event["kind"]
        data = shown(str(event["data"]))
        click.echo(f"{event['id']:>6}  {when}  {who}  {what}{image}  {data}")
