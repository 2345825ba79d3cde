"""An image's label: save (or change) it, clear it. Durable when the response arrives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clinlabel.domain.labels import MAX_FRAME
from clinlabel.imaging.frame_count import check_frame
from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import LabelIn, LabelSavedOut, ProgressOut

router = APIRouter(prefix="/api/images/{image_id}/label", tags=["labels"])


@router.put("")
async def save_label(image_id: int, body: LabelIn, bench: BenchDep) -> LabelSavedOut:
    session = bench.session
    viewer = bench.viewing
    # Headers are read in a decoding thread, through the viewing service's cache, never on the
    # writer thread: only a frame the file has may be labelled, and the labelled frame's
    # acquisition geometry is kept with the label.
    if body.frame:
        path, kind, _ = await bench.image_file(image_id)
        await viewer.run(check_frame, path, kind, body.frame, reader=viewer.service)
    geometry = await viewer.run(session.label_geometry, image_id, body.frame, reader=viewer.service)

    def save() -> LabelSavedOut:
        # Save, count and (usually) record the next image shown in one trip to the writer thread;
        # the label is durable before the show, so a failing show never hides a saved label.
        view = session.save_label(
            image_id, body.label, body.comment, frame=body.frame, geometry=geometry
        )
        saved = LabelSavedOut(
            image=bench.image_out(view), progress=ProgressOut.of(session.progress())
        )
        if body.then_show is not None:
            saved.shown = bench.shown_out(session.show(body.then_show))
            saved.progress = saved.shown.progress
        return saved

    return await bench.call(save)


@router.delete("")
async def clear_label(
    image_id: int, bench: BenchDep, frame: Annotated[int, Query(ge=0, le=MAX_FRAME)] = 0
) -> LabelSavedOut:
    session = bench.session

    def clear() -> LabelSavedOut:
        view = session.clear_label(image_id, frame=frame)
        return LabelSavedOut(
            image=bench.image_out(view), progress=ProgressOut.of(session.progress())
        )

    return await bench.call(clear)
