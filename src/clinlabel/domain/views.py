"""Read models the interfaces show: an image in the queue with its current label, progress."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FrameLabel:
    """This annotator's label for one frame or slice (numbered from 1) of an image."""

    frame: int
    label: str
    comment: str
    labelled_at: str
    version: int | None = None
    """The event that set it: what a change of it is based on (`If-Match`)."""


@dataclass(frozen=True, slots=True)
class ImageView:
    """An image at its queue position, with the label this annotator gave it (if any)."""

    id: int
    position: int
    relpath: str
    case: str
    visit: str
    folder: str
    file: str
    kind: str
    label: str | None
    comment: str
    labelled_at: str | None
    seconds: float | None
    """Active seconds this annotator has spent on the image, over all visits to it."""
    annotator: str | None
    changed: bool
    """The file's bytes differ from those that were labelled."""
    frame_labels: tuple[FrameLabel, ...] = ()
    """This annotator's labels of single frames or slices, by frame (the core's only copy)."""
    version: int | None = None
    """The version of this annotator's whole-file label: the event that set it, 0 for none;
    None where the query does not say (a change is then not checked against it)."""
    sealed: bool = False
    """A reading study's first read kept from its reader until they read its repeat: the image
    is read, but label, comment and frame labels are not shown (`labelling.worklist`)."""


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    labelled: int
    remaining: int
    percent: float


@dataclass(frozen=True, slots=True)
class CaseProgress:
    case: str
    total: int
    labelled: int
    first_position: int
    repeats: int = 0
    """A reading study's repeats of the case's images in the reader's worklist (apart from
    `total`, which counts the case's images as the review table and the visits do)."""
    repeats_done: int = 0
