"""Adjudication: the reviewer's queue of images, every reader's label side by side, the final
label with its reason (`labelling.adjudication`), and the page that works through them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from clinlabel.labelling.adjudication import (
    AdjudicationQueue,
    adjudicate,
    adjudication_queue,
    consensus,
)
from clinlabel.labelling.worklist import check_may_see_reads
from clinlabel.store.adjudication import ReadImage
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.pages import STATIC
from clinlabel.web.routes.study_access import Reviewer
from clinlabel.web.schemas import Text

router = APIRouter(tags=["adjudication"])


class ReadOut(BaseModel):
    reader: str
    label: str
    comment: str


class FinalOut(BaseModel):
    label: str
    reason: str
    reviewer: str
    adjudicated_at: str


class AdjudicationItemOut(BaseModel):
    image_id: int
    relpath: str
    case: str
    visit: str
    file: str
    kind: str
    reads: list[ReadOut]
    disagree: bool
    consensus: str | None
    final: FinalOut | None

    @classmethod
    def of(cls, item: ReadImage) -> AdjudicationItemOut:
        final = item.final
        return cls(
            image_id=item.image_id,
            relpath=item.relpath,
            case=item.case,
            visit=item.visit,
            file=item.file,
            kind=item.kind,
            reads=[ReadOut(reader=r.reader, label=r.label, comment=r.comment) for r in item.reads],
            disagree=item.disagree,
            consensus=consensus(item),
            final=None
            if final is None
            else FinalOut(
                label=final.label,
                reason=final.reason,
                reviewer=final.reviewer,
                adjudicated_at=final.adjudicated_at,
            ),
        )


class LabelDefOut(BaseModel):
    name: str
    key: str


class AdjudicationQueueOut(BaseModel):
    scope: str
    reviewer: str
    readers: list[str]
    labels: list[LabelDefOut]
    total: int
    remaining: int
    items: list[AdjudicationItemOut]


class AdjudicateIn(BaseModel):
    label: Text = Field(min_length=1, max_length=200)
    reason: Text | None = Field(default=None, max_length=10_000)


@router.get("/adjudicate", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "adjudicate.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/adjudication")
async def queue(
    bench: BenchDep,
    reviewer: Reviewer,
    scope: Annotated[str, Query(pattern="^(disagreements|all)$")] = "disagreements",
) -> AdjudicationQueueOut:
    project = bench.session.project
    await bench.read(check_may_see_reads, project, reviewer)

    def read() -> AdjudicationQueue:
        return adjudication_queue(project, scope=scope)

    found = await bench.read(read)
    return AdjudicationQueueOut(
        scope=found.scope,
        reviewer=reviewer,
        readers=list(found.readers),
        labels=[LabelDefOut(name=d.name, key=d.key) for d in project.schema.labels],
        total=len(found.items),
        remaining=found.remaining,
        items=[AdjudicationItemOut.of(item) for item in found.items],
    )


@router.put("/api/adjudication/{image_id}")
async def give_final(
    image_id: int, body: AdjudicateIn, bench: BenchDep, reviewer: Reviewer
) -> AdjudicationItemOut:
    project = bench.session.project
    # Its answer is the image's every read: refused as the list is to a reader still blinded.
    await bench.read(check_may_see_reads, project, reviewer)

    def write() -> ReadImage:
        return adjudicate(
            project, reviewer=reviewer, image_id=image_id, label=body.label, reason=body.reason
        )

    return AdjudicationItemOut.of(await bench.call(write))
