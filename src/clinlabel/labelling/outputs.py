"""Labels CSVs and summary report: "Save progress" and the final export share this code.

`clinical_labels.csv` has one row per labelled image (the seed's five columns);
`clinical_frame_labels.csv`, beside it, holds the labels of single frames or slices. The frame
file is written when the project has frame labels, and also when one is already there from an
earlier export (then with its header only), so that a frame file never contradicts the labels
CSV beside it; a project of photos never gets one.

Outputs go only where the user chose (by default the project folder), never inside the batch;
each file is written atomically, and each write is an audit event carrying the file's SHA-256,
so a CSV handed to a model-training team can be traced back to the moment it was made.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from clinlabel import __version__
from clinlabel.atomic import atomic_writer, pending_path, publish
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event
from clinlabel.audit.status import ChainStatus
from clinlabel.exports.csv import write_frame_labels_csv, write_labels_csv
from clinlabel.labelling.agreement import add_agreement_section
from clinlabel.labelling.overwrite import check_output_location, is_clinlabel_output
from clinlabel.labelling.project import Project, file_sha256
from clinlabel.reports.data import (
    CaseStats,
    CommentEntry,
    LabelDefinition,
    LeftOut,
    ReportData,
    SessionSpan,
    Unmasking,
)
from clinlabel.reports.text import render_text_report
from clinlabel.store import exports as export_rows
from clinlabel.store import images as image_rows
from clinlabel.store import meta, people, reporting

CSV_NAME = "clinical_labels.csv"
FRAME_CSV_NAME = "clinical_frame_labels.csv"
REPORT_NAME = "clinical_labels_summary.txt"


@dataclass(frozen=True, slots=True)
class OutputPaths:
    csv: Path
    report: Path
    rows: int
    frame_csv: Path | None
    """Where the frame labels went; None when no frame file was written (see the module)."""
    frame_rows: int
    report_text: str
    audit: ChainStatus
    """The audit trail as the report states it: a broken one is marked BROKEN there."""


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _check_destination(project: Project, path: Path) -> Path:
    # The same rule as the commands check before they start (labelling.overwrite), kept here
    # too so that every caller, the page's "Save progress" included, goes through it.
    return check_output_location(path, batch=project.batch)


def gather_report_data(project: Project, *, parallel: bool = False) -> ReportData:
    """Collect every figure of the summary report from the stored labels and events.

    `parallel` (commands only): a long chain is verified on spawned processes meanwhile.
    """
    # In a labelling server only the events since its last check are verified (ADR 0009).
    verification = project.chain.start(parallel=parallel)
    with project.store.read() as conn:
        ends = reporting.session_ends(conn)
        sessions = [
            SessionSpan(
                annotator=s.annotator,
                started_at=_parse_utc(s.started_at),
                ended_at=_parse_utc(s.ended_at or ends.get(s.id, s.started_at)),
                tz_offset_min=s.tz_offset_min,
            )
            for s in people.list_sessions(conn)
        ]
        per_case_labels: dict[str, dict[str, int]] = defaultdict(dict)
        for case, label, count in reporting.case_label_counts(conn):
            per_case_labels[case][label] = count
        case_ms = reporting.case_active_ms(conn)
        cases = [
            CaseStats(
                case=case,
                total=total,
                labelled=labelled,
                per_label=per_case_labels.get(case, {}),
                active_seconds=case_ms.get(case, 0) / 1000.0,
            )
            for case, total, labelled in reporting.case_rows(conn)
        ]
        # Project totals are the sums of the per-case figures: no second pass over the tables.
        per_label: dict[str, int] = defaultdict(int)
        for counts in per_case_labels.values():
            for label, count in counts.items():
                per_label[label] += count
        comments = [CommentEntry(*row) for row in reporting.commented_labels(conn)]
        last_scan = json.loads(meta.get_meta(conn, meta.LAST_SCAN) or "{}")
        changes = reporting.event_counts(
            conn, [EventKind.LABEL_CHANGED.value, EventKind.LABEL_CLEARED.value]
        )
        unmaskings = [
            Unmasking(
                at=_parse_utc(ts),
                annotator=actor,
                image=image or "",
                attributes=tuple(json.loads(data).get("attributes", ())),
            )
            for ts, actor, image, data in reporting.events_of_kind(
                conn, EventKind.METADATA_UNMASKED.value
            )
        ]
        chain = verification()
        return ReportData(
            batch_path=str(project.batch),
            project_path=str(project.dir),
            generated_at=datetime.now(UTC),
            app_version=__version__,
            annotators=people.annotator_names(conn),
            sessions=sessions,
            total_images=sum(c.total for c in cases),
            labelled_images=sum(c.labelled for c in cases),
            label_names=project.schema.names,
            comment_required=[d.name for d in project.schema.labels if d.requires_comment],
            per_label=dict(per_label),
            cases=cases,
            image_seconds=[ms / 1000.0 for ms in reporting.labelled_image_active_ms(conn)],
            idle_seconds=reporting.idle_ms_total(conn) / 1000.0,
            comments=comments,
            problems=int(last_scan.get("problems", 0)),
            changed_images=image_rows.count_changed(conn),
            audit=chain if chain.events else replace(chain, head_hash=""),
            label_definitions=[
                LabelDefinition(d.name, d.key, d.requires_comment) for d in project.schema.labels
            ],
            problem_files=[
                LeftOut(str(p["relpath"]), str(p["reason"]))
                for p in last_scan.get("problem_list", ())
            ],
            skipped_folders=[
                LeftOut(str(f["relpath"]), str(f["reason"]), int(f.get("image_count", 0)))
                for f in last_scan.get("skipped_list", ())
            ],
            skipped=int(last_scan.get("skipped", 0)),
            labels_changed=changes[EventKind.LABEL_CHANGED.value],
            labels_cleared=changes[EventKind.LABEL_CLEARED.value],
            unmaskings=unmaskings,
        )


def frame_csv_path(csv_path: Path) -> Path:
    """Where the frame labels go for a labels CSV at `csv_path`: beside it, fixed name."""
    return csv_path.parent / FRAME_CSV_NAME


def export_csv(project: Project, path: Path, *, detailed: bool = False, actor: str) -> int:
    """Write the labels CSV (one row per labelled image) to `path` and record it; returns the
    number of rows. The frame labels are `export_frame_csv`'s."""
    path = _check_destination(project, path)
    pending = pending_path(path)
    # The stream is closed inside the transaction, also when writing fails: its cursor must not
    # outlive its connection ("Exception ignored ... closed database" after an error).
    with (
        project.store.read() as conn,
        contextlib.closing(export_rows.iter_image_label_rows(conn, detailed=detailed)) as stream,
    ):
        rows = write_labels_csv(stream, pending, detailed=detailed)
    _publish_recorded(
        project, pending, path, kind="labels_csv", rows=rows, actor=actor, detailed=detailed
    )
    return rows


