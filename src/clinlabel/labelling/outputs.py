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
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from clinlabel import __version__
from clinlabel.atomic import atomic_writer, pending_path, publish
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event
from clinlabel.audit.status import ChainStatus
from clinlabel.domain.progress import REPORT_EVERY, ProgressSink, no_progress
from clinlabel.exports.csv import (
    write_frame_labels_csv,
    write_labels_csv,
    write_labels_csv_batches,
    write_readers_csv,
)
from clinlabel.labelling.adjudication import readers_row, team_row
from clinlabel.labelling.csv_export import CSV_NAME as CSV_NAME
from clinlabel.labelling.csv_export import FRAME_CSV_NAME as FRAME_CSV_NAME
from clinlabel.labelling.csv_export import WRITING_CSV as WRITING_CSV
from clinlabel.labelling.csv_export import batch_reporter
from clinlabel.labelling.overwrite import check_output_location, is_clinlabel_output
from clinlabel.labelling.project import Project, file_sha256
from clinlabel.store import adjudication as adjudication_rows
from clinlabel.store import exports as export_rows
from clinlabel.store import images as image_rows
from clinlabel.store import meta, people, reporting
from clinlabel.store import readings as reading_rows
from clinlabel.store.page_cache import large_cache

if TYPE_CHECKING:
    from clinlabel.reports.data import ReportData

T = TypeVar("T")

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


def gather_report_data(
    project: Project, *, parallel: bool = False, progress: ProgressSink = no_progress
) -> ReportData:
    """Collect every figure of the summary report from the stored labels and events.

    `parallel` (commands only): a long chain is verified on spawned processes meanwhile.
    """
    # Imported here, as the renderers are: a CSV export never needs them.
    from clinlabel.reports.data import (
        CaseStats,
        CommentEntry,
        LabelDefinition,
        LeftOut,
        ReportData,
        SessionSpan,
        Unmasking,
    )

    # In a labelling server only the events since its last check are verified (ADR 0009).
    verification = project.chain.start(parallel=parallel, progress=progress)
    progress("Gathering the report's figures", 0, None)
    # Grouped reads of every label and event: sorted in memory, not in spilled merge passes.
    with project.store.read() as conn, large_cache(conn):
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


def export_csv(
    project: Project,
    path: Path,
    *,
    detailed: bool = False,
    actor: str,
    progress: ProgressSink = no_progress,
) -> int:
    """Write the labels CSV (one row per labelled image) to `path` and record it; returns the
    number of rows. The frame labels are `export_frame_csv`'s."""
    path = _check_destination(project, path)
    pending, rows = _stage_csv(project, path, detailed=detailed, progress=progress)
    _publish_recorded(project, [_Staged(pending, path, "labels_csv", rows, detailed)], actor=actor)
    return rows


def _stage_csv(
    project: Project, path: Path, *, detailed: bool, progress: ProgressSink, readers: bool = False
) -> tuple[Path, int]:
    """The labels CSV written complete beside `path` (its pending name); nothing published.

    A team project (two readers or more) writes one row per image with its adjudicated label
    (`labelling.adjudication.team_row`) unless `detailed`, which keeps one row per read;
    `readers` writes each reader's label side by side instead."""
    pending = pending_path(path)
    if readers or not detailed:
        team = _stage_team_csv(project, pending, readers=readers)
        if team is not None:
            return pending, team
    with project.store.read() as conn:
        # Counted only for a progress bar: the count is a pass over the labels of its own.
        total = None if progress is no_progress else export_rows.count_image_label_rows(conn)
        # Closed inside the transaction, also when writing fails: the row stream's cursor must
        # not outlive its connection ("Exception ignored ... closed database" after an error).
        try:
            if detailed:
                with contextlib.closing(
                    export_rows.iter_image_label_rows(conn, detailed=True)
                ) as stream:
                    rows = write_labels_csv(
                        _reported(stream, progress, total), pending, detailed=True
                    )
            else:
                progress(WRITING_CSV, 0, total)
                with contextlib.closing(export_rows.iter_image_label_batches(conn)) as batches:
                    rows = write_labels_csv_batches(
                        batches, pending, written=batch_reporter(progress, total)
                    )
        except BaseException:
            pending.unlink(missing_ok=True)  # interrupted (Ctrl+C) or failed: no half file
            raise
    return pending, rows


def _stage_team_csv(project: Project, pending: Path, *, readers: bool) -> int | None:
    """The team shapes of the labels CSV (see `_stage_csv`); None for a single reader's project
    without `readers`, whose CSV keeps the seed's shape exactly."""
    with project.store.read() as conn:
        if not readers and adjudication_rows.reader_count(conn) < 2:
            return None
        names = reading_rows.reader_names(conn)
        with contextlib.closing(adjudication_rows.iter_team_images(conn)) as images:
            try:
                if readers:
                    return write_readers_csv(
                        (readers_row(image, names) for image in images), pending, readers=names
                    )
                return write_labels_csv((team_row(image) for image in images), pending)
            except BaseException:
                pending.unlink(missing_ok=True)
                raise


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
    staged = _stage_frame_csv(project, path, detailed=detailed)
    if staged is None:
        return None
    _publish_recorded(project, [staged], actor=actor)
    return staged.rows


