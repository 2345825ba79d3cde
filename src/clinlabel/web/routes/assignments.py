"""A reader's side of a reading study: their worklist (repeats blinded), their repeat reads and
their case diagnoses; the rules themselves are the engine's (`labelling.worklist`,
`labelling.case_rules`), refusals of a locked study answered 409."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clinlabel.labelling.case_rules import CaseState, case_state, diagnose_case
from clinlabel.labelling.worklist import (
    Worklist,
    WorklistItem,
    reader_worklist,
    save_repeat_read,
    study_state,
)
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.study_access import Reader
from clinlabel.web.schemas import Text

router = APIRouter(prefix="/api/study", tags=["study"])


class WorkItemOut(BaseModel):
    assignment_id: int
    position: int
    image_id: int
    case: str
    repeat: bool
    done: bool
    open: bool
    #: A repeat's own read; the first read of the image is never sent with it (blinded).
    repeat_label: str | None

    @classmethod
    def of(cls, item: WorklistItem) -> WorkItemOut:
        return cls(
            assignment_id=item.assignment_id,
            position=item.position,
            image_id=item.image_id,
            case=item.case,
            repeat=item.repeat,
            done=item.done,
            open=item.open,
            repeat_label=item.repeat_label,
        )


class CaseLabelOut(BaseModel):
    name: str
    key: str
    requires_comment: bool


class StudyOut(BaseModel):
    """What the labelling page needs to know of the study once, at start."""

    study: bool
    locked: bool
    #: The schema's case diagnosis labels; empty: no case diagnosis is asked.
    case_labels: list[CaseLabelOut]


class WorklistOut(BaseModel):
    reader: str
    locked: bool
    total: int
    done: int
    next: WorkItemOut | None
    items: list[WorkItemOut]


class ReadIn(BaseModel):
    label: Text = Field(min_length=1, max_length=200)
    comment: Text | None = Field(default=None, max_length=10_000)


class CaseStateOut(BaseModel):
    case: str
    images: int
    labelled: int
    complete: bool
    asks_diagnosis: bool
    diagnosis: str | None
    comment: str

    @classmethod
    def of(cls, state: CaseState) -> CaseStateOut:
        return cls(
            case=state.case,
            images=state.images,
            labelled=state.labelled,
            complete=state.complete,
            asks_diagnosis=state.asks_diagnosis,
            diagnosis=state.diagnosis,
            comment=state.comment,
        )


@router.get("")
async def study(bench: BenchDep, reader: Reader) -> StudyOut:
    del reader  # admitted: this is the study's shape, no one's reads
    project = bench.session.project

    def read() -> StudyOut:
        has_study, locked = study_state(project)
        return StudyOut(
            study=has_study,
            locked=locked,
            case_labels=[
                CaseLabelOut(name=d.name, key=d.key, requires_comment=d.requires_comment)
                for d in project.schema.case_labels
            ],
        )

    return await bench.read(read)


@router.get("/worklist")
async def worklist(bench: BenchDep, reader: Reader) -> WorklistOut:
    project = bench.session.project

    def read() -> Worklist:
        return reader_worklist(project, reader)

    found = await bench.read(read)
    following = found.next_open
    return WorklistOut(
        reader=found.reader,
        locked=found.locked,
        total=len(found.items),
        done=found.done,
        next=None if following is None else WorkItemOut.of(following),
        items=[WorkItemOut.of(item) for item in found.items],
    )


@router.put("/worklist/{assignment_id}/read")
async def repeat_read(
    assignment_id: int, body: ReadIn, bench: BenchDep, reader: Reader
) -> WorkItemOut:
    session = bench.session

    def write() -> WorklistItem:
        session.check_open()
        item = save_repeat_read(
            session.project,
            reader=reader,
            assignment_id=assignment_id,
            label=body.label,
            comment=body.comment,
            session_id=session.session_id or None,
        )
        # The session's worklist says which first reads are still sealed: read it again.
        session.worklist_changed()
        return item

    return WorkItemOut.of(await bench.call(write))


@router.get("/cases/{case}")
async def case(case: str, bench: BenchDep, reader: Reader) -> CaseStateOut:
    project = bench.session.project
    return CaseStateOut.of(await bench.read(case_state, project, reader=reader, case=case))


@router.put("/cases/{case}/diagnosis")
async def diagnosis(case: str, body: ReadIn, bench: BenchDep, reader: Reader) -> CaseStateOut:
    session = bench.session

    def write() -> CaseState:
        session.check_open()
        return diagnose_case(
            session.project,
            reader=reader,
            case=case,
            label=body.label,
            comment=body.comment,
            session_id=session.session_id or None,
        )

    return CaseStateOut.of(await bench.call(write))
