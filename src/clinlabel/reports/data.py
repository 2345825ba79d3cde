"""What a summary report needs, as plain frozen data: the store gathers it, renderers read it.

Everything here is a fact recorded in the project (counts, times, events); every derived figure
(median, images per hour, time remaining, ...) is computed in `figures.py`, once, for all formats.
Times are timezone-aware UTC `datetime`s; a naive one is taken to be UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from clinlabel.audit.status import ChainStatus as AuditStatus  # re-exported for renderers

__all__ = [
    "AuditStatus",
    "CaseStats",
    "CommentEntry",
    "LabelDefinition",
    "LeftOut",
    "ReportData",
    "SessionSpan",
    "Unmasking",
]


@dataclass(frozen=True, slots=True)
class SessionSpan:
    """One labelling session of one annotator."""

    annotator: str
    started_at: datetime
    ended_at: datetime | None
    """None while the session is open: the report counts it up to `generated_at`. For a session
    that ended without being closed (a crash), pass the time of its last event instead."""
    tz_offset_min: int
    """The annotator's local offset from UTC in minutes at session start (+330 = UTC+05:30)."""


@dataclass(frozen=True, slots=True)
class CaseStats:
    """The figures of one case (patient), in queue order."""

    case: str
    total: int
    labelled: int
    per_label: Mapping[str, int]
    """Current label name -> number of images of this case with that label."""
    active_seconds: float


@dataclass(frozen=True, slots=True)
class CommentEntry:
    """A label that carries a comment, with everything needed to find the image again."""

    case: str
    visit: str
    file: str
    """Path below the visit, e.g. `XC_CLINICAL/img2.png`."""
    label: str
    comment: str
    annotator: str
    frame: int = 0


@dataclass(frozen=True, slots=True)
class LabelDefinition:
    """One label of the project's schema, as the annotator's buttons offered it."""

    name: str
    key: str
    """The keyboard key that gives it."""
    requires_comment: bool


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A folder or file of the batch that is not in the queue, and why."""

    path: str
    """Relative to the batch folder."""
    reason: str
    images: int | None = None
    """For a skipped folder: how many image files it holds (None for a problem file)."""


@dataclass(frozen=True, slots=True)
class Unmasking:
    """One time identifying metadata of an image was revealed on screen (an audit event)."""

    at: datetime
    annotator: str
    image: str
    """The image's path relative to the batch."""
    attributes: Sequence[str]
    """DICOM keywords revealed (PatientName, PatientID, ...)."""


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the summary report shows, gathered from the project store."""

    batch_path: str
    project_path: str
    generated_at: datetime
    app_version: str
    annotators: Sequence[str]
    """Everyone who opened a session or saved a label, in order of first appearance."""
    sessions: Sequence[SessionSpan]
    """In order of start."""
    total_images: int
    """Images in the queue (problem files excluded)."""
    labelled_images: int
    """Images with a current label (imported labels included)."""
    label_names: Sequence[str]
    """The schema's labels, in button order."""
    comment_required: Sequence[str]
    """Labels whose comment is mandatory (the seed's NA): their comments get their own section."""
    per_label: Mapping[str, int]
    """Current label -> number of images; labels no longer in the schema may appear too."""
    cases: Sequence[CaseStats]
    image_seconds: Sequence[float]
    """Active seconds per labelled image that has measured time (imported labels have none)."""
    idle_seconds: float
    """Time away (idle beyond the threshold), excluded from image times."""
    comments: Sequence[CommentEntry]
    """Every current label with a non-empty comment, in queue order."""
    problems: int
    """Files that look like images but are not (reported by the scan)."""
    changed_images: int
    """Labelled images whose bytes changed after they were labelled (label kept, to review)."""
    audit: AuditStatus
    """The chain verified when the report was made (head hash empty when there are no events)."""
    label_definitions: Sequence[LabelDefinition] = ()
    """The schema's labels in button order, with keys and which need a comment."""
    problem_files: Sequence[LeftOut] = ()
    """Files named like images that are not images, as the last scan listed them (it keeps the
    first 10,000; `problems` is the full count)."""
    skipped_folders: Sequence[LeftOut] = ()
    """Folders left out of the queue by the last scan (the first 10,000)."""
    skipped: int = 0
    """How many folders the last scan left out."""
    labels_changed: int = 0
    """Label events that replaced an earlier label (a relabel), over the project's history."""
    labels_cleared: int = 0
    """Label events that removed a label."""
    unmaskings: Sequence[Unmasking] = ()
    """Every unmasking of identifying metadata, oldest first."""
