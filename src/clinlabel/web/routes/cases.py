"""Progress overall and per case, with each case's visits, for the sidebar."""

from __future__ import annotations

from fastapi import APIRouter

from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import CaseOut, ProgressOut, VisitOut

router = APIRouter(prefix="/api", tags=["progress"])

# Visits are read from the kept `queue_visits` (a row each); beyond this many images the sidebar
# lists cases only.
VISIT_SCAN_LIMIT = 50_000


@router.get("/progress")
async def progress(bench: BenchDep) -> ProgressOut:
    session = bench.session
    return ProgressOut.of(await bench.read(session.progress))


@router.get("/cases")
async def cases(bench: BenchDep) -> list[CaseOut]:
    session = bench.session

    def gather() -> list[CaseOut]:
        per_case = session.case_progress()
        total = sum(c.total for c in per_case)
        visits: dict[str, list[VisitOut]] = {}
        if total <= VISIT_SCAN_LIMIT:
            for case, visit, first, count in session.case_visits():
                visits.setdefault(case, []).append(
                    VisitOut(visit=visit, first_position=first, total=count)
                )
        return [
            CaseOut(
                case=c.case,
                total=c.total,
                labelled=c.labelled,
                first_position=c.first_position,
                visits=visits.get(c.case, []),
                repeats=c.repeats,
                repeats_done=c.repeats_done,
            )
            for c in per_case
        ]

    return await bench.read(gather)
