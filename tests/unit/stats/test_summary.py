"""Timing and productivity figures the summary report shows."""

from __future__ import annotations

import random
import statistics

import pytest

from clinlabel.stats import (
    DurationSummary,
    efficiency,
    estimated_remaining_seconds,
    images_per_hour,
    summarise_durations,
)


def test_odd_count_median_is_the_middle_value() -> None:
    summary = summarise_durations([9.0, 1.0, 4.0])
    assert summary == DurationSummary(
        count=3, total=14.0, mean=14.0 / 3, median=4.0, fastest=1.0, slowest=9.0
    )


def test_even_count_median_is_the_mean_of_the_two_middle_values() -> None:
    summary = summarise_durations([10.0, 2.0, 4.0, 7.0])
    assert summary.median == 5.5
    assert summary.mean == 5.75


def test_single_value() -> None:
    summary = summarise_durations(iter([3.5]))
    assert (summary.median, summary.fastest, summary.slowest, summary.mean) == (3.5, 3.5, 3.5, 3.5)


def test_empty_input_gives_no_figures_instead_of_dividing_by_zero() -> None:
    summary = summarise_durations([])
    assert summary.count == 0
    assert summary.total == 0.0
    assert summary.mean is summary.median is summary.fastest is summary.slowest is None


def test_total_is_exact_for_many_small_values() -> None:
    assert summarise_durations([0.1] * 10).total == 1.0


def test_a_million_values_give_the_exact_median() -> None:
    # Speed is measured by benchmarks/bench_export_report.py (the report over a million labels);
    # here, that a million values come out exact.
    rng = random.Random(7)
    values = [rng.expovariate(0.2) for _ in range(1_000_000)]
    summary = summarise_durations(values)
    assert summary.median == statistics.median(values)
    assert summary.count == 1_000_000


def test_images_per_hour() -> None:
    assert images_per_hour(30, 1800.0) == 60.0
    assert images_per_hour(5, 0.0) is None


def test_efficiency_is_the_active_share_of_session_time() -> None:
    assert efficiency(900.0, 3600.0) == 0.25
    assert efficiency(10.0, 0.0) is None


def test_estimated_remaining() -> None:
    assert estimated_remaining_seconds(10, 6.0) == 60.0
    assert estimated_remaining_seconds(0, None) == 0.0
    assert estimated_remaining_seconds(10, None) is None


@pytest.mark.parametrize("images", [0, 1])
def test_no_time_measured_never_raises(images: int) -> None:
    assert images_per_hour(images, 0.0) is None
