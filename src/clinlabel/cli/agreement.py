"""`clinlabel agreement`: how far the readers of a project agree (kappa, alpha, per label, ...)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("agreement")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the clinlabel-agreement/1 JSON.")
@click.option(
    "--labels",
    "labels",
    metavar="A,B,...",
    help="Only these labels: a read with any other label counts as not read.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Seed of the bootstrap behind Krippendorff's alpha interval (same seed, same interval).",
)
@click.option(
    "--include-sealed",
    is_flag=True,
    help="In a blinded test-retest study: show the agreement while first reads are still "
    "sealed (hidden from their readers until they read the repeats). Only for someone who is "
    "not a reader of the study; without it the command refuses.",
)
def agreement_command(
    project_dir: Path, as_json: bool, labels: str | None, seed: int, include_sealed: bool
) -> None:
    """Agreement between the readers of PROJECT: Cohen's kappa per pair, Fleiss' kappa,
    Krippendorff's alpha, percent agreement, confusion matrices; per label, per case and each
    reader against the others' majority. Reads imported with `clinlabel import --annotator`
    count as readers too."""
    from clinlabel.errors import ValidationError
    from clinlabel.labelling.agreement import project_agreement
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.worklist import AGREEMENT, check_terminal_export
    from clinlabel.reports.agreement import agreement_document, render_agreement_text

    wanted: list[str] | None = None
    if labels is not None:
        wanted = [name.strip() for name in labels.split(",") if name.strip()]
        if not wanted:
            raise ValidationError("--labels names no label.", hint="Example: --labels A,B")
    with open_project(project_dir, read_only=True) as project:
        # Its matrices and per-case figures count the first reads still sealed (as the report,
        # which holds them too and refuses).
        check_terminal_export(project, include_sealed=include_sealed, shown=AGREEMENT)
        study = project_agreement(project, labels=wanted, seed=seed)
    if as_json:
        click.echo(json.dumps(agreement_document(study), ensure_ascii=False, indent=2))
    else:
        click.echo(render_agreement_text(study), nl=False)
