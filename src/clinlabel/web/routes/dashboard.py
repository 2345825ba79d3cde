"""The study dashboard: per reader, per case and per day figures (`labelling.dashboard`), and
the page that draws them and asks again while people work."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel

from clinlabel.labelling.dashboard import Dashboard, study_dashboard
from clinlabel.labelling.worklist import DASHBOARD, check_may_export
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.pages import STATIC
from clinlabel.web.routes.study_access import Reviewer

router = APIRouter(tags=["dashboard"])


class ReaderOut(BaseModel):
    reader: str
    done: int
    assigned: int | None
    na: int
    na_rate: float | None
    active_seconds: float
    per_hour: float | None
    median_seconds: float | None
    consensus_n: int
    consensus_percent: float | None
    #: A study's repeats, apart from the first reads the figures above are of.
    repeats_assigned: int | None = None
    repeats_done: int = 0
    repeat_seconds: float = 0.0


class CaseOut(BaseModel):
    case: str
    images: int
    done: int
    expected: int
    percent: float


class DayOut(BaseModel):
    day: str
    reader: str
    labels: int


class DashboardOut(BaseModel):
    generated_at: str
    study: bool
    na_labels: list[str]
    readers: list[ReaderOut]
    cases: list[CaseOut]
    days: list[DayOut]

    @classmethod
    def of(cls, found: Dashboard) -> DashboardOut:
        return cls(
            generated_at=found.generated_at,
            study=found.study,
            na_labels=list(found.na_labels),
            readers=[ReaderOut.model_validate(r, from_attributes=True) for r in found.readers],
            cases=[CaseOut.model_validate(c, from_attributes=True) for c in found.cases],
            days=[DayOut.model_validate(d, from_attributes=True) for d in found.days],
        )


@router.get("/dashboard", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "dashboard.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/dashboard")
async def dashboard(bench: BenchDep, reviewer: Reviewer) -> DashboardOut:
    # Admitted by role (the figures name every reader), but never to their own sealed reads.
    project = bench.session.project

    def read() -> Dashboard:
        check_may_export(project, reviewer, output=DASHBOARD)
        return study_dashboard(project)

    return DashboardOut.of(await bench.read(read))
