"""The agreement page (issue 13): the same figures as `clinlabel agreement --json`, computed by
the same functions, drawn in the page for a reviewer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from clinlabel.errors import ValidationError
from clinlabel.labelling.agreement import project_agreement
from clinlabel.labelling.project import Project
from clinlabel.labelling.worklist import AGREEMENT, check_may_see_reads
from clinlabel.reports.agreement import agreement_document
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.pages import STATIC
from clinlabel.web.routes.study_access import Reviewer

router = APIRouter(tags=["agreement"])


@router.get("/agreement", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "agreement.html", headers={"Cache-Control": "no-cache"})


def _document(project: Project, labels: list[str] | None) -> dict[str, Any]:
    return agreement_document(project_agreement(project, labels=labels))


@router.get("/api/agreement")
async def agreement(
    bench: BenchDep,
    reviewer: Reviewer,
    labels: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """`clinlabel agreement --json` for this project (format clinlabel-agreement/1); `labels`:
    only these labels, comma-separated, as `--labels`."""
    # Admitted (the figures name every reader), unless the figures count first reads of theirs
    # still sealed: the local server's reader holds every role.
    await bench.read(check_may_see_reads, bench.session.project, reviewer, shown=AGREEMENT)
    wanted: list[str] | None = None
    if labels is not None:
        wanted = [name.strip() for name in labels.split(",") if name.strip()]
        if not wanted:
            raise ValidationError("labels names no label.", hint="Example: ?labels=A,B")
    # The bootstrap interval resamples images a thousand times: a reader thread, not the loop.
    return await bench.read(_document, bench.session.project, wanted)
