"""The outcome of verifying an audit chain: plain data that reports can carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The result of recomputing an audit chain."""

    ok: bool
    events: int
    """Events checked (up to and including the first broken one)."""
    head_hash: str
    """Hash of the newest intact event."""
    first_broken_event: int | None = None
    reason: str | None = None
