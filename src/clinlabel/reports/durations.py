"""Human-readable times, durations, offsets and shares for reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOT_AVAILABLE = "n/a"


def format_duration(seconds: float | None) -> str:
    """`4.3 s`, `2 min 05 s`, `1 h 02 min 05 s`; `n/a` for None.

    Under a minute keeps one decimal (per-image times are short); longer durations are rounded
    to whole seconds.
    """
    if seconds is None:
        return NOT_AVAILABLE
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if round(seconds, 1) < 60:
        return f"{sign}{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours} h {minutes:02d} min {secs:02d} s"
    return f"{sign}{minutes} min {secs:02d} s"


def format_percent(share: float | None) -> str:
    """A share of 1 as `45.0 %`; `n/a` for None."""
    return NOT_AVAILABLE if share is None else f"{share * 100:.1f} %"


def format_offset(minutes: int) -> str:
    """A UTC offset in minutes as `UTC+05:30` (ISO 8601 sign and hh:mm)."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """`2026-11-22 10:15:03 UTC` (whole seconds)."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_local(moment: datetime, offset_minutes: int) -> str:
    """The wall-clock time at `offset_minutes` from UTC: `2026-11-22 15:45:03 UTC+05:30`."""
    local = as_utc(moment) + timedelta(minutes=offset_minutes)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')} {format_offset(offset_minutes)}"
