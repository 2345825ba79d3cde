"""Images: the queue window, one image's record, and its display rendition.

An image is only ever addressed by its id; the file path comes from the core
(`LabellingSession.image_path`), so nothing in a request can name a file to read.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response

from clinlabel.web.config import MAX_SIDES
from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import ImageOut

router = APIRouter(prefix="/api", tags=["images"])

MAX_QUEUE_COUNT = 5000
# The URL stays the same when the file is replaced; the ETag (the file's identity) does not. So
# the browser may keep a copy but must ask first (`no-cache`): a 304 while the file is unchanged,
# the new image as soon as it is not. An hour of freshness once showed a replaced file's old
# pixels for that hour.
RENDITION_CACHE_CONTROL = "private, no-cache"


@router.get("/queue")
async def queue(
    bench: BenchDep,
    start: Annotated[int, Query(ge=1)] = 1,
    count: Annotated[int, Query(ge=1, le=MAX_QUEUE_COUNT)] = 50,
) -> list[ImageOut]:
    """Images by queue position: the page's prefetch window and the review table."""
    session = bench.session

    def window() -> list[ImageOut]:
        return [bench.image_out(v) for v in session.queue(start, count)]

    return await bench.read(window)


@router.get("/images/{image_id}")
async def image(image_id: int, bench: BenchDep) -> ImageOut:
    session = bench.session
    return await bench.read(lambda: bench.image_out(session.image(image_id)))


@router.get("/images/{image_id}/rendition")
async def rendition(
    image_id: int,
    request: Request,
    bench: BenchDep,
    max_side: Annotated[int, Query()] = 2048,
    frame: Annotated[int, Query(ge=1)] = 1,
    own_size: Annotated[bool, Query()] = False,
) -> Response:
    """The image scaled for the screen (decoded once, cached on disk, sent with an ETag).

    `own_size` asks for the image's own pixel size (up to `viewing.OWN_SIZE_LIMIT`) instead of the
    screen's: the page's colour DICOM frames, which it zooms into like grey ones.
    """
    if max_side not in MAX_SIDES:
        max_side = bench.settings.max_side
    path, kind, _ = await bench.image_file(image_id)
    side = None if own_size else max_side
    cached = await bench.viewing.rendition(path, kind, max_side=side, frame=frame)
    headers = {"ETag": cached.etag, "Cache-Control": RENDITION_CACHE_CONTROL}
    if request.headers.get("if-none-match") == cached.etag:
        return Response(status_code=304, headers=headers)
    # Off the event loop: a colour frame at its own size can be large (see detail.py `full`).
    data = await anyio.to_thread.run_sync(cached.path.read_bytes)
    return Response(data, media_type=cached.media_type, headers=headers)
