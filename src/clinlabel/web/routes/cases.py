"""Progress overall and per case, with each case's visits, for the sidebar."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import CaseOut, ProgressOut, VisitOut

router = APIRouter(prefix="/api", tags=["progress"])

# Visits are read from the kept `queue_visits` (a row each); beyond this many images the sidebar
# lists cases only.
VISIT_SCAN_LIMIT = 50_000

# Serialised in one call of pydantic's compiled serializer (see CaseOut): FastAPI's own path
# would validate every row again first.
_CASES_JSON = TypeAdapter(list[CaseOut])


@router.get("/progress")
async def progress(bench: BenchDep) -> ProgressOut:
    session = bench.session
    return ProgressOut.of(await bench.read(session.progress))


@router.get("/cases", response_model=list[CaseOut])
async def cases(bench: BenchDep) -> Response:
    session = bench.session

    def gather() -> bytes:
        per_case = session.case_progress()
        total = sum(c.total for c in per_case)
        visits: dict[str, list[VisitOut]] = {}
        if total <= VISIT_SCAN_LIMIT:
            for case, visit, first, count in session.case_visits():
                visits.setdefault(case, []).append(
                    {"visit": visit, "first_position": first, "total": count}
                )
        rows: list[CaseOut] = [
            {
                "case": c.case,
                "total": c.total,
                "labelled": c.labelled,
                "first_position": c.first_position,
                "repeats": c.repeats,
                "repeats_done": c.repeats_done,
                "visits": visits.get(c.case, []),
            }
            for c in per_case
        ]
        return _CASES_JSON.dump_json(rows)

    return Response(await bench.read(gather), media_type="application/json")
