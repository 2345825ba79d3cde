"""`clinlabel study`: the design of a reading study (who reads what, in which order)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("study")
def study_group() -> None:
    """Design a reading study: assign images to readers (worklists, order, repeats)."""


@study_group.command("assign")
@click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))
@click.option("--readers", required=True, metavar="A,B,C", help="The readers, by name.")
@click.option(
    "--per-image",
    type=click.IntRange(min=1),
    metavar="K",
    help="Every image read by K readers (balanced).",
)
@click.option("--by-case", is_flag=True, help="Whole cases, each to one reader (balanced).")
@click.option(
    "--sample", type=click.IntRange(min=1), metavar="N", help="A random sample of N images."
)
@click.option(
    "--overlap",
    type=float,
    default=0.0,
    metavar="F",
    help="With --by-case or --sample: the fraction of cases or images read by every reader.",
)
@click.option(
    "--repeats",
    type=float,
    default=0.0,
    metavar="F",
    help="The fraction of each reader's images shown again later, blinded (test-retest).",
)
@click.option(
    "--order",
    type=click.Choice(["random", "batch"]),
    default="random",
    show_default=True,
    help="random: each reader's own stable random order of cases; batch: the batch's order.",
)
@click.option("--locked", is_flag=True, help="The next case opens only when this one is done.")
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**48 - 1),
    help="The study's seed (default: a random one, recorded in the audit trail).",
)
def assign_command(
    project_dir: Path,
    readers: str,
    per_image: int | None,
    by_case: bool,
    sample: int | None,
    overlap: float,
    repeats: float,
    order: str,
    locked: bool,
    seed: int | None,
) -> None:
    """Share PROJECT's images out to the readers: each gets a worklist, balanced, in their own
    order of cases; recorded with the seeds in the audit trail."""
    from clinlabel.errors import ValidationError
    from clinlabel.labelling.assignments import StudyDesign, assign_study, parse_readers
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.saving import Saving

    chosen = [
        name
        for name, on in (("--per-image", per_image), ("--by-case", by_case), ("--sample", sample))
        if on
    ]
    if len(chosen) != 1:
        raise ValidationError(
            "Choose one design: --per-image K, --by-case or --sample N"
            + (f" (not {' and '.join(chosen)})." if chosen else ".")
        )
    design = StudyDesign(
        design=chosen[0].removeprefix("--"),
        per_image=per_image,
        sample=sample,
        overlap=overlap,
        repeats=repeats,
        order=order,
        locked=locked,
    )
    names = parse_readers(readers)
    with Saving() as saving:
        with open_project(project_dir) as project:
            with saving.commit(project.store, f"the study's worklists for {', '.join(names)}"):
                report = assign_study(project, names, design, seed=seed)
            saving.done(f"the study's worklists for {', '.join(names)} (seed {report.seed})")
        click.echo(f"Study assigned (seed {report.seed}, recorded in the audit trail):")
        for plan in report.plans:
            repeats_text = f" + {plan.repeats} repeats" if plan.repeats else ""
            click.echo(
                f"  {plan.reader}: {plan.first_reads} images{repeats_text} (seed {plan.seed})"
            )
