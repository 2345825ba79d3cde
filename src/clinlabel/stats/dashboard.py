"""The study dashboard's figures from counts (pure: the counting is `store.dashboard`'s).

Per reader: images done (first reads), images per active hour and the median active seconds per
image (first reads only: a study's repeats are counted apart, done of assigned, with their time),
the NA rate (labels that need a comment, "NA" in the seed's schema), agreement with the consensus
(the adjudicated label where there is one, else the plurality of every reader's label, images
whose top labels tie left out) and active time. Per case: completion. Per day: labels given.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MIN_RATE_SECONDS = 60.0
"""Active time below which no rate per hour is given: imported labels carry no time, and a
few seconds of looking would make a rate of thousands an hour."""


@dataclass(frozen=True, slots=True)
class ReaderFigures:
    reader: str
    done: int
    """Present images with this reader's whole-image label."""
    assigned: int | None
    """First reads assigned in a study (present images; repeats not counted, as `done`
    counts images); None without one."""
    na: int
    na_rate: float | None
    active_seconds: float
    per_hour: float | None
    """Images done per hour of active time on first reads (None below `MIN_RATE_SECONDS`)."""
    median_seconds: float | None
    consensus_n: int
    """Images this reader labelled that have a consensus to compare with."""
    consensus_percent: float | None
    repeats_assigned: int | None = None
    """A study's repeats in this reader's worklist (None without a study)."""
    repeats_done: int = 0
    repeat_seconds: float = 0.0
    """Active time on repeated images after their first read: not in `per_hour` nor
    `median_seconds`, which are of first reads only (as `done` and the NA rate are)."""


@dataclass(frozen=True, slots=True)
class CaseFigures:
    case: str
    images: int
    done: int
    """Reads given (of assigned first reads in a study; of every reader's reads otherwise)."""
    expected: int
    percent: float


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: str
    reader: str
    labels: int


def median_seconds(seconds: Iterable[tuple[str, float]]) -> dict[str, float]:
    by_reader: dict[str, list[float]] = {}
    for reader, value in seconds:
        by_reader.setdefault(reader, []).append(value)
    return {reader: statistics.median(values) for reader, values in by_reader.items()}


def consensus_of(reads: Sequence[str]) -> str | None:
    """The plurality label of an image's reads; None on a tie at the top."""
    ranked = Counter(reads).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def consensus_agreement(
    images: Iterable[tuple[int, Sequence[tuple[str, str]]]], finals: Mapping[int, str]
) -> dict[str, tuple[int, int]]:
    """Per reader: (images compared, of them agreeing) with each image's consensus. An image
    counts once read by two readers or more, or once adjudicated."""
    out: dict[str, tuple[int, int]] = {}
    for image_id, reads in images:
        reference = finals.get(image_id)
        if reference is None:
            if len(reads) < 2:
                continue
            reference = consensus_of([label for _, label in reads])
            if reference is None:
                continue
        for reader, label in reads:
            n, agree = out.get(reader, (0, 0))
            out[reader] = (n + 1, agree + (label == reference))
    return out


def reader_figures(
    *,
    readers: Sequence[str],
    label_counts: Sequence[tuple[str, str, int]],
    na_labels: frozenset[str],
    active_ms: Mapping[str, int],
    medians: Mapping[str, float],
    consensus: Mapping[str, tuple[int, int]],
    assigned: Mapping[str, int] | None,
    repeats: Mapping[str, tuple[int, int]] | None = None,
    repeat_ms: Mapping[str, int] | None = None,
) -> list[ReaderFigures]:
    done: Counter[str] = Counter()
    na: Counter[str] = Counter()
    for reader, label, count in label_counts:
        done[reader] += count
        if label in na_labels:
            na[reader] += count
    out = []
    for reader in readers:
        on_repeats = (repeat_ms or {}).get(reader, 0) / 1000.0
        seconds = active_ms.get(reader, 0) / 1000.0
        on_firsts = max(seconds - on_repeats, 0.0)
        n, agree = consensus.get(reader, (0, 0))
        repeat_counts = None if repeats is None else repeats.get(reader, (0, 0))
        out.append(
            ReaderFigures(
                reader=reader,
                done=done[reader],
                assigned=None if assigned is None else assigned.get(reader, 0),
                na=na[reader],
                na_rate=na[reader] / done[reader] if done[reader] else None,
                active_seconds=seconds,
                per_hour=(
                    done[reader] / (on_firsts / 3600.0) if on_firsts >= MIN_RATE_SECONDS else None
                ),
                median_seconds=medians.get(reader),
                consensus_n=n,
                consensus_percent=100.0 * agree / n if n else None,
                repeats_assigned=None if repeat_counts is None else repeat_counts[0],
                repeats_done=0 if repeat_counts is None else repeat_counts[1],
                repeat_seconds=on_repeats,
            )
        )
    return out


def case_figures(
    cases: Sequence[tuple[str, int]],
    *,
    reads: Mapping[str, int],
    readers: int,
    assigned: Mapping[str, tuple[int, int]] | None,
) -> list[CaseFigures]:
    """Completion per case: of the study's assigned first reads when there is a study, else of
    one read per image by every reader."""
    out = []
    for case, count in cases:
        if assigned is not None:
            expected, done = assigned.get(case, (0, 0))
        else:
            expected, done = count * max(readers, 1), reads.get(case, 0)
        percent = 100.0 * done / expected if expected else 0.0
        out.append(CaseFigures(case, count, done, expected, percent))
    return out
