"""Save progress (partial CSV + summary) and the final export, and the files they wrote.

Downloads serve only the files this server has just written; no path comes from the request.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse

from clinlabel.web.deps import BenchDep
from clinlabel.web.errors import NotFoundError
from clinlabel.web.schemas import OutputsOut

router = APIRouter(prefix="/api/outputs", tags=["outputs"])


async def _write(bench: BenchDep, *, final: bool) -> OutputsOut:
    from clinlabel.labelling.outputs import save_outputs

    bench.session  # noqa: B018  (raises NotStartedError before a project is open)
    project = bench.project
    annotator = bench.annotator or "unknown"
    assert project is not None
    paths = await bench.call(save_outputs, project, final=final, actor=annotator)
    bench.last_outputs = paths
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
    return await _write(bench, final=False)


@router.post("/final")
async def finish(bench: BenchDep) -> OutputsOut:
    return await _write(bench, final=True)


@router.get("/{which}")
def download(which: Literal["csv", "report"], bench: BenchDep) -> FileResponse:
    outputs = bench.last_outputs
    if outputs is None:
        raise NotFoundError("Nothing has been written yet: use Save progress or Finish.")
    path = outputs.csv if which == "csv" else outputs.report
    media = "text/csv; charset=utf-8" if which == "csv" else "text/plain; charset=utf-8"
    return FileResponse(path, media_type=media, filename=path.name)
