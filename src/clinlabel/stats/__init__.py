"""Pure statistics over plain numbers: no database, no framework."""

from clinlabel.stats.summary import (
    DurationSummary,
    efficiency,
    estimated_remaining_seconds,
    images_per_hour,
    summarise_durations,
)

__all__ = [
    "DurationSummary",
    "efficiency",
    "estimated_remaining_seconds",
    "images_per_hour",
    "summarise_durations",
]