def frame_csv_due(project: Project, path: Path) -> bool:
    """Whether `export_frame_csv` would write `path`: the project has frame labels, or an
    earlier clinlabel frame file is there (which would otherwise go stale)."""
    with project.store.read() as conn:
        if export_rows.has_frame_labels(conn):
            return True
    return path.is_file() and is_clinlabel_output(path, "csv")


def export_frame_csv(
    project: Project, path: Path, *, detailed: bool = False, actor: str
) -> int | None:
    """Write the frame labels CSV to `path` and record it, if due (`frame_csv_due`); returns
    its number of rows, or None when nothing was written."""
    path = _check_destination(project, path)
    if not frame_csv_due(project, path):
        return None
    pending = pending_path(path)
    with (
        project.store.read() as conn,
        contextlib.closing(export_rows.iter_frame_label_rows(conn, detailed=detailed)) as stream,
    ):
        rows = write_frame_labels_csv(stream, pending, detailed=detailed)
    _publish_recorded(
        project, pending, path, kind="frame_labels_csv", rows=rows, actor=actor, detailed=detailed
    )
    return rows


def export_csvs(
    project: Project, csv_path: Path, *, detailed: bool = False, actor: str
) -> tuple[int, int | None]:
    """The labels CSV at `csv_path` and, if due, the frame labels CSV beside it, both staged
    before either is published: a failure while writing (a full disk) leaves both files as they
    were, never a new labels file beside an old frame file. Returns both numbers of rows (None:
    no frame file written)."""
    csv_path = _check_destination(project, csv_path)
    frame_path = _check_destination(project, frame_csv_path(csv_path))
    staged, frame_staged = pending_path(csv_path), pending_path(frame_path)
    try:
        with (
            project.store.read() as conn,
            contextlib.closing(
                export_rows.iter_image_label_rows(conn, detailed=detailed)
            ) as rows_in,
        ):
            rows = write_labels_csv(rows_in, staged, detailed=detailed)
        frame_rows: int | None = None
        if frame_csv_due(project, frame_path):
            with (
                project.store.read() as conn,
                contextlib.closing(
                    export_rows.iter_frame_label_rows(conn, detailed=detailed)
                ) as frames_in,
            ):
                frame_rows = write_frame_labels_csv(frames_in, frame_staged, detailed=detailed)
        _publish_recorded(
            project, staged, csv_path, kind="labels_csv", rows=rows, actor=actor, detailed=detailed
        )
        if frame_rows is not None:
            _publish_recorded(
                project,
                frame_staged,
                frame_path,
                kind="frame_labels_csv",
                rows=frame_rows,
                actor=actor,
                detailed=detailed,
            )
    finally:
        staged.unlink(missing_ok=True)
        frame_staged.unlink(missing_ok=True)
    return rows, frame_rows