def _stage_frame_csv(project: Project, path: Path, *, detailed: bool) -> _Staged | None:
    """The frame labels CSV written complete beside `path`, if due; nothing published."""
    if not frame_csv_due(project, path):
        return None
    pending = pending_path(path)
    with (
        project.store.read() as conn,
        contextlib.closing(export_rows.iter_frame_label_rows(conn, detailed=detailed)) as stream,
    ):
        try:
            rows = write_frame_labels_csv(stream, pending, detailed=detailed)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
    return _Staged(pending, path, "frame_labels_csv", rows, detailed)


def export_csvs(
    project: Project,
    csv_path: Path,
    *,
    detailed: bool = False,
    actor: str,
    progress: ProgressSink = no_progress,
    readers: bool = False,
    sealed: int = 0,
) -> tuple[int, int | None]:
    """The labels CSV at `csv_path` and, if due, the frame labels CSV beside it, both staged
    before either is published, then published with their events in one transaction: a failure
    while writing (a full disk) or Ctrl+C leaves both files as they were, never a new labels
    file beside an old frame file. Returns both numbers of rows (None: no frame file).
    `sealed`: the study's sealed first reads the files hold, written into their events
    (`worklist.check_terminal_export`)."""
    csv_path = _check_destination(project, csv_path)
    # Beside the CSV, in the folder just checked: the same answer, without looking again (the
    # look for an enclosing batch lists folders, a noticeable part of a bulk export).
    frame_path = frame_csv_path(csv_path)
    staged: list[_Staged] = []
    try:
        pending, rows = _stage_csv(
            project, csv_path, detailed=detailed, progress=progress, readers=readers
        )
        staged.append(_Staged(pending, csv_path, "labels_csv", rows, detailed))
        frame = _stage_frame_csv(project, frame_path, detailed=detailed)
        if frame is not None:
            staged.append(frame)
    except BaseException:
        for output in staged:
            output.pending.unlink(missing_ok=True)
        raise
    _publish_recorded(project, staged, actor=actor, sealed=sealed)
    return rows, None if frame is None else frame.rows


def _reported(stream: Iterator[T], progress: ProgressSink, total: int | None) -> Iterator[T]:
    progress(WRITING_CSV, 0, total)
    for done, row in enumerate(stream, start=1):
        yield row
        if done % REPORT_EVERY == 0:
            progress(WRITING_CSV, done, total if total is not None and total >= done else None)


def write_report(
    project: Project,
    path: Path,
    *,
    actor: str,
    parallel: bool = False,
    progress: ProgressSink = no_progress,
    sealed: int = 0,
) -> str:
    """Write the summary report to `path` and record it; returns the report's text.
    `sealed`: as for `export_csvs`."""
    return _write_report(
        project, path, actor=actor, parallel=parallel, progress=progress, sealed=sealed
    )[0]


def report_text(project: Project, *, parallel: bool = False) -> str:
    """The summary report's text, written nowhere and recorded nowhere (read-only media)."""
    from clinlabel.labelling.agreement import add_agreement_section
    from clinlabel.reports.text import render_text_report

    text = render_text_report(gather_report_data(project, parallel=parallel))
    return add_agreement_section(project, text)


def chain_status(project: Project, *, parallel: bool = False) -> ChainStatus:
    """The audit trail and the current labels checked against it (what an export relies on)."""
    return project.chain.start(parallel=parallel)()


def chain_status_meanwhile(project: Project) -> Callable[[], ChainStatus]:
    """`chain_status` started on a thread; the returned function waits for it.

    For `clinlabel export` without the report: the check of the current labels against the trail
    is SQL that runs outside Python's lock, so it overlaps the writing of the CSV instead of
    following it. A daemon thread, so Ctrl+C during the export is not kept waiting by it.
    """
    done: list[ChainStatus] = []
    failed: list[BaseException] = []

    def check() -> None:
        try:
            # Kept for the next export only once this one is done (`result`): an export
            # interrupted meanwhile leaves the project as it was.
            done.append(project.chain.start(keep=False)())
        except BaseException as exc:  # handed to the caller, who raises it
            failed.append(exc)

    worker = threading.Thread(target=check, name="clinlabel-chain-check", daemon=True)
    worker.start()

    def result() -> ChainStatus:
        worker.join()
        if failed:
            raise failed[0]
        project.chain.keep()
        return done[0]

    return result


