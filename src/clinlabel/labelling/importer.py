"""Taking in an existing labels CSV (the seed tool's or our own) as audited label events.

All or nothing: the rows are checked first (every row must name exactly one image and a label
the project knows, with a comment where the label needs one); then every label is written with
its event in one transaction. With `skip_unmatched`, rows that cannot be placed are reported
and left out, and the rest go in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import ImageFileError, ImportFileError, ValidationError
from clinlabel.exports.csv_import import ImportRow, read_labels_csv
from clinlabel.exports.import_matching import ImportMatch, match_import_rows
from clinlabel.imaging.frame_count import check_frame
from clinlabel.imaging.render import kind_of
from clinlabel.labelling.project import Project, file_sha256
from clinlabel.labelling.service import clean_annotator_name
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people

_SHOWN = 10


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    unchanged: int = 0
    match: ImportMatch = field(default_factory=ImportMatch)
    invalid: list[tuple[ImportRow, str]] = field(default_factory=list)


def import_labels(
    project: Project, csv_path: Path, *, annotator: str, skip_unmatched: bool = False
) -> ImportReport:
    annotator = clean_annotator_name(annotator)
    rows = read_labels_csv(csv_path)
    with project.store.read() as conn:
        images = list(image_rows.all_images(conn))
    match = match_import_rows(
        rows, ((rel, case, visit, file) for _, rel, case, visit, file in images)
    )
    ids = {rel: image_id for image_id, rel, _, _, _ in images}
    report = ImportReport(match=match)
    for row, rel in match.matched:
        try:
            project.schema.validate(row.label, row.comment)
            if row.frame:
                # A frame label only for a frame the file has (its header says how many).
                path = project.image_path(rel)
                check_frame(path, kind_of(path), row.frame)
        except ValidationError as exc:
            report.invalid.append((row, exc.message))
    problems = _describe(report)
    if problems and not skip_unmatched:
        raise ImportFileError(
            f"Nothing was imported from {csv_path}: " + "; ".join(problems) + ".",
            hint="Fix those rows, or run again with --skip-unmatched to import the rest.",
        )
    bad_lines = {row.line for row, _ in report.invalid}
    todo = [(row, rel) for row, rel in match.matched if row.line not in bad_lines]
    hashes: dict[str, str | None] = {}
    needs_record: set[str] = set()
    with project.store.read() as conn:
        for _, rel in todo:
            info = image_rows.image_file_info(conn, ids[rel])
            reference = None if info is None or info.changed else info.sha256
            if reference is None:
                needs_record.add(rel)  # first label, or bytes changed since: hash them now
            hashes[rel] = reference
    for rel in needs_record:
        try:
            hashes[rel] = file_sha256(project.image_path(rel))
        except ImageFileError:
            hashes[rel] = None  # gone, or a link out of the batch: never read, so no hash
    with project.store.write() as conn:
        now = utc_now()
        annotator_id = people.annotator_id(conn, annotator, now=now)
        for row, rel in todo:
            image_id = ids[rel]
            name, text = project.schema.validate(row.label, row.comment)
            old = label_rows.current_label(
                conn, image_id=image_id, annotator_id=annotator_id, frame=row.frame
            )
            if old is not None and (old.label, old.comment) == (name, text):
                report.unchanged += 1
                continue
            event_id = append_event(
                conn,
                NewEvent(
                    EventKind.LABEL_SAVED if old is None else EventKind.LABEL_CHANGED,
                    annotator,
                    {
                        "old": None
                        if old is None
                        else {"label": old.label, "comment": old.comment},
                        "new": {"label": name, "comment": text},
                        "sha256": hashes[rel],
                        "source": {"import": str(csv_path), "line": row.line},
                    },
                    image_id=image_id,
                    image=rel,
                    frame=row.frame,
                    ts_utc=now,
                ),
            )
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=annotator_id,
                frame=row.frame,
                label=name,
                comment=text,
                labelled_at=now,
                sha256=hashes[rel],
                event_id=event_id,
                exists=old is not None,
            )
            sha = hashes[rel]
            if sha is not None and rel in needs_record:
                image_rows.record_hash(conn, image_id, sha)
            report.imported += 1
        append_event(
            conn,
            NewEvent(
                EventKind.LABELS_IMPORTED,
                annotator,
                {
                    "file": str(csv_path),
                    "rows": len(rows),
                    "imported": report.imported,
                    "unchanged": report.unchanged,
                    "left_out": len(rows) - report.imported - report.unchanged,
                },
            ),
        )
    return report


def _describe(report: ImportReport) -> list[str]:
    match = report.match
    parts: list[str] = []
    if match.unknown:
        shown = ", ".join(f"line {u.row.line} ({u.reason})" for u in match.unknown[:_SHOWN])
        parts.append(f"{len(match.unknown)} rows match no image: {shown}")
    if match.ambiguous:
        shown = ", ".join(
            f"line {a.row.line} ({a.row.file} could be {' or '.join(a.candidates)})"
            for a in match.ambiguous[:_SHOWN]
        )
        parts.append(f"{len(match.ambiguous)} rows match several images: {shown}")
    if report.invalid:
        shown = ", ".join(f"line {row.line} ({why})" for row, why in report.invalid[:_SHOWN])
        parts.append(f"{len(report.invalid)} rows have a label that breaks a rule: {shown}")
    return parts
