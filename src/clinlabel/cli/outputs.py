"""`clinlabel export`, `report` and `import`: the labels CSV and the summary report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.cli.shown import shown
from clinlabel.errors import SavedThenInterrupted

if TYPE_CHECKING:
    from clinlabel.audit.status import ChainStatus
    from clinlabel.labelling.importer import ImportReport
    from clinlabel.labelling.saving import Saving

_PROJECT = click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
_FORCE = click.option(
    "--force",
    is_flag=True,
    help="Replace an existing file even when it is not a clinlabel output (never an image, a "
    "file inside a batch or a project's database).",
)
_INCLUDE_SEALED = click.option(
    "--include-sealed",
    is_flag=True,
    help="In a blinded test-retest study: write the first reads still sealed (hidden from "
    "their readers until they read the repeats) too. Only for someone who is not a reader of "
    "the study; the export's event records how many it held. Without it such an export is "
    "refused.",
)
# Kept here so `--help` loads no more than click (labelling.outputs imports the database layer).
_REPORT_NAME = "clinical_labels_summary.txt"
_FRAME_CSV_NAME = "clinical_frame_labels.csv"


def _list_formats(ctx: click.Context) -> None:
    from clinlabel.cli.region_export import list_formats

    list_formats()
    ctx.exit()


@click.command("export")
@_PROJECT
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path),
    help="Where to write the CSV (default: PROJECT/clinical_labels.csv); with --report the "
    f"summary report is written beside it as {_REPORT_NAME}; labels of single frames or "
    f"slices go beside it as {_FRAME_CSV_NAME}.",
)
@click.option(
    "--detailed",
    is_flag=True,
    help="Add annotator, labelled-at (UTC), seconds spent, the image's SHA-256 and the "
    "acquisition geometry columns (the same columns for every project; see the README).",
)
@click.option(
    "--readers",
    is_flag=True,
    help="A team project: one column per reader with their label, then the adjudicated label "
    "and its reason (without it, a team project's CSV has the adjudicated label alone).",
)
@click.option(
    "--report/--no-report",
    "--with-report",
    "with_report",
    default=False,
    show_default=True,
    help=f"Also write the summary report ({_REPORT_NAME}) beside the CSV (the page's Finish "
    "always does; `clinlabel report` writes it alone).",
)
@_FORCE
@click.option(
    "--allow-broken",
    is_flag=True,
    help="Exit 0 even if the audit trail is broken (the report still says BROKEN).",
)
@click.option(
    "--format",
    "fmt",
    default="csv",
    show_default=True,
    help="csv, or a region format (coco, png or masks, nifti, labelme, dicom-seg): see "
    "--list-formats.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Region formats: the folder to write.")
@click.option("--annotator", help="Region formats: only this annotator's regions.")
@click.option(
    "--split", help="Region formats: whole cases to splits, e.g. train=0.8,val=0.1,test=0.1."
)
@click.option("--seed", type=int, default=0, show_default=True, help="The split's random seed.")
@_INCLUDE_SEALED
@click.option(
    "--list-formats",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _param, value: _list_formats(ctx) if value else None,
    help="List the export formats and exit.",
)
def export_command(
    project_dir: Path,
    csv_path: Path | None,
    detailed: bool,
    readers: bool,
    with_report: bool,
    force: bool,
    allow_broken: bool,
    fmt: str,
    out: Path | None,
    annotator: str | None,
    split: str | None,
    seed: int,
    include_sealed: bool,
) -> None:
    """Write the labels CSV (with --report, the summary report too) of PROJECT, or its regions
    in --format.

    Exits 1 if the audit trail or the current labels do not verify (the files are still
    written, the report marked BROKEN), unless --allow-broken.
    """
    if fmt.strip().lower() != "csv":
        from clinlabel.cli import region_export

        region_export.run_region_export(
            project_dir,
            fmt,
            out=out,
            annotator=annotator,
            split=split,
            seed=seed,
            allow_broken=allow_broken,
            include_sealed=include_sealed,
        )
        return
    if out is not None or annotator is not None or split is not None:
        from clinlabel.errors import ValidationError

        raise ValidationError("--out, --annotator and --split go with a region --format.")
    if readers and detailed:
        from clinlabel.errors import ValidationError

        raise ValidationError(
            "--readers and --detailed are two shapes of the CSV: choose one.",
            hint="--detailed has one row per read, with its reader named.",
        )
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.saving import Saving

    if not (with_report or detailed or readers):
        from clinlabel.labelling import csv_export

        # The plain CSV of an SQLite project (the export a user repeats): without SQLAlchemy.
        # Never while a study's repeat is to be read: the full path checks the seal.
        planned = csv_export.plan(project_dir, csv_path, force=force)
        if planned is not None:
            click.echo(f"Writing the labels CSV to {planned.target}")
            with Saving() as saving:
                with terminal_progress() as progress:
                    rows, audit = csv_export.export(
                        planned, actor=csv_export.system_user(), progress=progress
                    )
                    saving.done(f"the labels CSV at {planned.target}")
                click.echo(f"Wrote {rows} labels to {planned.target}")
                _fail_if_broken(audit, allow_broken=allow_broken)
            return
    # Once the files are in place and recorded (a Ctrl+C as the commit returned, while the
    # trail's check finished, as the project closed, as the outcome is printed): said so,
    # "nothing was changed" would be wrong.
    with Saving() as saving:
        audit = _export_with_project(
            project_dir,
            csv_path,
            detailed,
            readers,
            with_report,
            force,
            saving,
            include_sealed,
        )
        _fail_if_broken(audit, allow_broken=allow_broken)


def _export_with_project(
    project_dir: Path,
    csv_path: Path | None,
    detailed: bool,
    readers: bool,
    with_report: bool,
    force: bool,
    saving: Saving,
    include_sealed: bool,
) -> ChainStatus:
    """`export_command`'s CSV (and report) through the project: the trail's check as it found
    it. `saving` is told what was written and recorded as soon as it is, and what is left to
    do then."""
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.csv_export import CHECK_UNFINISHED
    from clinlabel.labelling.outputs import (
        CSV_NAME,
        REPORT_NAME,
        chain_status_meanwhile,
        export_csvs,
        frame_csv_due,
        frame_csv_path,
        save_outputs,
    )
    from clinlabel.labelling.overwrite import check_output_target
    from clinlabel.labelling.project import open_project, system_user
    from clinlabel.labelling.worklist import check_terminal_export

    with open_project(project_dir) as project, terminal_progress() as progress:
        sealed = check_terminal_export(project, include_sealed=include_sealed)
        target = csv_path or project.dir / CSV_NAME
        check_output_target(target, "csv", force=force, batch=project.batch)
        frame_target = frame_csv_path(target)
        frames_due = frame_csv_due(project, frame_target)
        if frames_due:
            check_output_target(frame_target, "csv", force=force, batch=project.batch)
        frames_said = f", the frame labels to {frame_target.resolve()}" if frames_due else ""
        if with_report:
            report_path = target.parent / REPORT_NAME
            check_output_target(report_path, "report", force=force, batch=project.batch)
            # Said before writing: the report lands beside the CSV, wherever that is.
            click.echo(
                f"Writing the labels CSV to {target.resolve()}{frames_said} "
                f"and the summary report to {report_path.resolve()}"
            )
            with saving.commit(
                project.store, f"the labels CSV at {target.resolve()} with its summary report"
            ):
                paths = save_outputs(
                    project,
                    csv_path=csv_path,
                    report_path=report_path,
                    final=True,
                    detailed=detailed,
                    actor=system_user(),
                    parallel=True,
                    progress=progress,
                    readers=readers,
                    sealed=sealed,
                )
            click.echo(f"Wrote {paths.rows} labels to {paths.csv}")
            if paths.frame_csv is not None:
                click.echo(f"Wrote {paths.frame_rows} frame labels to {paths.frame_csv}")
            click.echo(f"Wrote the summary report to {paths.report}")
            audit = paths.audit
        else:
            click.echo(f"Writing the labels CSV to {target.resolve()}{frames_said}")
            # The trail is checked while the CSV is written (the check is SQL, the writing
            # Python): it covers the trail up to this export's own events.
            checked = chain_status_meanwhile(project)
            # Both CSVs staged, then published together: never a new one beside an old one.
            what = f"the labels CSV at {target.resolve()}"
            with saving.commit(project.store, what, unfinished=CHECK_UNFINISHED):
                rows, frame_rows = export_csvs(
                    project,
                    target,
                    detailed=detailed,
                    actor=system_user(),
                    progress=progress,
                    readers=readers,
                    sealed=sealed,
                )
            click.echo(f"Wrote {rows} labels to {target.resolve()}")
            if frame_rows is not None:
                click.echo(f"Wrote {frame_rows} frame labels to {frame_target.resolve()}")
            audit = checked()
            saving.done(what)
    return audit


def _fail_if_broken(audit: ChainStatus, *, allow_broken: bool) -> None:
    if not audit.ok and not allow_broken:
        click.echo(
            f"Error: the audit trail is BROKEN at event {audit.first_broken_event} "
            f"({audit.reason}); do not rely on these labels until `clinlabel audit verify` "
            "passes (--allow-broken exports anyway).",
            err=True,
        )
        raise SystemExit(1)


@click.command("report")
@_PROJECT
@click.option(
    "--txt",
    "txt_path",
    type=click.Path(path_type=Path),
    help="Where to write it (default: PROJECT/clinical_labels_summary.txt).",
)
@click.option(
    "--print",
    "echo",
    is_flag=True,
    help="Print the report; without --txt nothing is written (works on read-only media).",
)
@_FORCE
@_INCLUDE_SEALED
def report_command(
    project_dir: Path, txt_path: Path | None, echo: bool, force: bool, include_sealed: bool
) -> None:
    """Write the summary report of PROJECT (fit for an ethics board), from its stored events."""
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.outputs import REPORT_NAME, report_text, write_report
    from clinlabel.labelling.overwrite import check_output_target
    from clinlabel.labelling.project import open_project, system_user
    from clinlabel.labelling.worklist import check_terminal_export

    if echo and txt_path is None:
        with open_project(project_dir, read_only=True) as project:
            check_terminal_export(project, include_sealed=include_sealed)
            click.echo(report_text(project, parallel=True))
        return
    from clinlabel.labelling.saving import Saving

    with Saving() as saving:
        with open_project(project_dir) as project, terminal_progress() as progress:
            sealed = check_terminal_export(project, include_sealed=include_sealed)
            target = txt_path or project.dir / REPORT_NAME
            check_output_target(target, "report", force=force, batch=project.batch)
            with saving.commit(project.store, f"the summary report at {target.resolve()}"):
                text = write_report(
                    project,
                    target,
                    actor=system_user(),
                    parallel=True,
                    progress=progress,
                    sealed=sealed,
                )
        if echo:
            click.echo(text)
        click.echo(f"Wrote the summary report to {target.resolve()}")


@click.command("import")
@_PROJECT
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path),
    help="A clinical_labels.csv (the seed tool's or clinlabel's).",
)
@click.option(
    "--labelme",
    "labelme_dir",
    type=click.Path(path_type=Path),
    help="A folder of labelme JSON files: their shapes become regions (all or nothing).",
)
@click.option("--annotator", required=True, help="Whose labels these are.")
@click.option(
    "--skip-unmatched",
    is_flag=True,
    help="Import the rows that fit and list the others, instead of importing nothing.",
)
@click.option(
    "--outside-worklist",
    is_flag=True,
    help="In a reading study: also import rows for images not in the reader's worklist.",
)
def import_command(
    project_dir: Path,
    csv_path: Path | None,
    labelme_dir: Path | None,
    annotator: str,
    skip_unmatched: bool,
    outside_worklist: bool,
) -> None:
    """Take in an existing labels CSV (or labelme files) as audited label (region) events."""
    from clinlabel.errors import ValidationError

    if (csv_path is None) == (labelme_dir is None):
        raise ValidationError("Give one of --csv FILE or --labelme DIR to import.")
    if labelme_dir is not None:
        from clinlabel.cli.region_export import run_labelme_import

        run_labelme_import(project_dir, labelme_dir, annotator=annotator)
        return
    assert csv_path is not None
    from clinlabel.cli.progress import terminal_progress
    from clinlabel.labelling.importer import import_labels
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.saving import Saving

    report: ImportReport | None = None
    try:
        with open_project(project_dir) as project, terminal_progress() as progress:
            report = import_labels(
                project,
                csv_path,
                annotator=annotator,
                skip_unmatched=skip_unmatched,
                progress=progress,
                outside_worklist=outside_worklist,
            )
    except KeyboardInterrupt:
        if report is None:
            raise  # nothing committed: the all-or-nothing line
        # Ctrl+C once the labels were committed (the project closing, its last WAL checkpoint):
        # the import stands, and "nothing was changed" would be a lie.
        report.interrupted = True
    imported = f"the import of {report.imported} labels for {annotator}"
    with Saving() as saving:
        saving.done(imported)
        _echo_import(report, annotator)  # what was saved, also when interrupted
    if report.interrupted:
        raise SavedThenInterrupted(imported)


def _echo_import(report: ImportReport, annotator: str) -> None:
    match = report.match
    click.echo(
        f"Imported {report.imported} labels for {annotator} ({report.unchanged} already the same)."
    )
    if report.outside_worklist:
        click.echo(
            f"  {report.outside_worklist} row(s) for images outside {annotator}'s worklist of "
            "the study, imported as asked (--outside-worklist)."
        )
    for dup in match.duplicates:
        lines = ", ".join(str(r.line) for r in dup.superseded)
        click.echo(
            f"  {shown(dup.relpath)}: named again on line {dup.kept.line}; line(s) {lines} ignored"
        )
    for unknown in match.unknown:
        click.echo(f"  left out line {unknown.row.line}: {unknown.reason}")
    for amb in match.ambiguous:
        click.echo(
            f"  left out line {amb.row.line}: {amb.row.file} could be {' or '.join(amb.candidates)}"
        )
    for row, why in report.invalid:
        click.echo(f"  left out line {row.line}: {why}")
