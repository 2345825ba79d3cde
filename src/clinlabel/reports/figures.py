"""The derived figures of a summary report, computed once so the text and JSON forms agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clinlabel.reports.data import ReportData
from clinlabel.reports.durations import as_utc
from clinlabel.stats.summary import (
    DurationSummary,
    efficiency,
    estimated_remaining_seconds,
    images_per_hour,
    summarise_durations,
)


@dataclass(frozen=True, slots=True)
class ReportFigures:
    remaining: int
    completion: float | None
    """labelled / total (0..1); None for an empty batch."""
    label_counts: tuple[tuple[str, int], ...]
    """Schema labels in schema order (zeros included), then any other label found, by name."""
    durations: DurationSummary
    session_seconds: float
    """Sum of the sessions' lengths (open sessions counted up to the report time)."""
    first_start: datetime | None
    last_end: datetime | None
    open_sessions: int
    images_per_active_hour: float | None
    images_per_session_hour: float | None
    efficiency: float | None
    remaining_active_seconds: float | None
    """remaining x mean active seconds per image."""
    remaining_session_seconds: float | None
    """remaining x session seconds per timed image: the pace including pauses."""


def compute_figures(data: ReportData) -> ReportFigures:
    """Derive every computed figure of the report from the gathered facts."""
    remaining = max(0, data.total_images - data.labelled_images)
    completion = data.labelled_images / data.total_images if data.total_images else None
    durations = summarise_durations(data.image_seconds)

    now = as_utc(data.generated_at)
    session_seconds = 0.0
    first_start: datetime | None = None
    last_end: datetime | None = None
    open_sessions = 0
    for span in data.sessions:
        start = as_utc(span.started_at)
        if span.ended_at is None:
            open_sessions += 1
            end = now
        else:
            end = as_utc(span.ended_at)
        session_seconds += max(0.0, (end - start).total_seconds())
        first_start = start if first_start is None else min(first_start, start)
        last_end = end if last_end is None else max(last_end, end)

    timed = durations.count
    session_pace = session_seconds / timed if timed and session_seconds > 0 else None
    return ReportFigures(
        remaining=remaining,
        completion=completion,
        label_counts=_label_counts(data),
        durations=durations,
        session_seconds=session_seconds,
        first_start=first_start,
        last_end=last_end,
        open_sessions=open_sessions,
        images_per_active_hour=images_per_hour(timed, durations.total),
        images_per_session_hour=images_per_hour(timed, session_seconds),
        efficiency=efficiency(durations.total, session_seconds),
        remaining_active_seconds=estimated_remaining_seconds(remaining, durations.mean),
        remaining_session_seconds=estimated_remaining_seconds(remaining, session_pace),
    )


def _label_counts(data: ReportData) -> tuple[tuple[str, int], ...]:
    known = list(data.label_names)
    in_schema = set(known)
    others = sorted(name for name in data.per_label if name not in in_schema)
    return tuple((name, int(data.per_label.get(name, 0))) for name in (*known, *others))
