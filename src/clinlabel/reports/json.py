"""The summary report's figures as JSON, for scripts and dashboards.

The same figures as the text report (both read `figures.compute_figures`), and the same lists
(label definitions, what was left out of the queue, unmaskings); the sign-off block is text
only. Times are ISO 8601 UTC strings, durations are seconds (float), shares are fractions of 1,
and an undefined figure is `null`. `format_version` changes only when a key is renamed or removed.

The module is named after the format; `import json` below is still the standard library.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from clinlabel.atomic import atomic_writer
from clinlabel.reports.data import ReportData
from clinlabel.reports.durations import as_utc
from clinlabel.reports.figures import compute_figures

FORMAT_VERSION = 1


def write_json_report(data: ReportData, path: Path) -> None:
    """Render the JSON report and write it to `path` atomically (UTF-8)."""
    text = render_json_report(data)
    with atomic_writer(Path(path), encoding="utf-8") as handle:
        handle.write(text)


def render_json_report(data: ReportData) -> str:
    """The report's figures as an indented JSON document ending in a new line."""
    return json.dumps(report_document(data), ensure_ascii=False, indent=2) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat().replace("+00:00", "Z")


def report_document(data: ReportData) -> dict[str, Any]:
    """The JSON report as plain Python data (dicts, lists, str, int, float, None)."""
    f = compute_figures(data)
    d = f.durations
    audit = data.audit
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": _iso(data.generated_at),
        "app_version": data.app_version,
        "batch_path": data.batch_path,
        "project_path": data.project_path,
        "annotators": list(data.annotators),
        "sessions": [
            {
                "annotator": s.annotator,
                "started_at": _iso(s.started_at),
                "ended_at": _iso(s.ended_at),
                "tz_offset_min": s.tz_offset_min,
            }
            for s in data.sessions
        ],
        "session_seconds": f.session_seconds,
        "first_start": _iso(f.first_start),
        "last_end": _iso(f.last_end),
        "progress": {
            "total_images": data.total_images,
            "labelled_images": data.labelled_images,
            "remaining_images": f.remaining,
            "completion": f.completion,
        },
        "labels": [{"label": name, "images": n} for name, n in f.label_counts],
        "cases": [
            {
                "case": c.case,
                "total": c.total,
                "labelled": c.labelled,
                "per_label": dict(c.per_label),
                "active_seconds": c.active_seconds,
            }
            for c in data.cases
        ],
        "time_per_image": {
            "count": d.count,
            "total_seconds": d.total,
            "mean_seconds": d.mean,
            "median_seconds": d.median,
            "fastest_seconds": d.fastest,
            "slowest_seconds": d.slowest,
            "idle_seconds_excluded": data.idle_seconds,
        },
        "productivity": {
            "images_per_active_hour": f.images_per_active_hour,
            "images_per_session_hour": f.images_per_session_hour,
            "efficiency": f.efficiency,
        },
        "estimated_remaining": {
            "active_seconds": f.remaining_active_seconds,
            "session_seconds": f.remaining_session_seconds,
        },
        "comment_required_labels": list(data.comment_required),
        "comments": [
            {
                "case": c.case,
                "visit": c.visit,
                "file": c.file,
                "frame": c.frame,
                "label": c.label,
                "comment": c.comment,
                "annotator": c.annotator,
            }
            for c in data.comments
        ],
        "label_definitions": [
            {"label": d.name, "key": d.key, "requires_comment": d.requires_comment}
            for d in data.label_definitions
        ],
        "label_changes": {"changed": data.labels_changed, "cleared": data.labels_cleared},
        "problems": data.problems,
        "problem_files": [{"path": p.path, "reason": p.reason} for p in data.problem_files],
        "skipped": data.skipped,
        "skipped_folders": [
            {"path": s.path, "reason": s.reason, "images": s.images} for s in data.skipped_folders
        ],
        "unmaskings": [
            {
                "at": _iso(u.at),
                "annotator": u.annotator,
                "image": u.image,
                "attributes": list(u.attributes),
            }
            for u in data.unmaskings
        ],
        "changed_images": data.changed_images,
        "audit": {
            "ok": audit.ok,
            "events": audit.events,
            "head_hash": audit.head_hash,
            "first_broken_event": audit.first_broken_event,
            "reason": audit.reason,
        },
    }
