"""Summary statistics of labelling time and productivity.

Every function accepts empty or zero input and answers None where a figure is undefined (no
division by zero); the report shows None as "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Count, total and the usual location figures of a set of durations in seconds."""

    count: int
    total: float
    mean: float | None
    median: float | None
    fastest: float | None
    slowest: float | None

    @classmethod
    def empty(cls) -> DurationSummary:
        return cls(count=0, total=0.0, mean=None, median=None, fastest=None, slowest=None)


def summarise_durations(seconds: Iterable[float]) -> DurationSummary:
    """Summarise durations (seconds) with one sort.

    total   = fsum(x)   (exactly rounded sum: Shewchuk 1997, as math.fsum implements it)
    mean    = total / n
    median  = x(k+1) for odd n = 2k+1; (x(k) + x(k+1)) / 2 for even n = 2k, on the sorted values
              x(1) <= ... <= x(n) (the "true" median, as `statistics.median` defines it)
    fastest = x(1), slowest = x(n)
    """
    ordered = sorted(seconds)
    n = len(ordered)
    if n == 0:
        return DurationSummary.empty()
    total = math.fsum(ordered)
    half = n // 2
    median = ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2
    return DurationSummary(
        count=n,
        total=total,
        mean=total / n,
        median=median,
        fastest=ordered[0],
        slowest=ordered[-1],
    )


def images_per_hour(images: int, active_seconds: float) -> float | None:
    """Throughput: images / (active_seconds / 3600); None when no time was measured."""
    if active_seconds <= 0:
        return None
    return images * SECONDS_PER_HOUR / active_seconds


def efficiency(active_seconds: float, session_seconds: float) -> float | None:
    """Share of session time spent actively labelling: active_seconds / session_seconds (0..1).

    Session time is the sum of the sessions' lengths; active time is the time images were on
    screen, without time away (idle beyond the threshold). None when there is no session time.
    """
    if session_seconds <= 0:
        return None
    return active_seconds / session_seconds


def estimated_remaining_seconds(remaining: int, mean_seconds: float | None) -> float | None:
    """Active time still needed at the current pace: remaining images x mean seconds per image.

    0 when nothing remains; None when images remain but no pace has been measured yet.
    """
    if remaining <= 0:
        return 0.0
    if mean_seconds is None:
        return None
    return remaining * mean_seconds
