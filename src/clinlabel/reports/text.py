"""The summary report as structured plain text: the seed's `clinical_labels_summary.txt`.

Written for an ethics board or a data manager: every figure the seed lists, in numbered
sections, with tables aligned for any script, times in UTC and the annotator's local time, and
every comment traceable to its case, visit and file. Beyond the seed, what a board asks for: the
label definitions, what the batch held that was left out (and why), how often labels were changed
or cleared, every time identifying metadata was revealed, the audit trail's state and newest hash,
and a block for each annotator to sign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from clinlabel.atomic import atomic_writer
from clinlabel.reports.data import CommentEntry, LeftOut, ReportData
from clinlabel.reports.durations import (
    NOT_AVAILABLE,
    as_utc,
    format_duration,
    format_local,
    format_percent,
    format_utc,
)
from clinlabel.reports.figures import ReportFigures, compute_figures
from clinlabel.reports.tables import render_fields, render_table, safe_multiline, safe_text

TITLE = "CLINICAL IMAGE LABELLING: SUMMARY REPORT"
SECTION_TITLES: tuple[str, ...] = (
    "1. Annotators",
    "2. Sessions",
    "3. Progress",
    "4. Label definitions",
    "5. Label distribution",
    "6. Per-case statistics",
    "7. Time per image",
    "8. Productivity",
    "9. Estimated time remaining",
    "10. Comments",
    "11. Label changes",
    "12. Left out of the queue",
    "13. Identifying metadata revealed",
    "14. Data integrity and audit trail",
    "15. Data safety",
    "16. Sign-off",
)
_RULE = "=" * 78


def write_text_report(data: ReportData, path: Path) -> None:
    """Render the report and write it to `path` atomically (UTF-8)."""
    text = render_text_report(data)
    with atomic_writer(Path(path), encoding="utf-8") as handle:
        handle.write(text)


def render_text_report(data: ReportData) -> str:
    """The whole report as one string ending in a new line."""
    figures = compute_figures(data)
    out: list[str] = [_RULE, TITLE, _RULE]
    out += render_fields(
        [
            ("Generated", format_utc(data.generated_at)),
            ("clinlabel version", safe_text(data.app_version)),
            ("Batch folder", safe_text(data.batch_path)),
            ("Project folder", safe_text(data.project_path)),
            ("Audit trail", _audit_headline(data)),
        ],
        indent=0,
    )
    sections = (
        _annotators, _sessions, _progress, _definitions, _labels, _cases, _time_per_image,
        _productivity, _remaining, _comments, _changes, _left_out, _unmaskings, _integrity,
        _safety, _sign_off,
    )  # fmt: skip
    for title, section in zip(SECTION_TITLES, sections, strict=True):
        out += ["", "", title.upper(), "-" * len(title)]
        out += section(data, figures)
    out += ["", _RULE, "End of report.", ""]
    return "\n".join(out)


def _count(n: int) -> str:
    return f"{n:,}"


def _rate(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.1f}"


def _audit_headline(data: ReportData) -> str:
    audit = data.audit
    if audit.ok:
        return f"OK, {_count(audit.events)} events verified"
    broken_at = audit.first_broken_event
    where = "an unknown event" if broken_at is None else f"event {broken_at}"
    return f"BROKEN at {where}: see section 14 before relying on this report"


def _annotators(data: ReportData, _: ReportFigures) -> list[str]:
    if not data.annotators:
        return ["  No annotator has opened a session yet."]
    sessions: Counter[str] = Counter(span.annotator for span in data.sessions)
    rows = [[safe_text(name), _count(sessions[name])] for name in data.annotators]
    return render_table(["Annotator", "Sessions"], rows, right=[False, True])


def _sessions(data: ReportData, figures: ReportFigures) -> list[str]:
    lines: list[str] = []
    for number, span in enumerate(data.sessions, start=1):
        if span.ended_at is None:
            end = "still open when this report was made"
            until = data.generated_at
        else:
            end = _both_clocks(span.ended_at, span.tz_offset_min)
            until = span.ended_at
        duration = format_duration((as_utc(until) - as_utc(span.started_at)).total_seconds())
        lines.append(f"  Session {number}: {safe_text(span.annotator)}")
        lines += render_fields(
            [
                ("Start", _both_clocks(span.started_at, span.tz_offset_min)),
                ("End", end),
                ("Duration", duration),
            ],
            indent=4,
        )
    if not data.sessions:
        lines.append("  No session has been recorded.")
    lines.append("")
    lines += render_fields(
        [
            ("Sessions", _count(len(data.sessions))),
            ("First start", format_utc(figures.first_start) if figures.first_start else "n/a"),
            ("Last end", format_utc(figures.last_end) if figures.last_end else "n/a"),
            ("Total session time", format_duration(figures.session_seconds)),
            ("Active labelling time", format_duration(figures.durations.total)),
            ("Time away (excluded)", format_duration(data.idle_seconds)),
        ]
    )
    return lines


def _both_clocks(moment: datetime, offset: int) -> str:
    return f"{format_utc(moment)}   (local {format_local(moment, offset)})"


def _progress(data: ReportData, figures: ReportFigures) -> list[str]:
    return render_fields(
        [
            ("Images in the batch", _count(data.total_images)),
            ("Images labelled", _count(data.labelled_images)),
            ("Images remaining", _count(figures.remaining)),
            ("Completion", format_percent(figures.completion)),
        ]
    )


def _labels(data: ReportData, figures: ReportFigures) -> list[str]:
    labelled = data.labelled_images
    rows = [
        [safe_text(name), _count(n), format_percent(n / labelled if labelled else None)]
        for name, n in figures.label_counts
    ]
    rows.append(["Total", _count(sum(n for _, n in figures.label_counts)), ""])
    return render_table(["Label", "Images", "Share"], rows, right=[False, True, True])


def _cases(data: ReportData, figures: ReportFigures) -> list[str]:
    if not data.cases:
        return ["  No cases."]
    names = [name for name, _ in figures.label_counts]
    headers = ["Case", "Images", "Labelled", "Done", *names, "Active time"]
    rows = [
        [
            safe_text(stats.case),
            _count(stats.total),
            _count(stats.labelled),
            format_percent(stats.labelled / stats.total if stats.total else None),
            *(_count(stats.per_label.get(name, 0)) for name in names),
            format_duration(stats.active_seconds),
        ]
        for stats in data.cases
    ]
    right = [False, *([True] * (len(headers) - 1))]
    return render_table([safe_text(h) for h in headers], rows, right=right)


def _time_per_image(data: ReportData, figures: ReportFigures) -> list[str]:
    d = figures.durations
    fields = render_fields(
        [
            ("Images with measured time", f"{_count(d.count)} of {_count(data.labelled_images)}"),
            ("Average", format_duration(d.mean)),
            ("Median", format_duration(d.median)),
            ("Fastest", format_duration(d.fastest)),
            ("Slowest", format_duration(d.slowest)),
        ]
    )
    return [
        *fields,
        "",
        "  Time on an image runs from when it is shown to when its label is saved;",
        "  time away (idle beyond the threshold) is excluded. Imported labels have no time.",
    ]


def _productivity(_: ReportData, figures: ReportFigures) -> list[str]:
    return render_fields(
        [
            ("Images per hour (active time)", _rate(figures.images_per_active_hour)),
            ("Images per hour (session time)", _rate(figures.images_per_session_hour)),
            ("Efficiency", f"{format_percent(figures.efficiency)} of session time active"),
        ]
    )


def _remaining(_: ReportData, figures: ReportFigures) -> list[str]:
    if figures.remaining == 0:
        return ["  Nothing remains: every image in the batch is labelled."]
    return render_fields(
        [
            ("Images remaining", _count(figures.remaining)),
            ("At the average time per image", format_duration(figures.remaining_active_seconds)),
            ("At the session pace", format_duration(figures.remaining_session_seconds)),
        ]
    )


def _comments(data: ReportData, _: ReportFigures) -> list[str]:
    required = set(data.comment_required)
    must = [c for c in data.comments if c.label in required]
    other = [c for c in data.comments if c.label not in required and c.comment]
    names = ", ".join(data.comment_required) or "none"
    lines = [f"  Labels that require a comment ({safe_text(names)}): {_count(len(must))}"]
    lines += _comment_lines(must) or ["    (none)"]
    lines += ["", f"  Other comments: {_count(len(other))}"]
    lines += _comment_lines(other) or ["    (none)"]
    return lines


def _comment_lines(entries: Sequence[CommentEntry]) -> list[str]:
    lines: list[str] = []
    for entry in entries:
        frame = f" (frame {entry.frame})" if entry.frame else ""
        where = " / ".join(safe_text(part) for part in (entry.case, entry.visit, entry.file))
        who = f"[{safe_text(entry.label)}, {safe_text(entry.annotator)}]"
        lines.append(f"    {where}{frame}   {who}")
        lines += [f"        {line}".rstrip() for line in safe_multiline(entry.comment)]
    return lines


def _definitions(data: ReportData, _: ReportFigures) -> list[str]:
    if not data.label_definitions:
        return [f"  {safe_text(', '.join(data.label_names))}"]
    rows = [
        [safe_text(d.name), safe_text(d.key), "required" if d.requires_comment else "optional"]
        for d in data.label_definitions
    ]
    return [
        *render_table(["Label", "Key", "Comment"], rows, right=[False, False, False]),
        "",
        "  Each image gets one label for the whole file; an image the viewer cannot show is",
        "  labelled with the label that requires a comment, the comment saying why.",
    ]


def _changes(data: ReportData, _: ReportFigures) -> list[str]:
    return [
        *render_fields(
            [
                ("Labels changed (relabelled)", _count(data.labels_changed)),
                ("Labels cleared", _count(data.labels_cleared)),
            ]
        ),
        "",
        "  Every earlier value stays in the audit trail:",
        "  `clinlabel audit log PROJECT --limit 0` lists them.",
    ]


def _left_out(data: ReportData, _: ReportFigures) -> list[str]:
    lines = [f"  Skipped folders: {_count(data.skipped)}"]
    lines += _left_out_lines(data.skipped_folders, data.skipped)
    lines += ["", f"  Problem files (named like images, not images): {_count(data.problems)}"]
    lines += _left_out_lines(data.problem_files, data.problems)
    return lines


def _left_out_lines(entries: Sequence[LeftOut], total: int) -> list[str]:
    lines: list[str] = []
    for entry in entries:
        held = "" if entry.images is None else f" ({_count(entry.images)} image files)"
        lines.append(f"    {safe_text(entry.path)}{held}")
        lines.append(f"        {safe_text(entry.reason)}")
    if total > len(entries):
        more = _count(total - len(entries))
        lines.append(f"    ... and {more} more (`clinlabel scan` lists all)")
    return lines or ["    (none)"]


def _unmaskings(data: ReportData, _: ReportFigures) -> list[str]:
    lines = [f"  Times identifying metadata was revealed: {_count(len(data.unmaskings))}"]
    for event in data.unmaskings:
        attributes = ", ".join(safe_text(a) for a in event.attributes) or "(none named)"
        lines.append(
            f"    {format_utc(event.at)}   {safe_text(event.annotator)}   {safe_text(event.image)}"
        )
        lines.append(f"        {attributes}")
    if not data.unmaskings:
        lines.append("    (none: identifying attributes stayed masked)")
    return lines


def _sign_off(data: ReportData, _: ReportFigures) -> list[str]:
    lines = [
        "  I confirm that the labels summarised above were given by me, as recorded.",
    ]
    for name in data.annotators or [""]:
        lines += [""]
        lines += render_fields(
            [
                ("Annotator", safe_text(name) or "_" * 30),
                ("Date", "_" * 30),
                ("Signature", "_" * 30),
            ]
        )
    return lines


def _integrity(data: ReportData, _: ReportFigures) -> list[str]:
    audit = data.audit
    if audit.ok:
        status = f"OK: the hash chain of {_count(audit.events)} events verifies"
        verify = "passes"
    else:
        where = audit.first_broken_event if audit.first_broken_event is not None else "?"
        status = f"BROKEN at event {where}: {safe_text(audit.reason or 'no reason given')}"
        verify = f"FAILS at event {where}"
    lines = render_fields(
        [
            ("Problem files (not images)", _count(data.problems)),
            ("Images changed after labelling", _count(data.changed_images)),
            ("Audit trail", status),
            ("clinlabel audit verify", verify),
            ("Newest event hash", safe_text(audit.head_hash) or "(no events)"),
        ]
    )
    if data.changed_images:
        lines.append("  Changed images keep their labels; review them before relying on them.")
    if not audit.ok:
        lines.append("  The recorded history was altered or damaged after it was written;")
        lines.append("  `clinlabel audit verify PROJECT` names the event; keep this report.")
    return lines


def _safety(data: ReportData, _: ReportFigures) -> list[str]:
    return [
        "  Original images are never modified: clinlabel opens them read-only and writes",
        f"  nothing inside the batch folder ({safe_text(data.batch_path)}).",
        "  Outputs are written only where the user chose: the project folder",
        f"  ({safe_text(data.project_path)}) or an output path given explicitly, each file",
        "  atomically, so a crash never leaves a half-written file.",
        "  Every label, change and session is an event in an append-only, hash-chained audit",
        "  trail. clinlabel contacts no external service.",
    ]
