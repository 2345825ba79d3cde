"""The agreement page (issue 13): the same figures as `clinlabel agreement --json`, computed by
the same functions, drawn in the page for a reviewer.

The figures count every first read, so a reader whose first reads are sealed (a blinded
test-retest study) is refused them, as their exports are (`worklist.check_may_export`): the
local server's one annotator holds every role, and a team server's reviewer may also be a
reader (`web.auth.SEES_OTHER_READERS` holds them back until their worklist is done)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from clinlabel.errors import ValidationError
from clinlabel.labelling.agreement import project_agreement
from clinlabel.labelling.project import Project
from clinlabel.labelling.worklist import AGREEMENT, check_may_export
from clinlabel.reports.agreement import agreement_document
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.pages import STATIC
from clinlabel.web.routes.study_access import Reviewer

router = APIRouter(tags=["agreement"])


@router.get("/agreement", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "agreement.html", headers={"Cache-Control": "no-cache"})


def _document(project: Project, reader: str, labels: list[str] | None) -> dict[str, Any]:
    check_may_export(project, reader, output=AGREEMENT)
    return agreement_document(project_agreement(project, labels=labels))


@router.get("/api/agreement")
async def agreement(
    bench: BenchDep,
    reviewer: Reviewer,
    labels: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    """`clinlabel agreement --json` for this project (format clinlabel-agreement/1); `labels`:
    only these labels, comma-separated, as `--labels`."""
    # Admitted by role (the figures name every reader), but never to their own sealed reads.
    wanted: list[str] | None = None
    if labels is not None:
        wanted = [name.strip() for name in labels.split(",") if name.strip()]
        if not wanted:
            raise ValidationError("labels names no label.", hint="Example: ?labels=A,B")
    # The bootstrap interval resamples images a thousand times: a reader thread, not the loop.
    return await bench.read(_document, bench.session.project, reviewer, wanted)
