"""Regions and their geometries: the SQL of issue 11's drawing (the rules are `labelling`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from clinlabel.store.driver import stream_tuples
from clinlabel.store.events import _json_text
from clinlabel.store.schema import annotators, events, images, region_geometries, regions

REGION_KINDS = ("region_created", "region_changed", "region_deleted")
_DELETED = "region_deleted"


@dataclass(frozen=True, slots=True)
class RegionRow:
    """A current region as stored, with its geometry's text and its image's path."""

    id: int
    uid: str
    image_id: int
    relpath: str
    annotator: str
    annotator_id: int
    frame: int
    plane: str | None
    region_class: str
    tool: str
    geometry_sha256: str
    geometry: str
    comment: str
    updated_at: str
    event_id: int


_COLUMNS = (
    regions.c.id,
    regions.c.uid,
    regions.c.image_id,
    images.c.relpath,
    annotators.c.name,
    regions.c.annotator_id,
    regions.c.frame,
    regions.c.plane,
    regions.c.region_class,
    regions.c.tool,
    regions.c.geometry_sha256,
    region_geometries.c.geometry,
    regions.c.comment,
    regions.c.updated_at,
    regions.c.event_id,
)
_FROM = (
    regions.join(images, images.c.id == regions.c.image_id)
    .join(annotators, annotators.c.id == regions.c.annotator_id)
    .join(region_geometries, region_geometries.c.sha256 == regions.c.geometry_sha256)
)


def _row(found: Any) -> RegionRow:
    return RegionRow(*found)


def put_geometry(conn: Connection, sha256: str, geometry: str) -> None:
    """Keep a geometry by its hash (once: the same shape drawn again is the same row)."""
    have = conn.execute(
        select(region_geometries.c.sha256).where(region_geometries.c.sha256 == sha256)
    ).scalar()
    if have is None:
        conn.execute(region_geometries.insert().values(sha256=sha256, geometry=geometry))


def geometry_text(conn: Connection, sha256: str) -> str | None:
    found = conn.execute(
        select(region_geometries.c.geometry).where(region_geometries.c.sha256 == sha256)
    ).scalar()
    return None if found is None else str(found)


def find_region(conn: Connection, uid: str) -> RegionRow | None:
    found = conn.execute(select(*_COLUMNS).select_from(_FROM).where(regions.c.uid == uid)).first()
    return None if found is None else _row(found)


def regions_of(
    conn: Connection, *, image_id: int, annotator_id: int | None = None
) -> list[RegionRow]:
    """The regions on an image (one annotator's, or everyone's), in the order they were drawn."""
    query = select(*_COLUMNS).select_from(_FROM).where(regions.c.image_id == image_id)
    if annotator_id is not None:
        query = query.where(regions.c.annotator_id == annotator_id)
    return [_row(r) for r in conn.execute(query.order_by(regions.c.id))]


def insert_region(conn: Connection, **values: Any) -> None:
    conn.execute(regions.insert().values(**values))


def update_region(conn: Connection, uid: str, **values: Any) -> None:
    conn.execute(regions.update().where(regions.c.uid == uid).values(**values))


def delete_region(conn: Connection, uid: str) -> None:
    conn.execute(regions.delete().where(regions.c.uid == uid))


def iter_geometries(conn: Connection) -> Iterator[tuple[str, str]]:
    """(sha256, geometry) of every geometry kept, streamed (the verifier rehashes them)."""
    query = select(region_geometries.c.sha256, region_geometries.c.geometry).order_by(
        region_geometries.c.sha256
    )
    for sha, text in stream_tuples(conn, query):
        yield str(sha), str(text)


def first_region_mismatch(conn: Connection) -> tuple[int, str] | None:
    """The first current region that its events do not account for, with the reason.

    As for labels (`store.events.first_label_mismatch`): each current region must equal the
    `new` value of the event it names, that event must be the newest for its region, and a
    region whose newest event deleted it must be gone. Every geometry an event names must be
    kept (the hashes themselves are checked by the verifier, which rehashes the texts).
    """
    new = {
        name: _json_text(conn, events.c.data, "new", name)
        for name in ("class", "tool", "geometry_sha256", "comment", "plane")
    }
    uid = _json_text(conn, events.c.data, "region")
    named = (
        select(regions.c.event_id)
        .select_from(
            # Outer joins: a region whose annotator or image row is gone is still compared (as
            # a label is, `store.events.label_mismatch_queries`), not left out unchecked.
            regions.outerjoin(annotators, annotators.c.id == regions.c.annotator_id)
            .outerjoin(images, images.c.id == regions.c.image_id)
            .outerjoin(events, events.c.id == regions.c.event_id)
            .outerjoin(region_geometries, region_geometries.c.sha256 == regions.c.geometry_sha256)
        )
        .where(
            or_(
                events.c.id.is_(None),
                region_geometries.c.sha256.is_(None),
                events.c.kind.not_in(REGION_KINDS[:2]),
                uid.is_distinct_from(regions.c.uid),
                events.c.image_id.is_distinct_from(regions.c.image_id),
                events.c.image.is_distinct_from(images.c.relpath),
                events.c.actor.is_distinct_from(annotators.c.name),
                func.coalesce(events.c.frame, 0).is_distinct_from(regions.c.frame),
                new["class"].is_distinct_from(regions.c.region_class),
                new["tool"].is_distinct_from(regions.c.tool),
                new["geometry_sha256"].is_distinct_from(regions.c.geometry_sha256),
                func.coalesce(new["comment"], "").is_distinct_from(regions.c.comment),
                func.coalesce(new["plane"], "").is_distinct_from(
                    func.coalesce(regions.c.plane, "")
                ),
                events.c.ts_utc.is_distinct_from(regions.c.updated_at),
            )
        )
        .order_by(regions.c.event_id)
        .limit(1)
    )
    found = conn.execute(named).scalar()
    if found is not None:
        return int(found), (
            "a current region differs from the event it names (image, annotator, frame, class, "
            "tool, geometry, comment or time), or its geometry is missing"
        )
    latest = (
        select(uid.label("uid"), func.max(events.c.id).label("id"))
        .where(events.c.kind.in_(REGION_KINDS))
        .group_by(uid)
        .subquery()
    )
    newest = events.alias("newest")
    stale = (
        select(latest.c.id)
        .select_from(
            latest.join(newest, newest.c.id == latest.c.id).outerjoin(
                regions, regions.c.uid == latest.c.uid
            )
        )
        .where(
            or_(
                and_(newest.c.kind == _DELETED, regions.c.id.is_not(None)),
                and_(
                    newest.c.kind != _DELETED,
                    or_(regions.c.id.is_(None), regions.c.event_id.is_distinct_from(latest.c.id)),
                ),
            )
        )
        .order_by(latest.c.id)
        .limit(1)
    )
    found = conn.execute(stale).scalar()
    if found is not None:
        return int(found), "the current regions do not match the newest region event here"
    # Undo and history read old geometries: every one an event names must still be kept.
    sha = _json_text(conn, events.c.data, "new", "geometry_sha256")
    missing = (
        select(events.c.id)
        .select_from(events.outerjoin(region_geometries, region_geometries.c.sha256 == sha))
        .where(events.c.kind.in_(REGION_KINDS[:2]), region_geometries.c.sha256.is_(None))
        .order_by(events.c.id)
        .limit(1)
    )
    found = conn.execute(missing).scalar()
    if found is not None:
        return int(found), "the geometry this region event records is not in the project"
    return None


def region_counts(
    conn: Connection, image_ids: list[int], *, annotator_id: int | None = None
) -> dict[int, int]:
    """How many regions each of these images has (one annotator's, or everyone's), read from
    the regions' (image, annotator) index."""
    if not image_ids:
        return {}
    query = (
        select(regions.c.image_id, func.count())
        .where(regions.c.image_id.in_(image_ids))
        .group_by(regions.c.image_id)
    )
    if annotator_id is not None:
        query = query.where(regions.c.annotator_id == annotator_id)
    return {int(i): int(n) for i, n in conn.execute(query)}


def first_event_naming(conn: Connection, sha256: str) -> int | None:
    """The first region event that records this geometry hash."""
    sha = _json_text(conn, events.c.data, "new", "geometry_sha256")
    found = conn.execute(
        select(func.min(events.c.id)).where(events.c.kind.in_(REGION_KINDS[:2]), sha == sha256)
    ).scalar()
    return None if found is None else int(found)
