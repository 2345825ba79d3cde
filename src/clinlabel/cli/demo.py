"""`clinlabel demo`: a synthetic batch (never real patient data) and a project to try things on."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click


@click.command("demo")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("demo"))
@click.option("--label", "start_label", is_flag=True, help="Then start labelling in the browser.")
@click.option(
    "--annotator",
    help="Your name or initials for the audit trail. Left out: asked on the start page "
    "(with --label), or your login name when there is no terminal to ask in.",
)
@click.option("--fresh", is_flag=True, help="Delete FOLDER first.")
def demo_command(folder: Path, start_label: bool, annotator: str | None, fresh: bool) -> None:
    """Make FOLDER/batch (synthetic images in the seed layout) and FOLDER/project."""
    from clinlabel.demo.batch import make_demo_batch
    from clinlabel.labelling.project import init_project

    if fresh and folder.exists():
        shutil.rmtree(folder)
    batch = folder / "batch"
    project = folder / "project"
    if not batch.exists():
        make_demo_batch(batch)
        click.echo(f"Made a synthetic demo batch in {batch}")
    report = init_project(batch, project)
    problems, skipped = len(report.scan.problems), len(report.scan.skipped)
    click.echo(
        f"Project {report.project_dir}: {report.total} images in {report.scan.cases} cases; "
        f"{problems} problem {'file' if problems == 1 else 'files'} and {skipped} skipped "
        f"{'folder' if skipped == 1 else 'folders'} (on purpose, to show how they are reported)."
    )
    # Labels carry a person's name in the audit trail, never a made-up "demo".
    named = ["--annotator", annotator] if annotator else []
    if not start_label:
        click.echo(" ".join(["Next: clinlabel label", str(batch), "--out", str(project), *named]))
        return
    from clinlabel.cli.label import label_command
    from clinlabel.labelling.project import system_user

    if not named and not _at_terminal():
        # Nobody at a terminal (a script): the login name, as `init` and `export` record it.
        named = ["--annotator", system_user()]
        click.echo(f"Labelling as {named[1]} (your login name; --annotator chooses another).")
    # With a terminal and no --annotator, the start page asks for the name.
    args = [str(batch), "--out", str(project), *named]
    if not sys.stdout.isatty() or not _has_display():
        args.append("--no-browser")
    label_command.main(args=args, standalone_mode=False)


def _at_terminal() -> bool:
    """Someone at a terminal started this: the start page may ask for their name."""
    return sys.stdin.isatty()


def _has_display() -> bool:
    import os

    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
