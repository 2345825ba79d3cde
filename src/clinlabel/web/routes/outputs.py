"""Save progress (partial CSV + summary) and the final export, and the files they wrote.

Downloads serve only the files this server has just written; no path comes from the request.
The final export also writes the region formats ticked in the finish bar, chosen by name among
those the project offers (`GET /api/outputs/formats`): never a path from the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse

from clinlabel.labelling.worklist import check_may_export
from clinlabel.web.deps import BenchDep
from clinlabel.web.errors import NotFoundError
from clinlabel.web.export_schemas import ExportFormatOut, FinishIn, FinishOut, RegionExportOut
from clinlabel.web.schemas import OutputsOut

if TYPE_CHECKING:
    from clinlabel.labelling.outputs import OutputPaths

router = APIRouter(prefix="/api/outputs", tags=["outputs"])


def _outputs_out(paths: OutputPaths, *, final: bool) -> OutputsOut:
    audit = paths.audit
    problem = None
    if not audit.ok:
        problem = f"at event {audit.first_broken_event}: {audit.reason}"
    return OutputsOut(
        final=final,
        csv=str(paths.csv),
        report=str(paths.report),
        report_text=paths.report_text,
        trail_ok=audit.ok,
        trail_problem=problem,
        frame_csv=None if paths.frame_csv is None else str(paths.frame_csv),
    )


@router.post("/progress")
async def save_progress(bench: BenchDep) -> OutputsOut:
    from clinlabel.labelling.outputs import save_outputs

    bench.session  # noqa: B018  (raises NotStartedError before a project is open)
    project = bench.project
    assert project is not None
    sealed = await bench.read(check_may_export, project, bench.session.annotator)
    paths = await bench.call(
        save_outputs, project, final=False, actor=bench.annotator or "unknown", sealed=sealed
    )
    bench.last_outputs = paths
    return _outputs_out(paths, final=False)


@router.post("/final")
async def finish(bench: BenchDep, body: Annotated[FinishIn | None, Body()] = None) -> FinishOut:
    from clinlabel.labelling.finish_exports import finish_exports

    bench.session  # noqa: B018
    project = bench.project
    assert project is not None
    sealed = await bench.read(check_may_export, project, bench.session.annotator)
    formats = [] if body is None else body.formats
    done = await bench.call(
        finish_exports, project, formats, actor=bench.annotator or "unknown", sealed=sealed
    )
    bench.last_outputs = done.outputs
    return FinishOut(
        **_outputs_out(done.outputs, final=True).model_dump(),
        region_exports=[
            RegionExportOut(
                name=fmt.name,
                title=fmt.title,
                folder=str(result.folder),
                files=len(result.files),
                regions=result.regions,
                left_out=result.left_out,
            )
            for fmt, result in done.regions
        ],
    )


@router.get("/formats")
async def export_formats(bench: BenchDep) -> list[ExportFormatOut]:
    """The region exports Finish can also write for this project (none without region classes)."""
    from clinlabel.labelling.finish_exports import offered_folder, offered_formats

    bench.session  # noqa: B018
    project = bench.project
    assert project is not None
    offered = await bench.read(offered_formats, project)
    return [
        ExportFormatOut(
            name=f.name,
            title=f.title,
            description=f.description,
            folder=offered_folder(project, f),
        )
        for f in offered
    ]


@router.get("/{which}")
def download(which: Literal["csv", "report"], bench: BenchDep) -> FileResponse:
    outputs = bench.last_outputs
    if outputs is None:
        raise NotFoundError("Nothing has been written yet: use Save progress or Finish.")
    path = outputs.csv if which == "csv" else outputs.report
    media = "text/csv; charset=utf-8" if which == "csv" else "text/plain; charset=utf-8"
    return FileResponse(path, media_type=media, filename=path.name)
