"""The page's "Finish and export" with region formats: the labels CSV and summary report as
always, plus the region exports the annotator ticked among those the project makes sensible.

Every chosen format is planned (its regions read, each file's grid checked) before any file is
written, so a region that cannot be exported stops the finish with nothing changed. The region
exports go where the CLI's would (`PROJECT/exports/FORMAT/`: inside the output folder the user
chose, never inside the batch), each written atomically with one audit event naming the SHA-256
of every file; the labels CSV, the report and the final event come last, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinlabel.errors import OutputError, ValidationError
from clinlabel.exports.region_formats import REGION_FORMATS, RegionFormat
from clinlabel.labelling.outputs import OutputPaths, save_outputs
from clinlabel.labelling.project import Project
from clinlabel.labelling.region_exports import (
    RegionExportResult,
    default_folder,
    plan_region_export,
    write_region_export,
)
from clinlabel.store import region_rows


@dataclass(frozen=True, slots=True)
class Finished:
    outputs: OutputPaths
    regions: list[tuple[RegionFormat, RegionExportResult]]


def offered_formats(project: Project) -> list[RegionFormat]:
    """The region formats this project's schema and images make sensible: none without region
    classes; NIfTI only with volumes; DICOM SEG only with DICOM files; labelme without slices."""
    if not project.schema.regions:
        return []
    with project.store.read() as conn:
        kinds = region_rows.image_kinds(conn)
    return [f for f in REGION_FORMATS.values() if f.kinds & kinds]


def offered_folder(project: Project, fmt: RegionFormat) -> str:
    return str(default_folder(project, fmt.name).resolve())


def finish_exports(
    project: Project, formats: list[str], *, actor: str, sealed: int = 0
) -> Finished:
    """The final export: the chosen region formats, then the labels CSV and the report.
    `sealed`: the study's sealed first reads they hold, in their events
    (`worklist.check_may_export`)."""
    offered = {f.name: f for f in offered_formats(project)}
    chosen: list[str] = []
    for name in formats:
        if name not in offered:
            sensible = ", ".join(offered) or "none (the schema declares no region classes)"
            raise ValidationError(
                f"{name!r} is not an export this project offers; it offers {sensible}."
            )
        if name not in chosen:
            chosen.append(name)
    plans = [plan_region_export(project, name) for name in chosen]
    done: list[tuple[RegionFormat, RegionExportResult]] = []
    for plan in plans:
        try:
            done.append(
                (plan.format, write_region_export(project, plan, actor=actor, sealed=sealed))
            )
        except OutputError as exc:
            # A disk that filled half-way: what was already written is said, not hidden.
            written = "; ".join(f"{f.title} in {r.folder}" for f, r in done)
            raise OutputError(
                exc.message + (f" Already written: {written}." if written else ""),
                hint=exc.hint,
            ) from exc
    outputs = save_outputs(project, final=True, actor=actor, sealed=sealed)
    return Finished(outputs, done)
