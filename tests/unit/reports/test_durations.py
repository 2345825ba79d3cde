"""Human durations, offsets and widths as the report prints them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from clinlabel.reports.durations import format_duration, format_local, format_offset, format_utc
from clinlabel.reports.tables import display_width, render_table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "n/a"),
        (0.0, "0.0 s"),
        (4.26, "4.3 s"),
        (59.96, "1 min 00 s"),  # rounds up into minutes, never "60.0 s"
        (125.0, "2 min 05 s"),
        (3725.0, "1 h 02 min 05 s"),
        (3599.6, "1 h 00 min 00 s"),
        (90061.0, "25 h 01 min 01 s"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("minutes", "text"), [(330, "UTC+05:30"), (-180, "UTC-03:00"), (0, "UTC+00:00")]
)
def test_format_offset(minutes: int, text: str) -> None:
    assert format_offset(minutes) == text


def test_local_time_can_fall_on_another_day() -> None:
    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert format_local(moment, 330) == "2026-11-23 05:00:00 UTC+05:30"


def test_aware_times_in_other_zones_and_naive_times_are_shown_in_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    assert format_utc(datetime(2026, 11, 22, 15, 45, 3, tzinfo=ist)) == "2026-11-22 10:15:03 UTC"
    assert format_utc(datetime(2026, 11, 22, 10, 15, 3)) == "2026-11-22 10:15:03 UTC"


@pytest.mark.parametrize(
    ("text", "width"),
    [("Case_001", 8), ("病例", 4), ("🔬", 2), ("कि", 2), ("e\u0301", 1), ("", 0)],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


def test_table_columns_line_up_in_display_columns() -> None:
    lines = render_table(["Case", "N"], [["病例_1", "5"], ["Case_10", "12"]], right=[False, True])
    ends = {display_width(line) for line in lines}
    assert ends == {display_width(lines[0])}
    assert lines[2].endswith(" 5") and lines[3].endswith("12")
