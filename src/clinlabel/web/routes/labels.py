"""An image's label: save (or change) it, clear it. Durable when the response arrives."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Query

from clinlabel.domain.labels import MAX_FRAME
from clinlabel.errors import ClinlabelError, ValidationError
from clinlabel.imaging.frame_count import check_frame
from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import MAX_INT64, LabelIn, LabelSavedOut, ProgressOut

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/images/{image_id}/label", tags=["labels"])


def _version(body_version: int | None, if_match: str | None) -> int | None:
    """The label version a change is based on: the body's `version`, or an `If-Match` header
    (`"17"` or `17`); None when neither is given (no check, as before versions)."""
    if body_version is not None or if_match is None:
        return body_version
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ValidationError("If-Match must be a label version (a whole number).")
    return int(text)


@router.put("")
async def save_label(
    image_id: int,
    body: LabelIn,
    bench: BenchDep,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> LabelSavedOut:
    session = bench.session
    version = _version(body.version, if_match)
    viewer = bench.viewing
    # Headers are read in a decoding thread, through the viewing service's cache, never on the
    # writer thread: only a frame the file has may be labelled, and the labelled frame's
    # acquisition geometry is kept with the label.
    if body.frame:
        path, kind, _ = await bench.image_file(image_id)
        await viewer.run(check_frame, path, kind, body.frame, reader=viewer.service)
    geometry = await viewer.run(session.label_geometry, image_id, body.frame, reader=viewer.service)

    def save() -> LabelSavedOut:
        # Save, count and (usually) record the next image shown in one trip to the writer thread.
        # A position outside the queue is refused before anything is written: an answer of 422
        # must mean that nothing changed. The check and the save run in the same writer call,
        # so no other change can come between them.
        if body.then_show is not None and not session.queue(body.then_show, 1):
            total = session.progress().total
            raise ValidationError(
                f"Position {body.then_show} is outside the queue (1 to {total}); "
                "the label was not saved."
            )
        view = session.save_label(
            image_id,
            body.label,
            body.comment,
            frame=body.frame,
            geometry=geometry,
            version=version,
            position=body.position,
            change_key=body.change_key,
        )
        saved = LabelSavedOut(
            image=bench.image_out(view),
            progress=ProgressOut.of(session.progress()),
            version=session.last_version,
        )
        if body.then_show is not None:
            # The label is durable now: a show that still fails (the queue changed by a rescan
            # meanwhile) must not turn the answer into an error, or the client would believe the
            # label lost. It gets the saved image without `shown` and asks for the show again.
            try:
                saved.shown = bench.shown_out(session.show(body.then_show))
            except ClinlabelError as exc:
                _log.warning(
                    "label %s saved; showing position %s failed: %s", view.id, body.then_show, exc
                )
            else:
                saved.progress = saved.shown.progress
        return saved

    return await bench.call(save)


@router.delete("")
async def clear_label(
    image_id: int,
    bench: BenchDep,
    frame: Annotated[int, Query(ge=0, le=MAX_FRAME)] = 0,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
    position: Annotated[int | None, Query(ge=1, le=MAX_INT64)] = None,
) -> LabelSavedOut:
    session = bench.session
    version = _version(None, if_match)

    def clear() -> LabelSavedOut:
        view = session.clear_label(image_id, frame=frame, version=version, position=position)
        return LabelSavedOut(
            image=bench.image_out(view), progress=ProgressOut.of(session.progress()), version=0
        )

    return await bench.call(clear)
