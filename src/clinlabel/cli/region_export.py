"""`clinlabel export --format coco|png|nifti|labelme`: the region exports of issue 12,
`--list-formats`, and `clinlabel import --labelme`. Kept apart from `cli/outputs.py` so the
labels CSV's commands stay as they were."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.cli.shown import shown

if TYPE_CHECKING:
    from clinlabel.audit.status import ChainStatus
    from clinlabel.exports.splits import SplitSpec
    from clinlabel.labelling.region_exports import RegionExportResult

#: The labels CSV is the export's original format; the region formats follow it in the list.
CSV_FORMAT = ("csv", "the labels CSV (the default; with --report, the summary report too)")


def list_formats() -> None:
    from clinlabel.exports.region_formats import FORMAT_ALIASES, REGION_FORMATS

    click.echo(f"{CSV_FORMAT[0]:9} {CSV_FORMAT[1]}")
    for fmt in REGION_FORMATS.values():
        aliases = [alias for alias, name in FORMAT_ALIASES.items() if name == fmt.name]
        also = f" (also --format {', '.join(aliases)})" if aliases else ""
        click.echo(f"{fmt.name:9} {fmt.description}{also}")


def run_region_export(
    project_dir: Path,
    fmt: str,
    *,
    out: Path | None,
    annotator: str | None,
    split: str | None,
    seed: int,
    allow_broken: bool = False,
    include_sealed: bool = False,
) -> None:
    from clinlabel.exports.splits import parse_split
    from clinlabel.labelling.outputs import chain_status
    from clinlabel.labelling.project import open_project, system_user
    from clinlabel.labelling.region_exports import export_regions
    from clinlabel.labelling.saving import Saving
    from clinlabel.labelling.worklist import check_terminal_export

    spec = None if split is None else parse_split(split, seed=seed)
    # Once the files are in place and recorded, a Ctrl+C (as the trail is checked, the project
    # closes, the outcome is printed) says so.
    with Saving() as saving:
        with open_project(project_dir) as project:
            # The regions drawn at a sealed first read are part of it (hidden with it).
            sealed = check_terminal_export(project, include_sealed=include_sealed, reader=annotator)
            result = export_regions(
                project,
                fmt,
                out=out,
                annotator=annotator,
                split=spec,
                actor=system_user(),
                sealed=sealed,
            )
            what = f"the {fmt} export of the regions to {result.folder}"
            saving.done(
                what,
                unfinished="the check of the audit trail after it did not finish (`clinlabel "
                "audit verify` runs it)",
            )
            # As the labels CSV's export: regions changed behind the trail are still written (to
            # be examined), but the command says so and fails unless --allow-broken.
            audit = chain_status(project, parallel=True)
            saving.done(what)
        _echo_region_export(result, fmt, spec, audit, allow_broken=allow_broken)


def _echo_region_export(
    result: RegionExportResult,
    fmt: str,
    spec: SplitSpec | None,
    audit: ChainStatus,
    *,
    allow_broken: bool,
) -> None:
    click.echo(
        f"Wrote {result.regions} regions as {fmt} ({len(result.files)} files) "
        f"to {shown(result.folder)}"
    )
    if result.left_out:
        click.echo(
            f"  {result.left_out} regions left out: {fmt} has no place for them "
            "(see --list-formats and the README)"
        )
    if spec is not None:
        for name in spec.names:
            cases = sum(1 for s in result.splits.values() if s == name)
            click.echo(f"  {name}: {cases} cases")
    if not audit.ok and not allow_broken:
        click.echo(
            f"Error: the audit trail is BROKEN at event {audit.first_broken_event} "
            f"({audit.reason}); do not rely on these regions until `clinlabel audit verify` "
            "passes (--allow-broken exports anyway).",
            err=True,
        )
        raise SystemExit(1)


def run_labelme_import(project_dir: Path, folder: Path, *, annotator: str) -> None:
    from clinlabel.labelling.labelme_import import import_labelme
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.saving import Saving

    with Saving() as saving:
        with open_project(project_dir) as project:
            with saving.commit(
                project.store, f"the import of the labelme files in {folder} for {annotator}"
            ):
                report = import_labelme(project, folder, annotator=annotator)
            saving.done(f"the import of {report.regions} regions for {annotator}")
        click.echo(
            f"Imported {report.regions} regions for {annotator} from {report.files} labelme files."
        )
