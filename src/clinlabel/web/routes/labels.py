"""An image's label: save (or change) it, clear it. Durable when the response arrives."""

from __future__ import annotations

from fastapi import APIRouter

from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import ImageOut, LabelIn, LabelSavedOut, ProgressOut

router = APIRouter(prefix="/api/images/{image_id}/label", tags=["labels"])


@router.put("")
async def save_label(image_id: int, body: LabelIn, bench: BenchDep) -> LabelSavedOut:
    session = bench.session

    def save() -> LabelSavedOut:
        # Save and count in one trip to the core thread: the page updates its progress from this.
        view = session.save_label(image_id, body.label, body.comment, frame=body.frame)
        return LabelSavedOut(image=ImageOut.of(view), progress=ProgressOut.of(session.progress()))

    return await bench.call(save)


@router.delete("")
async def clear_label(image_id: int, bench: BenchDep, frame: int = 0) -> LabelSavedOut:
    session = bench.session

    def clear() -> LabelSavedOut:
        view = session.clear_label(image_id, frame=frame)
        return LabelSavedOut(image=ImageOut.of(view), progress=ProgressOut.of(session.progress()))

    return await bench.call(clear)
