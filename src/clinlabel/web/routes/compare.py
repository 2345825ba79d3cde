"""The visits of an image's case, for the compare view (lesion follow-up) and the visit strip."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from clinlabel.labelling.visits import case_visits
from clinlabel.web.deps import BenchDep

router = APIRouter(prefix="/api/images/{image_id}", tags=["compare"])


class VisitImageOut(BaseModel):
    id: int
    position: int
    folder: str
    file: str
    kind: str


class VisitOut(BaseModel):
    visit: str
    images: list[VisitImageOut]


class CaseVisitsOut(BaseModel):
    case: str
    visits: list[VisitOut]


@router.get("/visits")
async def visits(image_id: int, bench: BenchDep) -> CaseVisitsOut:
    """Every visit of the image's case with its images, both in queue order."""
    session = bench.session
    found = await bench.read(case_visits, session, image_id)
    return CaseVisitsOut(
        case=found.case,
        visits=[
            VisitOut(
                visit=v.visit,
                images=[
                    VisitImageOut(
                        id=i.id, position=i.position, folder=i.folder, file=i.file, kind=i.kind
                    )
                    for i in v.images
                ],
            )
            for v in found.visits
        ],
    )
