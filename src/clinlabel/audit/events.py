"""Typed audit events: what can happen to a project, and what each event carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    PROJECT_CREATED = "project_created"
    BATCH_SCANNED = "batch_scanned"
    IMAGE_CHANGED = "image_changed"
    SESSION_OPENED = "session_opened"
    SESSION_CLOSED = "session_closed"
    LABEL_SAVED = "label_saved"
    LABEL_CHANGED = "label_changed"
    LABEL_CLEARED = "label_cleared"
    VIEW_ENDED = "view_ended"
    EXPORT_WRITTEN = "export_written"
    LABELS_IMPORTED = "labels_imported"
    METADATA_UNMASKED = "metadata_unmasked"
    REGION_CREATED = "region_created"
    REGION_CHANGED = "region_changed"
    REGION_DELETED = "region_deleted"
    # Reading studies (issue 13): the design, a repeat read (its own record), a case's
    # diagnosis and a reviewer's final label.
    STUDY_ASSIGNED = "study_assigned"
    REPEAT_READ_SAVED = "repeat_read_saved"
    CASE_DIAGNOSED = "case_diagnosed"
    IMAGE_ADJUDICATED = "image_adjudicated"
    # Serving a team (issue 13): accounts and logins of `clinlabel serve`.
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    PASSWORD_RESET = "password_reset"
    ROLE_CHANGED = "role_changed"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"


LABEL_KINDS = frozenset({EventKind.LABEL_SAVED, EventKind.LABEL_CHANGED, EventKind.LABEL_CLEARED})
REGION_KINDS = frozenset(
    {EventKind.REGION_CREATED, EventKind.REGION_CHANGED, EventKind.REGION_DELETED}
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: who did what, to which image, and the old and new value."""

    kind: EventKind
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    session_id: int | None = None
    image_id: int | None = None
    image: str | None = None
    frame: int | None = None
    active_ms: int | None = None
    idle_ms: int | None = None
    tz_offset_min: int | None = None
    ts_utc: str | None = None
    """Set by the log when the event is appended, unless given (imports keep their own time)."""
