"""An image's attributes for the metadata panel, masked until unmasked, and XA/RF geometry.

Identifying attributes (PS3.15 Annex E Table E.1-1, `deid.confidentiality`, flagged by
`imaging.info` as for `clinlabel info`) leave the server without their values.
`POST .../metadata/unmask` records the unmasking in the audit trail first (a core use case,
durable when it returns) and only then answers with the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query

from clinlabel.domain.images import ImageKind
from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import AttributeOut, GeometryOut, MetadataOut, UnmaskIn

router = APIRouter(prefix="/api/images/{image_id}/metadata", tags=["metadata"])


def _describe(path: Path, kind: ImageKind, memory_budget: int) -> Any:
    from clinlabel.imaging.info import describe

    return describe(path, kind, memory_budget=memory_budget)


async def _info(bench: BenchDep, image_id: int) -> Any:
    path, kind, _ = await bench.image_file(image_id)
    viewer = bench.viewing
    # Header parsing is decoder work: the viewing service's threads and import lock.
    viewer.service.import_decoders(kind)
    return await viewer.run(_describe, path, kind, viewer.service.memory_budget)


def _out(info: Any, *, reveal: frozenset[str] | None) -> MetadataOut:
    rows: list[AttributeOut] = []
    hidden = 0
    for a in info.attributes:
        masked = a.identifying and (reveal is None or a.keyword not in reveal)
        hidden += masked
        rows.append(
            AttributeOut(
                keyword=a.keyword,
                tag=a.tag,
                vr=a.vr,
                value=None if masked else a.value,
                depth=a.depth,
                identifying=a.identifying,
                masked=masked,
            )
        )
    return MetadataOut(kind=info.kind, geometry=info.geometry, attributes=rows, masked=hidden)


@router.get("")
async def metadata(image_id: int, bench: BenchDep) -> MetadataOut:
    """Every attribute, identifying values masked (GET never changes state, so never unmasks)."""
    bench.session  # noqa: B018  (raises NotStartedError before a project is open)
    return _out(await _info(bench, image_id), reveal=None)


@router.post("/unmask")
async def unmask(image_id: int, body: UnmaskIn, bench: BenchDep) -> MetadataOut:
    """Reveal identifying values (all, or the keywords asked for) after auditing the request."""
    session = bench.session
    info = await _info(bench, image_id)
    present = {a.keyword for a in info.attributes if a.identifying}
    wanted = present & set(body.keywords) if body.keywords else present
    await bench.call(session.unmask_metadata, image_id, keywords=sorted(wanted))
    return _out(info, reveal=frozenset(wanted))


@router.get("/geometry")
async def geometry(
    image_id: int, bench: BenchDep, frame: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> GeometryOut:
    """Acquisition geometry of `frame` (positioner angles, SID, SOD, table, kVp, frame time)."""
    path, kind, _ = await bench.image_file(image_id)
    if kind is not ImageKind.DICOM:
        return GeometryOut(frame=frame, values={})
    viewer = bench.viewing
    viewer.service.import_decoders(kind)
    from clinlabel.imaging.geometry import acquisition_geometry

    # The header from the viewing service: parsed once per file identity, shared with the viewer.
    found = await viewer.run(acquisition_geometry, path, frame=frame, reader=viewer.service)
    return GeometryOut(frame=frame, values={k: v for k, v in found.items() if v is not None})
