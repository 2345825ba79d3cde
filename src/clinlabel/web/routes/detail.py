"""A photo at full detail: its own size, and its full-resolution rendition.

The page shows the screen rendition first (fast to the next image) and asks for these only when
the annotator zooms past it. The file is found by image id only and read through the project's
viewing service, keyed by the file's identity like every other rendition.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from clinlabel.domain.images import ImageKind
from clinlabel.errors import ValidationError
from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.images import RENDITION_CACHE_CONTROL

router = APIRouter(prefix="/api/images/{image_id}", tags=["images"])


class PhotoSizeOut(BaseModel):
    """The photo's upright size in its own pixels, and the size `/full` sends (smaller only for
    pictures too large for the page, reduced by `reduction`)."""

    width: int
    height: int
    full_width: int
    full_height: int
    reduction: int


async def _photo(image_id: int, bench: BenchDep) -> tuple[Path, ImageKind]:
    path, kind, _ = await bench.image_file(image_id)
    if kind is not ImageKind.RASTER:
        raise ValidationError(
            f"Image {image_id} is {kind.value}, not a photo: it is shown at its own pixels already."
        )
    return path, kind


@router.get("/size")
async def size(image_id: int, bench: BenchDep) -> PhotoSizeOut:
    path, _ = await _photo(image_id, bench)
    found = await bench.viewing.photo_size(path)
    return PhotoSizeOut(
        width=found.width,
        height=found.height,
        full_width=found.full_width,
        full_height=found.full_height,
        reduction=found.reduction,
    )


@router.get("/full")
async def full(image_id: int, request: Request, bench: BenchDep) -> Response:
    """The photo at its own pixels, cached on disk and sent with an ETag like renditions."""
    path, kind = await _photo(image_id, bench)
    cached = await bench.viewing.full_rendition(path, kind)
    headers = {"ETag": cached.etag, "Cache-Control": RENDITION_CACHE_CONTROL}
    if request.headers.get("if-none-match") == cached.etag:
        return Response(status_code=304, headers=headers)
    # A photo's own pixels run to tens of megabytes: read off the event loop, which meanwhile
    # answers label saves and the next image.
    data = await anyio.to_thread.run_sync(cached.path.read_bytes)
    return Response(data, media_type=cached.media_type, headers=headers)
