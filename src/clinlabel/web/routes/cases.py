"""Progress overall and per case, with each case's visits, for the sidebar."""

from __future__ import annotations

from fastapi import APIRouter

from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import CaseOut, ProgressOut, VisitOut

router = APIRouter(prefix="/api", tags=["progress"])

# Visits are gathered from the queue; beyond this many images the sidebar lists cases only.
VISIT_SCAN_LIMIT = 50_000
_CHUNK = 2000


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
        visits: dict[str, dict[str, VisitOut]] = {}
        if total <= VISIT_SCAN_LIMIT:
            for start in range(1, total + 1, _CHUNK):
                for view in session.queue(start, _CHUNK):
                    case_visits = visits.setdefault(view.case, {})
                    known = case_visits.get(view.visit)
                    if known is None:
                        case_visits[view.visit] = VisitOut(
                            visit=view.visit, first_position=view.position, total=1
                        )
                    else:
                        known.total += 1
        return [
            CaseOut(
                case=c.case,
                total=c.total,
                labelled=c.labelled,
                first_position=c.first_position,
                visits=list(visits.get(c.case, {}).values()),
            )
            for c in per_case
        ]

    return await bench.read(gather)
