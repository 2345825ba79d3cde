"""The dashboard's figures from counts: rates, medians, agreement with the consensus."""

from __future__ import annotations

import pytest

from clinlabel.stats.dashboard import (
    case_figures,
    consensus_agreement,
    consensus_of,
    median_seconds,
    reader_figures,
)


def test_consensus_is_the_adjudicated_label_else_the_plurality_and_ties_are_left_out() -> None:
    assert consensus_of(["A", "A", "B"]) == "A"
    assert consensus_of(["A", "B"]) is None
    images = [
        (1, [("x", "A"), ("y", "A"), ("z", "B")]),  # plurality A
        (2, [("x", "A"), ("y", "B")]),  # tie: left out...
        (3, [("x", "A"), ("y", "B")]),  # ...unless adjudicated (B)
        (4, [("x", "A")]),  # one read, no final: left out
    ]
    got = consensus_agreement(images, {3: "B"})
    assert got == {"x": (2, 1), "y": (2, 2), "z": (1, 0)}


def test_reader_figures_rates_per_hour_and_na() -> None:
    figures = reader_figures(
        readers=["x", "y"],
        label_counts=[("x", "NA", 2), ("x", "Suspicious", 8), ("y", "Suspicious", 3)],
        na_labels=frozenset({"NA"}),
        active_ms={"x": 1_800_000},
        medians=median_seconds([("x", 10.0), ("x", 30.0), ("x", 20.0)]),
        consensus={"x": (4, 3)},
        assigned={"x": 12},
    )
    x, y = figures
    assert (x.done, x.assigned, x.na) == (10, 12, 2)
    assert x.na_rate == pytest.approx(0.2)
    assert x.per_hour == pytest.approx(20.0)  # 10 images in half an hour
    assert x.median_seconds == 20.0 and x.consensus_percent == 75.0
    assert (y.done, y.assigned, y.per_hour, y.median_seconds, y.consensus_percent) == (
        3, 0, None, None, None,
    )  # fmt: skip


def test_case_completion_counts_assigned_reads_in_a_study_else_every_readers() -> None:
    plain = case_figures([("C1", 4), ("C2", 2)], reads={"C1": 6}, readers=2, assigned=None)
    assert [(c.done, c.expected, c.percent) for c in plain] == [(6, 8, 75.0), (0, 4, 0.0)]
    study = case_figures([("C1", 4)], reads={"C1": 6}, readers=2, assigned={"C1": (4, 1)})
    assert (study[0].done, study[0].expected, study[0].percent) == (1, 4, 25.0)
