"""Regions drawn on an image (issue 11): list, save (create or change), delete. Each answer
comes once the change and its audit event are durable."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError, ValidationError
from clinlabel.imaging.drawing_grid import drawing_grid
from clinlabel.imaging.png_writer import encode_png
from clinlabel.imaging.region_crossings import Drawn, volume_crossings
from clinlabel.labelling.regions import RegionEdit, RegionEditor
from clinlabel.web.deps import BenchDep
from clinlabel.web.region_schemas import (
    CrossingOut,
    GridOut,
    InterpolateIn,
    RegionDeletedOut,
    RegionIn,
    RegionOut,
    RegionsOut,
    class_out,
)

router = APIRouter(tags=["regions"])

Uid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/api/images/{image_id}/regions")
async def list_regions(
    image_id: int,
    bench: BenchDep,
    response: Response,
    plane: Annotated[Literal["axial", "coronal", "sagittal"] | None, Query()] = None,
) -> RegionsOut:
    """This annotator's regions on an image, the classes to draw, and the grid to draw on
    (for a volume, the grid of `plane`'s slices): the page maps the screen to it."""
    editor = RegionEditor(bench.session)
    found = await bench.read(editor.regions, image_id)
    path, kind, _ = await bench.image_file(image_id)
    viewer = bench.viewing
    if kind is ImageKind.NIFTI and plane is None:
        plane = "axial"
    try:
        extent, frames = await viewer.run(
            drawing_grid, path, kind, plane=plane, reader=viewer.service
        )
    except DecodeError:
        grid = None  # an image the viewer cannot show has no grid to draw on; its regions stay
    else:
        grid = GridOut(width=extent.width, height=extent.height, frames=frames, plane=plane)
    crossings: dict[str, list[CrossingOut]] = {}
    others = [
        Drawn(r.uid, r.tool, r.geometry, r.plane, r.frame)
        for r in found
        if r.plane is not None and r.plane != plane
    ]
    if grid is not None and plane is not None and others:
        lines = await viewer.run(volume_crossings, path, plane, others, reader=viewer.service)
        crossings = {
            uid: [
                CrossingOut(frame=c.frame, along=c.along, at=c.at, runs=c.runs) for c in found_lines
            ]
            for uid, found_lines in lines.items()
        }
    # Regions change with every save: never answered from a cache.
    response.headers["Cache-Control"] = "no-store"
    return RegionsOut(
        classes=[class_out(c) for c in bench.session.project.schema.regions],
        regions=[RegionOut.of(r) for r in found],
        grid=grid,
        crossings=crossings,
    )


@router.post("/api/regions/interpolate")
async def interpolate(body: InterpolateIn, bench: BenchDep) -> list[RegionOut]:
    """Masks for the slices between two masks (Ctrl+I in the page), marked `interpolated`."""
    editor = RegionEditor(bench.session)
    made = await bench.call(editor.interpolate, body.first, body.last)
    return [RegionOut.of(r) for r in made]


@router.put("/api/regions/{uid}")
async def save_region(uid: Uid, body: RegionIn, bench: BenchDep) -> RegionOut:
    editor = RegionEditor(bench.session)
    viewer = bench.viewing
    # The grid the shape must lie on is read from the file in a decoding thread, through the
    # viewing service's caches, never on the writer thread.
    path, kind, _ = await bench.image_file(body.image_id)
    extent, frames = await viewer.run(
        drawing_grid, path, kind, plane=body.plane, reader=viewer.service
    )
    edit = RegionEdit(
        uid=uid,
        image_id=body.image_id,
        region_class=body.region_class,
        tool=body.tool,
        geometry=body.geometry,
        comment=body.comment,
        frame=body.frame,
        plane=body.plane,
        undo=body.undo,
        assist=body.assist,
    )
    saved = await bench.call(editor.save, edit, extent=extent, frames=frames)
    return RegionOut.of(saved)


@router.delete("/api/regions/{uid}")
async def delete_region(
    uid: Uid, bench: BenchDep, undo: Annotated[bool, Query()] = False
) -> RegionDeletedOut:
    editor = RegionEditor(bench.session)
    gone = await bench.call(editor.delete, uid, undo=undo)
    return RegionDeletedOut(deleted=None if gone is None else RegionOut.of(gone))


@router.get("/api/images/{image_id}/vesselness")
async def vesselness(
    image_id: int, bench: BenchDep, frame: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    """A grey frame's vessel map as an 8-bit PNG on the frame's own grid (255 = most vessel-like);
    the filter's parameters in `X-Clinlabel-Assist`, to be recorded with an accepted mask."""
    path, kind, _ = await bench.image_file(image_id)
    if kind is not ImageKind.DICOM:
        raise ValidationError("The vessel assist works on grey DICOM frames (X-ray angiography).")
    viewer = bench.viewing
    made = await viewer.run(viewer.service.vessel_map, path, frame)
    body = await viewer.run(encode_png, made.values, compress=True)
    headers = {
        "X-Clinlabel-Assist": json.dumps({**made.params, "frame": frame}, sort_keys=True),
        # Computed from the file, which may change: the page asks again per image.
        "Cache-Control": "no-store",
    }
    return Response(body, media_type="image/png", headers=headers)