def write_report(project: Project, path: Path, *, actor: str, parallel: bool = False) -> str:
    """Write the summary report to `path` and record it; returns the report's text."""
    return _write_report(project, path, actor=actor, parallel=parallel)[0]


def report_text(project: Project, *, parallel: bool = False) -> str:
    """The summary report's text, written nowhere and recorded nowhere (read-only media)."""
    text = render_text_report(gather_report_data(project, parallel=parallel))
    return add_agreement_section(project, text)


def chain_status(project: Project, *, parallel: bool = False) -> ChainStatus:
    """The audit trail and the current labels checked against it (what an export relies on)."""
    return project.chain.start(parallel=parallel)()


def _write_report(
    project: Project, path: Path, *, actor: str, parallel: bool
) -> tuple[str, ChainStatus]:
    path = _check_destination(project, path)
    pending = pending_path(path)
    data = gather_report_data(project, parallel=parallel)
    text = add_agreement_section(project, render_text_report(data))
    with atomic_writer(pending) as handle:
        handle.write(text)
    _publish_recorded(project, pending, path, kind="summary_report", rows=None, actor=actor)
    return text, data.audit


def save_outputs(
    project: Project,
    *,
    csv_path: Path | None = None,
    report_path: Path | None = None,
    final: bool = False,
    detailed: bool = False,
    actor: str,
    parallel: bool = False,
) -> OutputPaths:
    """Write the labels CSV and the summary report (partial progress or the final export).

    `parallel`: see `gather_report_data` (the command line asks for it, a server never does).
    """
    csv_path = csv_path or project.dir / CSV_NAME
    report_path = report_path or project.dir / REPORT_NAME
    frame_path = frame_csv_path(csv_path)
    rows, frame_rows = export_csvs(project, csv_path, detailed=detailed, actor=actor)
    text, audit = _write_report(project, report_path, actor=actor, parallel=parallel)
    if final:
        with project.store.write() as conn:
            append_event(
                conn,
                NewEvent(
                    EventKind.EXPORT_WRITTEN,
                    actor,
                    {
                        "final": True,
                        "csv": str(csv_path),
                        "report": str(report_path),
                        "rows": rows,
                        **(
                            {"frame_csv": str(frame_path), "frame_rows": frame_rows}
                            if frame_rows is not None
                            else {}
                        ),
                    },
                ),
            )
    return OutputPaths(
        csv=csv_path.resolve(),
        report=report_path.resolve(),
        rows=rows,
        frame_csv=frame_path.resolve() if frame_rows is not None else None,
        frame_rows=frame_rows or 0,
        report_text=text,
        audit=audit,
    )


def _publish_recorded(
    project: Project,
    pending: Path,
    path: Path,
    *,
    kind: str,
    rows: int | None,
    actor: str,
    detailed: bool = False,
) -> None:
    """Put a complete staged output in place and record it, as one step as far as can be.

    The event is appended and the file renamed into place inside one write transaction: when
    the project is busy or the event cannot be written, the staged file is removed and the
    previous output stays as it was, so no output appears without its audit event.
    """
    data: dict[str, object] = {"output": kind, "path": str(path), "sha256": file_sha256(pending)}
    if rows is not None:
        data["rows"] = rows
        data["detailed"] = detailed
    try:
        with project.store.write() as conn:
            append_event(conn, NewEvent(EventKind.EXPORT_WRITTEN, actor, data))
            publish(pending, path)
    finally:
        pending.unlink(missing_ok=True)
