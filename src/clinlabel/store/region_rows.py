"""The SQL of the region exports: every current region with its image, and what the splits
stratify on (each case's image labels)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from clinlabel.store.driver import stream_tuples
from clinlabel.store.events import _json_text
from clinlabel.store.schema import annotators, events, images, labels, region_geometries, regions


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A current region as an export needs it: where it was drawn, by whom, what it is."""

    uid: str
    relpath: str
    case: str
    kind: str
    frame: int
    plane: str | None
    annotator: str
    region_class: str
    tool: str
    geometry: str
    comment: str


def iter_export_rows(conn: Connection, *, annotator: str | None = None) -> Iterator[ExportRow]:
    """Current regions ordered by image, frame, plane, then drawing order (the id)."""
    query = (
        select(
            regions.c.uid,
            images.c.relpath,
            images.c.case_name,
            images.c.kind,
            regions.c.frame,
            regions.c.plane,
            annotators.c.name,
            regions.c.region_class,
            regions.c.tool,
            region_geometries.c.geometry,
            regions.c.comment,
        )
        .select_from(
            regions.join(images, images.c.id == regions.c.image_id)
            .join(annotators, annotators.c.id == regions.c.annotator_id)
            .join(region_geometries, region_geometries.c.sha256 == regions.c.geometry_sha256)
        )
        .order_by(images.c.relpath, regions.c.frame, regions.c.plane, regions.c.id)
    )
    if annotator is not None:
        query = query.where(annotators.c.name == annotator)
    for row in stream_tuples(conn, query):
        uid, relpath, case, kind, frame, plane, name, cls, tool, geometry, comment = row
        yield ExportRow(
            str(uid),
            str(relpath),
            str(case),
            str(kind),
            int(frame),
            None if plane is None else str(plane),
            str(name),
            str(cls),
            str(tool),
            str(geometry),
            str(comment or ""),
        )


def case_label_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(case, label, how many images or frames carry it), every annotator counted."""
    query = (
        select(images.c.case_name, labels.c.label, func.count())
        .select_from(labels.join(images, images.c.id == labels.c.image_id))
        .group_by(images.c.case_name, labels.c.label)
        .order_by(images.c.case_name, labels.c.label)
    )
    return [(str(c), str(label), int(n)) for c, label, n in conn.execute(query)]


def annotator_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(select(annotators.c.id).where(annotators.c.name == name)).scalar()
    return found is not None


def image_index(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every image's relpath with its id and kind (an import matches files against it)."""
    query = select(images.c.relpath, images.c.id, images.c.kind)
    return {str(r): (int(i), str(k)) for r, i, k in conn.execute(query)}


def region_export_written_to(conn: Connection, folder: str) -> bool:
    """Whether the trail records a region export of this project written into `folder`."""
    query = (
        select(events.c.id)
        .where(
            events.c.kind == "export_written",
            _json_text(conn, events.c.data, "path") == folder,
            _json_text(conn, events.c.data, "output").like("regions_%"),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def last_region_export_files(conn: Connection, folder: str, output: str) -> dict[str, str]:
    """The files (relative path: SHA-256) the latest `output` export into `folder` recorded;
    empty when there was none."""
    query = (
        select(events.c.data)
        .where(
            events.c.kind == "export_written",
            _json_text(conn, events.c.data, "path") == folder,
            _json_text(conn, events.c.data, "output") == output,
        )
        .order_by(events.c.id.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    if found is None:
        return {}
    data = json.loads(found) if isinstance(found, str) else found
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def image_kinds(conn: Connection) -> set[str]:
    """The kinds of image the project holds (raster, dicom, nifti): which exports make sense."""
    return {str(k) for (k,) in conn.execute(select(images.c.kind).distinct())}