def _write_report(
    project: Project,
    path: Path,
    *,
    actor: str,
    parallel: bool,
    progress: ProgressSink = no_progress,
    sealed: int = 0,
) -> tuple[str, ChainStatus]:
    path = _check_destination(project, path)
    pending, text, audit = _stage_report(project, path, parallel=parallel, progress=progress)
    staged = [_Staged(pending, path, "summary_report")]
    _publish_recorded(project, staged, actor=actor, sealed=sealed)
    return text, audit


def _stage_report(
    project: Project, path: Path, *, parallel: bool, progress: ProgressSink = no_progress
) -> tuple[Path, str, ChainStatus]:
    """The summary report written complete beside `path` (its pending name); nothing published."""
    # Imported here: it brings numpy, which the labels CSV alone never needs.
    from clinlabel.labelling.agreement import add_agreement_section
    from clinlabel.reports.text import render_text_report

    pending = pending_path(path)
    data = gather_report_data(project, parallel=parallel, progress=progress)
    text = add_agreement_section(project, render_text_report(data))
    with atomic_writer(pending) as handle:
        handle.write(text)
    return pending, text, data.audit


def save_outputs(
    project: Project,
    *,
    csv_path: Path | None = None,
    report_path: Path | None = None,
    final: bool = False,
    detailed: bool = False,
    actor: str,
    parallel: bool = False,
    progress: ProgressSink = no_progress,
    readers: bool = False,
    sealed: int = 0,
) -> OutputPaths:
    """Write the labels CSV, the frame labels CSV (when due) and the summary report (partial
    progress or the final export).

    All or nothing: every file is staged complete first, then put in place and recorded in one
    write transaction, so a failure or an interruption (Ctrl+C) before that leaves no file
    changed and no event. The report therefore states the trail as it was before this export's
    own events. `parallel`: see `gather_report_data` (the command line asks for it, a server
    never does). `sealed`: as for `export_csvs`.
    """
    csv_path = _check_destination(project, csv_path or project.dir / CSV_NAME)
    report_path = _check_destination(project, report_path or project.dir / REPORT_NAME)
    frame_path = _check_destination(project, frame_csv_path(csv_path))
    staged: list[_Staged] = []
    try:
        csv_pending, rows = _stage_csv(
            project, csv_path, detailed=detailed, progress=progress, readers=readers
        )
        staged.append(_Staged(csv_pending, csv_path, "labels_csv", rows, detailed))
        frame = _stage_frame_csv(project, frame_path, detailed=detailed)
        if frame is not None:
            staged.append(frame)
        report_pending, text, audit = _stage_report(
            project, report_path, parallel=parallel, progress=progress
        )
        staged.append(_Staged(report_pending, report_path, "summary_report"))
    except BaseException:
        for output in staged:
            output.pending.unlink(missing_ok=True)
        raise
    frame_rows = frame.rows if frame is not None else None
    final_event = (
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
        )
        if final
        else None
    )
    _publish_recorded(project, staged, actor=actor, then=final_event, sealed=sealed)
    return OutputPaths(
        csv=csv_path.resolve(),
        report=report_path.resolve(),
        rows=rows,
        frame_csv=frame_path.resolve() if frame_rows is not None else None,
        frame_rows=frame_rows or 0,
        report_text=text,
        audit=audit,
    )


@dataclass(frozen=True, slots=True)
class _Staged:
    """An output written complete under its pending name, waiting to be put in place."""

    pending: Path
    path: Path
    kind: str
    rows: int | None = None
    detailed: bool = False


def _publish_recorded(
    project: Project,
    staged: list[_Staged],
    *,
    actor: str,
    then: NewEvent | None = None,
    sealed: int = 0,
) -> None:
    """Put complete staged outputs in place and record them, as one step as far as can be.

    The events are appended and the files renamed into place inside one write transaction:
    when the project is busy or an event cannot be written, the staged files are removed and
    the previous outputs stay as they were, so no output appears without its audit event.
    """
    try:
        described = []
        for output in staged:
            data: dict[str, object] = {
                "output": output.kind,
                "path": str(output.path),
                "sha256": file_sha256(output.pending),
            }
            if output.rows is not None:
                data["rows"] = output.rows
                data["detailed"] = output.detailed
            if sealed:
                # Written while their readers are blinded to them: the study's lead says so.
                data["sealed_first_reads"] = sealed
            described.append(data)
        with project.store.write() as conn:
            for data in described:
                append_event(conn, NewEvent(EventKind.EXPORT_WRITTEN, actor, data))
            if then is not None:
                append_event(conn, then)
            # Renamed last, after every event is in: the transaction commits right after.
            for output in staged:
                publish(output.pending, output.path)
    finally:
        for output in staged:
            output.pending.unlink(missing_ok=True)
