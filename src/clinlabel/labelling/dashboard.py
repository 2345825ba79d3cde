"""The study dashboard: the figures a reader-study lead watches while people work, gathered from
the store (`store.dashboard`) and computed by `stats.dashboard`. Read-only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clinlabel.audit.log import utc_now
from clinlabel.labelling.project import Project
from clinlabel.stats.dashboard import (
    CaseFigures,
    DayFigures,
    ReaderFigures,
    case_figures,
    consensus_agreement,
    median_seconds,
    reader_figures,
)
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import dashboard as dashboard_rows
from clinlabel.store import readings as reading_rows
from clinlabel.store.readings import Reading


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: str
    study: bool
    na_labels: tuple[str, ...]
    readers: tuple[ReaderFigures, ...]
    cases: tuple[CaseFigures, ...]
    days: tuple[DayFigures, ...]


def study_dashboard(project: Project) -> Dashboard:
    na_labels = frozenset(d.name for d in project.schema.labels if d.requires_comment)
    with project.store.read() as conn:
        study = assignment_rows.has_study(conn)
        study_readers = [name for _, name, _ in assignment_rows.readers_with_worklists(conn)]
        labelled = reading_rows.reader_names(conn)
        readers = study_readers + [r for r in labelled if r not in study_readers]
        counts = dashboard_rows.label_counts(conn)
        active = dashboard_rows.active_ms(conn)
        medians = median_seconds(dashboard_rows.seconds_per_labelled_image(conn))
        finals = dashboard_rows.final_labels(conn)
        consensus = consensus_agreement(_reads_by_image(reading_rows.iter_readings(conn)), finals)
        assigned = dashboard_rows.assigned_per_reader(conn) if study else None
        repeats = dashboard_rows.repeats_per_reader(conn) if study else None
        repeat_ms = dashboard_rows.repeat_active_ms(conn) if study else None
        cases = case_figures(
            dashboard_rows.case_images(conn),
            reads=dashboard_rows.case_reads(conn),
            readers=len(readers),
            assigned=dashboard_rows.case_assigned(conn) if study else None,
        )
        days = [DayFigures(d, r, n) for d, r, n in dashboard_rows.labels_per_day(conn)]
    return Dashboard(
        generated_at=utc_now(),
        study=study,
        na_labels=tuple(sorted(na_labels)),
        readers=tuple(
            reader_figures(
                readers=readers,
                label_counts=counts,
                na_labels=na_labels,
                active_ms=active,
                medians=medians,
                consensus=consensus,
                assigned=assigned,
                repeats=repeats,
                repeat_ms=repeat_ms,
            )
        ),
        cases=tuple(cases),
        days=tuple(days),
    )


def _reads_by_image(readings: Iterator[Reading]) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """The readings (grouped by image, as the store streams them) as one list per image."""
    current = -1
    reads: list[tuple[str, str]] = []
    for reading in readings:
        if reading.image_id != current:
            if reads:
                yield current, reads
            current, reads = reading.image_id, []
        reads.append((reading.reader, reading.label))
    if reads:
        yield current, reads
