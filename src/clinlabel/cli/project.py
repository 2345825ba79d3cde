"""`clinlabel init` and `clinlabel scan`: create or rescan a project; look at a batch."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.cli.shown import shown
from clinlabel.domain import ScanResult
from clinlabel.domain.images import ImageKind, ImageRef

if TYPE_CHECKING:
    from clinlabel.labelling.project import InitReport


@click.command("init")
@click.argument("batch", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "project_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Project folder for the database and every output (never inside the batch).",
)
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(path_type=Path),
    help="Label schema (.toml or .json); the default is Suspicious / Non-Suspicious / NA.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Also read every file's header to find bad images, and hash every labelled image to "
    "find bytes that changed with their size and time kept.",
)
@click.option(
    "--database-url",
    help="Keep the records on a database server (postgresql+psycopg://user@host/db) instead "
    "of an SQLite file in --out; remembered in --out/project.toml.",
)
@click.option(
    "--new-batch",
    is_flag=True,
    help="Point an existing project at BATCH although its own batch is still on disk (its "
    "images not found in BATCH are marked missing; labels are kept).",
)
def init_command(
    batch: Path,
    project_dir: Path,
    schema_path: Path | None,
    verify: bool,
    database_url: str | None,
    new_batch: bool,
) -> None:
    """Create a project for BATCH in --out, or rescan the batch of an existing project."""
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.project import init_project
    from clinlabel.labelling.saving import Saving

    with Saving() as saving:
        with terminal_progress() as progress:
            report = init_project(
                batch,
                project_dir,
                schema_path=schema_path,
                verify=verify,
                database_url=database_url,
                parallel=True,
                progress=progress,
                new_batch=new_batch,
            )
            made = "the new project" if report.created else "the scan of the batch into the project"
            saving.done(f"{made} {report.project_dir}")
        _echo_init(report)


def _echo_init(report: InitReport) -> None:
    scan = report.scan
    verb = "Created" if report.created else "Rescanned"
    click.echo(f"{verb} project {report.project_dir} for batch {report.batch}")
    click.echo(
        f"  {report.total} images in {scan.cases} cases and {scan.visits} visits; "
        f"{report.new} new, {report.removed} gone from disk, {report.returned} back"
    )
    _echo_problems(scan)
    if report.changed:
        click.echo(
            f"  {len(report.changed)} labelled images changed on disk (labels kept, flagged):"
        )
        for relpath in report.changed[:20]:
            click.echo(f"    {shown(relpath)}")
    click.echo(f"Next: clinlabel label {report.batch} --out {report.project_dir}")


@click.command("scan")
@click.argument("batch", type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output (format clinlabel-scan/1, described in the README).",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Read only each file's first bytes (what is an image, as init decides); skip the "
    "header checks that find images the viewer cannot show.",
)
def scan_command(batch: Path, as_json: bool, quick: bool) -> None:
    """Show what a batch holds: cases, visits, images, problem files, skipped folders."""
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.discovery.scan import scan_batch
    from clinlabel.domain.progress import REPORT_EVERY

    result = ScanResult()
    tally = _Tally(batch, quick=quick, keep_paths=as_json)
    with terminal_progress() as progress:
        for seen, ref in enumerate(scan_batch(batch, result, verify=not quick), start=1):
            if seen % REPORT_EVERY == 0:
                progress("Scanning the batch", seen, None)
            tally.add(ref, result)
    per_case, visits_per_case = tally.per_case, tally.visits_per_case
    paths, unshowable = tally.paths, tally.unshowable
    if as_json:
        click.echo(
            json.dumps(
                {
                    "format": "clinlabel-scan/1",
                    "batch": str(batch.resolve()),
                    "counts": {
                        "cases": result.cases,
                        "visits": result.visits,
                        "images": result.images,
                        "problems": len(result.problems),
                        "skipped": len(result.skipped),
                        "cannot_show": len(unshowable),
                    },
                    "images": paths,
                    "problems": [{"path": p.relpath, "reason": p.reason} for p in result.problems],
                    "cannot_show": [{"path": path, "reason": why} for path, why in unshowable],
                    "skipped": [
                        {"path": s.relpath, "reason": s.reason, "images": s.image_count}
                        for s in result.skipped
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"Batch {batch.resolve()}")
    width = max([len("Case"), *(len(c) for c in per_case)])
    click.echo(f"  {'Case':<{width}}  {'Visits':>6}  {'Images':>7}")
    for case, count in per_case.items():
        click.echo(f"  {shown(case):<{width}}  {len(visits_per_case[case]):>6}  {count:>7}")
    click.echo(
        f"  {'Total':<{width}}  {result.visits:>6}  {result.images:>7}   "
        f"({result.cases} cases, {len(result.problems)} problems, {len(result.skipped)} skipped)"
    )
    _echo_problems(result)
    if unshowable:
        click.echo(
            f"  {len(unshowable)} images the viewer cannot show (kept in the queue: label them "
            "NA with a comment):"
        )
        for path, why in unshowable[:50]:
            click.echo(f"    {shown(path)}: {shown(why)}")
        if len(unshowable) > 50:
            click.echo(f"    ... and {len(unshowable) - 50} more (use --json for all)")


class _Tally:
    """What `scan` prints, gathered one image at a time."""

    def __init__(self, batch: Path, *, quick: bool, keep_paths: bool) -> None:
        self.batch, self.quick, self.keep_paths = batch, quick, keep_paths
        self.per_case: Counter[str] = Counter()
        self.visits_per_case: dict[str, set[str]] = {}
        self.paths: list[str] = []
        self.unshowable: list[tuple[str, str]] = []

    def add(self, ref: ImageRef, result: ScanResult) -> None:
        self.per_case[ref.case] += 1
        self.visits_per_case.setdefault(ref.case, set()).add(ref.visit)
        if self.keep_paths:
            self.paths.append(ref.relpath)
        marked = result.unshowable[-1] if result.unshowable else None
        if marked is not None and marked.relpath == ref.relpath:  # the scan's own mark
            self.unshowable.append((ref.relpath, marked.reason))
        elif not self.quick and ref.kind in (ImageKind.DICOM, ImageKind.NIFTI):
            from clinlabel.imaging.check import why_not_shown

            reason = why_not_shown(self.batch / ref.relpath, ref.kind)
            if reason is not None:
                self.unshowable.append((ref.relpath, reason))


def _echo_problems(scan: ScanResult, *, limit: int = 50) -> None:
    if scan.problems:
        click.echo(f"  {len(scan.problems)} problem files (not in the queue):")
        for problem in scan.problems[:limit]:
            click.echo(f"    {shown(problem.relpath)}: {shown(problem.reason)}")
        if len(scan.problems) > limit:
            click.echo(f"    ... and {len(scan.problems) - limit} more (use --json for all)")
    if scan.skipped:
        click.echo(f"  {len(scan.skipped)} skipped (not an XC / CLINICAL folder, or misplaced):")
        for skipped in scan.skipped[:limit]:
            click.echo(
                f"    {shown(skipped.relpath)}: {shown(skipped.reason)} "
                f"({skipped.image_count} images)"
            )
        if len(scan.skipped) > limit:
            click.echo(f"    ... and {len(scan.skipped) - limit} more (use --json for all)")
