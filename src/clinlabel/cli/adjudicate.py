"""`clinlabel adjudicate`: the images readers disagree on, and a reviewer's final label, from the
terminal (the page at /adjudicate does the same with the image beside the reads)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("adjudicate")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option("--all", "every", is_flag=True, help="List every image read, not only disagreements.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option("--image", metavar="RELPATH", help="Give this image (Case/Visit/...) a final label.")
@click.option("--label", help="The final label (with --image).")
@click.option("--reason", default="", help="Why (required where the readers disagree).")
@click.option("--reviewer", help="Who adjudicates (default: the system user).")
@click.option(
    "--include-sealed",
    is_flag=True,
    help="In a blinded test-retest study: list the first reads still sealed (hidden from their "
    "readers until they read the repeats) too, or give a final label (its refusals tell the "
    "reads). Only for someone who is not a reader of the study; without it both are refused "
    "while any first read is sealed.",
)
def adjudicate_command(
    project_dir: Path,
    every: bool,
    as_json: bool,
    image: str | None,
    label: str | None,
    reason: str,
    reviewer: str | None,
    include_sealed: bool,
) -> None:
    """List PROJECT's images to adjudicate (readers' labels side by side), or, with --image and
    --label, record the final label and its reason (an audit event)."""
    from clinlabel.errors import ValidationError
    from clinlabel.labelling.adjudication import adjudicate, adjudication_queue, consensus
    from clinlabel.labelling.project import open_project, system_user
    from clinlabel.labelling.service import clean_annotator_name
    from clinlabel.labelling.worklist import ADJUDICATION, check_terminal_export

    if (image is None) != (label is None):
        raise ValidationError("--image and --label go together.")
    if image is not None and label is not None:
        from clinlabel.labelling.saving import Saving

        who = clean_annotator_name(reviewer) if reviewer else system_user()
        with Saving() as saving, open_project(project_dir) as project:
            # Its refusals (a reason asked where the readers disagree) would tell the reads.
            check_terminal_export(project, include_sealed=include_sealed, output=ADJUDICATION)
            found = [
                i for i in adjudication_queue(project, scope="all").items if i.relpath == image
            ]
            if not found:
                raise ValidationError(f"No image {image!r} with a reader's label in {project.dir}.")
            with saving.commit(project.store, f"the final label {label} of {image} by {who}"):
                done = adjudicate(
                    project, reviewer=who, image_id=found[0].image_id, label=label, reason=reason
                )
                click.echo(f"{done.relpath}: final label {label} by {who}.")
        return
    with open_project(project_dir, read_only=True) as project:
        # The list names each reader's label: as a terminal export, never a sealed first read
        # unless whoever runs it says they read none (nothing is written, nothing recorded).
        sealed = check_terminal_export(project, include_sealed=include_sealed, output=ADJUDICATION)
        queue = adjudication_queue(project, scope="all" if every else "disagreements")
    items = [
        {
            "image": item.relpath,
            "reads": {read.reader: read.label for read in item.reads},
            "consensus": consensus(item),
            "final": None if item.final is None else item.final.label,
            "reason": None if item.final is None else item.final.reason,
        }
        for item in queue.items
    ]
    if sealed:
        click.echo(
            f"This list holds {sealed} first read(s) still sealed from their readers: show it "
            "to no reader of this study before they have read their repeats.",
            err=True,
        )
    if as_json:
        click.echo(json.dumps({"scope": queue.scope, "items": items}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(items)} images, {queue.remaining} still to adjudicate:")
    for item in queue.items:
        reads = "; ".join(f"{read.reader}: {read.label}" for read in item.reads)
        decided = "" if item.final is None else f" -> {item.final.label}"
        click.echo(f"  {item.relpath}: {reads}{decided}")
