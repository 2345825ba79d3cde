"""Full-depth stored values of one frame or slice, for window/level in the page.

The wire format is `imaging.pixel_payload`'s.

Addressed by image id only, like renditions; the file comes from the core. The values of a
frame never change while its file does not, so they are sent with an ETag (the file's identity)
and kept by the browser: stepping back through a cine run or a volume revalidates (`no-cache`)
and gets a 304.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from clinlabel.web.deps import BenchDep
from clinlabel.web.routes.images import RENDITION_CACHE_CONTROL

router = APIRouter(prefix="/api/images/{image_id}", tags=["pixels"])

MEDIA_TYPE = "application/vnd.clinlabel.pixels"


@router.get("/pixels")
async def pixels(
    image_id: int,
    request: Request,
    bench: BenchDep,
    frame: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    plane: Annotated[Literal["axial", "coronal", "sagittal"], Query()] = "axial",
) -> Response:
    """A JSON header and the stored values (wire format in `clinlabel.imaging.pixel_payload`)."""
    path, kind, _ = await bench.image_file(image_id)
    viewer = bench.viewing
    asked = request.headers.get("if-none-match")
    if asked is not None:
        # Revalidation (every reuse, `no-cache`): one stat answers it, nothing is decoded.
        current = await viewer.run(viewer.service.pixels_etag, path, frame=frame, plane=plane)
        if asked == current:
            headers = {"ETag": current, "Cache-Control": RENDITION_CACHE_CONTROL}
            return Response(status_code=304, headers=headers)
    payload = await viewer.pixels(path, kind, frame=frame, plane=plane)
    headers = {"ETag": payload.etag, "Cache-Control": RENDITION_CACHE_CONTROL}
    return Response(payload.body, media_type=MEDIA_TYPE, headers=headers)
