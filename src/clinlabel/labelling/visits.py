"""The visits of the case an image belongs to, each with its images in queue order.

Visits exist for follow-up: the compare view puts one visit's image beside another's, and the
visit strip lists the images of the visit on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinlabel.labelling.service import LabellingSession
from clinlabel.store.compare import CaseImage, case_images


@dataclass(frozen=True, slots=True)
class Visit:
    visit: str
    images: tuple[CaseImage, ...]


@dataclass(frozen=True, slots=True)
class CaseVisits:
    case: str
    visits: tuple[Visit, ...]


def case_visits(session: LabellingSession, image_id: int) -> CaseVisits:
    """The visits of `image_id`'s case; `ValidationError` when the image is not in the queue."""
    case = session.image(image_id).case
    with session.project.store.read() as conn:
        rows = case_images(conn, case)
    grouped: dict[str, list[CaseImage]] = {}
    for row in rows:
        grouped.setdefault(row.visit, []).append(row)
    return CaseVisits(case, tuple(Visit(name, tuple(found)) for name, found in grouped.items()))
