"""Labels given to single frames or slices, for the label panel and the review table.

The core stores and exports them (`LabellingSession.save_label(..., frame=N)`), but its read model
(`ImageView`) carries the whole-file label only. Until the core offers a reader
(`LabellingSession.frame_labels(image_id)`, used as soon as it exists), this book remembers the
frame labels saved through this server, so they show on revisit and in the review table for the
rest of the session. Runs on the core thread only (every change passes through it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinlabel.web.schemas import FrameLabelOut

if TYPE_CHECKING:
    from clinlabel.labelling.service import LabellingSession


class FrameLabelBook:
    def __init__(self) -> None:
        self._labels: dict[int, dict[int, FrameLabelOut]] = {}

    def saved(self, image_id: int, frame: int, label: str, comment: str) -> None:
        if frame > 0:
            self._labels.setdefault(image_id, {})[frame] = FrameLabelOut(
                frame=frame, label=label, comment=comment
            )

    def cleared(self, image_id: int, frame: int) -> None:
        self._labels.get(image_id, {}).pop(frame, None)

    def of(self, image_id: int, session: LabellingSession | None = None) -> list[FrameLabelOut]:
        reader: Any = getattr(session, "frame_labels", None)
        if callable(reader):
            return [
                FrameLabelOut(frame=int(r.frame), label=str(r.label), comment=str(r.comment or ""))
                for r in reader(image_id)
                if int(r.frame) > 0
            ]
        known = self._labels.get(image_id)
        return [known[f] for f in sorted(known)] if known else []

    def clear(self) -> None:
        self._labels.clear()
