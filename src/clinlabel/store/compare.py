"""One case's images, for comparing its visits (lesion follow-up) and the visit strip."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from clinlabel.store.schema import images


@dataclass(frozen=True, slots=True)
class CaseImage:
    id: int
    position: int
    visit: str
    folder: str
    file: str
    kind: str


# Present images only (gone files hold no queue position), in queue order: visits come out in
# their natural order and each visit's files in the order the annotator meets them.
_CASE_IMAGES = (
    select(
        images.c.id,
        images.c.seq,
        images.c.visit,
        images.c.folder,
        images.c.file,
        images.c.kind,
    )
    .where(images.c.case_name == bindparam("case"), images.c.seq.is_not(None))
    .order_by(images.c.seq)
)


def case_images(conn: Connection, case: str) -> list[CaseImage]:
    """Every image of `case` in the queue, in queue order (an index probe on the case)."""
    return [
        CaseImage(id=int(r[0]), position=int(r[1]), visit=r[2], folder=r[3], file=r[4], kind=r[5])
        for r in conn.execute(_CASE_IMAGES, {"case": case}).all()
    ]
