"""Drawing regions: the use cases of issue 11 (create, change, delete, list), audited.

Every change is one transaction holding the region's new state and its event, which records
the geometry's SHA-256 (the geometry itself is kept once, by that hash, in an append-only
table). Undo is the page sending the earlier state again, marked `undo`: a new event, never a
deletion of history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.domain.labels import MAX_FRAME, clean_comment
from clinlabel.domain.regions import (
    MASK_TOOLS,
    PLANES,
    Extent,
    Region,
    RegionClass,
    Shape,
    check_shape,
    mask_from_array,
    mask_to_array,
)
from clinlabel.errors import StudyRuleError, ValidationError
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import images as image_rows
from clinlabel.store import people
from clinlabel.store import regions as region_rows
from clinlabel.store.regions import RegionRow

MAX_UID = 64


@dataclass(frozen=True, slots=True)
class RegionEdit:
    """What the page sends for one region: the whole new state (never a diff)."""

    uid: str
    image_id: int
    region_class: str
    tool: str
    geometry: Any
    comment: str | None = None
    frame: int = 0
    plane: str | None = None
    undo: bool = False
    assist: dict[str, Any] | None = None
    """How a proposal was made (`tool = assist:frangi`): filter, scales, threshold; recorded."""


#: The parameters of an assisted mask are a few numbers and names: a bound keeps them so.
MAX_ASSIST_JSON = 2048


def _check_assist(edit: RegionEdit) -> dict[str, Any] | None:
    if edit.tool != "assist:frangi":
        if edit.assist is not None:
            raise ValidationError("Only an assisted mask (tool assist:frangi) has parameters.")
        return None
    if not isinstance(edit.assist, dict) or not edit.assist:
        raise ValidationError(
            "An assisted mask records how it was made (filter, scales, threshold)."
        )
    text = json.dumps(edit.assist, sort_keys=True, allow_nan=False)
    if len(text) > MAX_ASSIST_JSON:
        raise ValidationError("The assist's parameters are longer than clinlabel records.")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _region(row: RegionRow) -> Region:
    return Region(
        uid=row.uid,
        image_id=row.image_id,
        relpath=row.relpath,
        annotator=row.annotator,
        frame=row.frame,
        plane=row.plane,
        region_class=row.region_class,
        tool=row.tool,
        geometry=row.geometry,
        sha256=row.geometry_sha256,
        comment=row.comment,
        updated_at=row.updated_at,
    )


def _state(row: RegionRow) -> dict[str, Any]:
    return {
        "class": row.region_class,
        "tool": row.tool,
        "geometry_sha256": row.geometry_sha256,
        "comment": row.comment,
        "plane": row.plane,
    }


def _check_uid(uid: str) -> str:
    if not uid or len(uid) > MAX_UID or not all(c.isalnum() or c in "-_" for c in uid):
        raise ValidationError(
            "A region's id must be 1 to 64 letters, digits, '-' or '_' (the page makes one)."
        )
    return uid


class RegionEditor:
    """The regions of one annotator's session. Each method is durable and audited on return."""

    def __init__(self, session: LabellingSession) -> None:
        self.session = session

    def _annotator_id(self) -> int:
        with self.session.project.store.read() as conn:
            found = people.find_annotator(conn, self.session.annotator)
        if found is None:
            raise ValidationError("Start a labelling session before drawing regions.")
        return found

    def _event(
        self, kind: EventKind, data: dict[str, object], row_image: tuple[int, str], frame: int
    ) -> NewEvent:
        return NewEvent(
            kind,
            self.session.annotator,
            data,
            session_id=self.session.session_id or None,
            image_id=row_image[0],
            image=row_image[1],
            frame=frame,
            tz_offset_min=self.session.tz_offset_min,
            ts_utc=utc_now(),
        )

    def regions(self, image_id: int) -> list[Region]:
        """This annotator's regions on an image, in the order they were drawn."""
        annotator_id = self._annotator_id()
        with self.session.project.store.read() as conn:
            if self.session.sealed_in(conn, image_id):
                return []  # part of a first read hidden until its repeat is read
            rows = region_rows.regions_of(conn, image_id=image_id, annotator_id=annotator_id)
        return [_region(r) for r in rows]

    def save(self, edit: RegionEdit, *, extent: Extent | None, frames: int | None) -> Region:
        """Create the region `edit.uid`, or change it to this state (the same state: nothing).

        `extent` is the pixel grid of the frame or slice it is drawn on and `frames` how many
        frames or slices there are (in `edit.plane` for a volume), both read by the caller
        from the file; the shape must lie inside the grid.
        """
        self.session.check_open()  # a tab's Finish closed the session: nothing more is written
        uid = _check_uid(edit.uid)
        region_class = self._check_place(edit, frames)
        shape = check_shape(edit.tool, edit.geometry, extent)
        try:
            assist = _check_assist(edit)
        except ValueError as exc:  # NaN or infinity in the parameters
            raise ValidationError(
                "The assist's parameters hold a number that is not finite."
            ) from exc
        comment = clean_comment(edit.comment)
        annotator_id = self._annotator_id()
        extra: dict[str, object] = {"undo": True} if edit.undo else {}
        if assist is not None:
            extra["assist"] = assist
        with self.session.project.store.write() as conn:
            self._check_not_sealed(conn, edit.image_id)
            return self._write(
                conn, annotator_id, uid, edit, region_class.name, shape, comment, extra
            )

    def _check_not_sealed(self, conn: Connection, image_id: int) -> None:
        """A region is part of the reader's read of an image: while that first read is sealed
        (`LabellingSession.sealed_in`) it is hidden, so no region of the image changes."""
        if self.session.sealed_in(conn, image_id):
            raise StudyRuleError(
                "The regions of this image belong to your first read, which is final and "
                "hidden until you have read its blinded repeat. Nothing was changed.",
                hint="Give your second opinion at the repeat; the trail keeps both reads.",
            )

    def save_in(
        self,
        conn: Connection,
        annotator_id: int,
        edit: RegionEdit,
        *,
        extent: Extent | None,
        frames: int | None,
        extra: dict[str, object],
    ) -> Region:
        """`save` inside the caller's transaction, with `extra` recorded in the event: an import
        writes all its regions (and its own summary event) or none."""
        self.session.check_open()  # a tab's Finish closed the session: nothing more is written
        uid = _check_uid(edit.uid)
        region_class = self._check_place(edit, frames)
        shape = check_shape(edit.tool, edit.geometry, extent)
        comment = clean_comment(edit.comment)
        return self._write(conn, annotator_id, uid, edit, region_class.name, shape, comment, extra)

    def _check_place(self, edit: RegionEdit, frames: int | None) -> RegionClass:
        region_class = self.session.project.schema.region_class(edit.region_class)
        allowed = region_class.tools
        if edit.tool not in allowed and not (edit.tool in MASK_TOOLS and "brush" in allowed):
            raise ValidationError(
                f"Regions of class {region_class.name!r} are drawn with "
                f"{', '.join(allowed)}, not {edit.tool!r}."
            )
        if edit.plane is not None and edit.plane not in PLANES:
            raise ValidationError(f"Unknown plane {edit.plane!r}; planes: {', '.join(PLANES)}.")
        if not 0 <= edit.frame <= MAX_FRAME:
            raise ValidationError("Frames are numbered from 1 (0 is the whole file).")
        if edit.plane is not None and edit.frame == 0:
            raise ValidationError("A region on a volume belongs to a slice (numbered from 1).")
        if frames is not None and edit.frame > frames:
            raise ValidationError(
                f"The image has {frames} {'slices' if edit.plane else 'frames'}; "
                f"there is no number {edit.frame}."
            )
        return region_class

    def _write(
        self,
        conn: Connection,
        annotator_id: int,
        uid: str,
        edit: RegionEdit,
        class_name: str,
        shape: Shape,
        comment: str,
        extra: dict[str, object],
    ) -> Region:
        """Write one region's new state and its event in the caller's transaction."""
        info = image_rows.image_file_info(conn, edit.image_id)
        if info is None:
            raise ValidationError(f"There is no image {edit.image_id} in this project.")
        old = region_rows.find_region(conn, uid)
        if old is not None and (old.annotator_id, old.image_id) != (annotator_id, edit.image_id):
            raise ValidationError(
                f"Region {uid} belongs to another image or annotator; it was not changed."
            )
        if old is not None and (old.frame, old.plane) != (edit.frame, edit.plane):
            raise ValidationError(
                "A region stays on the frame or slice it was drawn on; draw a new one there."
            )
        new_state = {
            "class": class_name,
            "tool": shape.tool,
            "geometry_sha256": shape.sha256,
            "comment": comment,
            "plane": edit.plane,
        }
        if old is not None and _state(old) == new_state:
            return _region(old)
        region_rows.put_geometry(conn, shape.sha256, shape.geometry)
        event = self._event(
            EventKind.REGION_CREATED if old is None else EventKind.REGION_CHANGED,
            {
                "region": uid,
                "old": None if old is None else _state(old),
                "new": new_state,
                **extra,
            },
            (edit.image_id, info.relpath),
            edit.frame,
        )
        event_id = append_event(conn, event)
        values = {
            "region_class": class_name,
            "tool": shape.tool,
            "geometry_sha256": shape.sha256,
            "comment": comment,
            "updated_at": event.ts_utc,
            "event_id": event_id,
        }
        if old is None:
            region_rows.insert_region(
                conn,
                uid=uid,
                image_id=edit.image_id,
                annotator_id=annotator_id,
                frame=edit.frame,
                plane=edit.plane,
                **values,
            )
        else:
            region_rows.update_region(conn, uid, **values)
        saved = region_rows.find_region(conn, uid)
        assert saved is not None
        return _region(saved)

    def interpolate(self, first_uid: str, last_uid: str) -> list[Region]:
        """Fill the slices between two masks of one class on one plane of a volume.

        Each slice between gets a mask (tool `interpolated`, so the page marks it until someone
        edits it with the brush) from the two masks' signed distance maps, blended by how far
        the slice lies between them. Slices that already hold a drawn mask of that class are
        left as they are; earlier interpolated ones are replaced. One transaction, an event
        per slice naming the two masks it came from.
        """
        from clinlabel.imaging.mask_interpolation import interpolate_masks

        self.session.check_open()
        annotator_id = self._annotator_id()
        with self.session.project.store.read() as conn:
            first = region_rows.find_region(conn, _check_uid(first_uid))
            last = region_rows.find_region(conn, _check_uid(last_uid))
        if first is None or last is None:
            raise ValidationError("Both regions to interpolate between must exist.")
        if first.frame > last.frame:
            first, last = last, first
        if (
            first.annotator_id != annotator_id
            or last.annotator_id != annotator_id
            or first.image_id != last.image_id
            or first.plane is None
            or first.plane != last.plane
            or first.region_class != last.region_class
            or first.tool not in MASK_TOOLS
            or last.tool not in MASK_TOOLS
        ):
            raise ValidationError(
                "Interpolation needs two of your masks of one class on two slices of one plane "
                "of the same volume."
            )
        if last.frame - first.frame < 2:
            raise ValidationError("The two masks' slices have no slice between them.")
        a, b = json.loads(first.geometry), json.loads(last.geometry)
        if (a["width"], a["height"]) != (b["width"], b["height"]):
            # The file was replaced by one of another size between the two drawings.
            raise ValidationError(
                f"The two masks lie on grids of different sizes ({a['width']} x {a['height']} "
                f"and {b['width']} x {b['height']}); the file changed between them."
            )
        between = interpolate_masks(
            mask_to_array(a["width"], a["height"], a["rle"]),
            mask_to_array(b["width"], b["height"], b["rle"]),
            last.frame - first.frame - 1,
        )
        extent = Extent(int(a["width"]), int(a["height"]))
        made: list[Region] = []
        with self.session.project.store.write() as conn:
            taken = {
                r.frame
                for r in region_rows.regions_of(
                    conn, image_id=first.image_id, annotator_id=annotator_id
                )
                if r.plane == first.plane
                and r.region_class == first.region_class
                and r.tool in MASK_TOOLS
                and r.tool != "interpolated"
            }
            for offset, painted in enumerate(between, start=1):
                frame = first.frame + offset
                if frame in taken or not painted.any():
                    continue
                uid = (
                    "ip-"
                    + hashlib.sha256(f"{first.uid}\0{last.uid}\0{frame}".encode()).hexdigest()[:32]
                )
                edit = RegionEdit(
                    uid,
                    first.image_id,
                    first.region_class,
                    "interpolated",
                    mask_from_array(painted),
                    frame=frame,
                    plane=first.plane,
                )
                shape = check_shape("interpolated", edit.geometry, extent)
                made.append(
                    self._write(
                        conn,
                        annotator_id,
                        uid,
                        edit,
                        first.region_class,
                        shape,
                        "",
                        {"interpolated_from": [first.uid, last.uid]},
                    )
                )
        return made

    def delete(self, uid: str, *, undo: bool = False) -> Region | None:
        """Delete a region (its history stays); the region as it was, or None if already gone."""
        self.session.check_open()
        uid = _check_uid(uid)
        annotator_id = self._annotator_id()
        with self.session.project.store.write() as conn:
            old = region_rows.find_region(conn, uid)
            if old is None:
                # A retried delete: the first one did it.
                return None
            if old.annotator_id != annotator_id:
                raise ValidationError(f"Region {uid} was drawn by another annotator.")
            self._check_not_sealed(conn, old.image_id)
            append_event(
                conn,
                self._event(
                    EventKind.REGION_DELETED,
                    {
                        "region": uid,
                        "old": _state(old),
                        "new": None,
                        **({"undo": True} if undo else {}),
                    },
                    (old.image_id, old.relpath),
                    old.frame,
                ),
            )
            region_rows.delete_region(conn, uid)
        return _region(old)
