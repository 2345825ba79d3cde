"""Request and response bodies of the JSON API, kept apart from the core's dataclasses.

Requests carry only ids, positions, label names and text: never a path to read from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from typing_extensions import TypedDict

from clinlabel.domain.labels import MAX_FRAME

if TYPE_CHECKING:
    from clinlabel.domain.views import ImageView, Progress
    from clinlabel.labelling.service import Shown
    from clinlabel.store.review import ReviewPage, ReviewRow

# ---- requests -------------------------------------------------------------------------------

#: SQLite's INTEGER is a signed 64-bit number: ids and positions past it are refused (422), not
#: handed to the database to overflow (a 500 and a traceback).
MAX_INT64 = 2**63 - 1


def _encodable(text: str) -> str:
    """Refuse text that is not valid Unicode (a lone surrogate such as "\\ud800" in JSON).

    Python keeps such a string, but it cannot be written as UTF-8: the audit event's hash, the
    database and the CSV would each fail later, far from the request.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "contains an invalid character (a lone UTF-16 surrogate); retype the text"
        ) from None
    return text


#: Text from the page: valid Unicode only.
Text = Annotated[str, AfterValidator(_encodable)]


class OpenSessionIn(BaseModel):
    project_dir: Text = Field(min_length=1, max_length=4096)
    annotator: Text = Field(min_length=1, max_length=200)
    #: The annotator confirmed a project other than the one this batch was labelled into.
    other_project: bool = False


class ShowIn(BaseModel):
    position: int = Field(ge=1, le=MAX_INT64)


class LabelIn(BaseModel):
    label: Text = Field(min_length=1, max_length=200)
    comment: Text | None = Field(default=None, max_length=10_000)
    frame: int = Field(default=0, ge=0, le=MAX_FRAME)
    #: The page has moved on to this queue position: one round trip saves and records the show.
    #: A position outside the queue is refused (422) before the label is saved; a show that fails
    #: after the save leaves `shown` out of the answer (200), since the label is stored.
    then_show: int | None = Field(default=None, ge=1, le=MAX_INT64)
    #: The version of this reader's label the change is based on (0: none), as the last answer
    #: gave it; a stale one is refused with 409 and the stored label. Also `If-Match`.
    version: int | None = Field(default=None, ge=0, le=MAX_INT64)
    #: The queue position the label was given at: in a reading study it tells a repeat read
    #: from the first read of the same image, whatever another tab shows meanwhile.
    position: int | None = Field(default=None, ge=1, le=MAX_INT64)
    #: The page's own random key of this change, sent again with it when its answer was lost:
    #: a sealed first read's own change sent again is answered as saved (not 409 "final").
    change_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,64}$")


class UnmaskIn(BaseModel):
    """The identifying attributes the annotator asked to see (all of them when empty)."""

    keywords: list[Text] = Field(default_factory=list, max_length=500)


# ---- responses ------------------------------------------------------------------------------


class FrameLabelOut(BaseModel):
    """A label given to one frame or slice (numbered from 1) rather than the whole file."""

    frame: int
    label: str
    comment: str
    #: The label's version (`LabelIn.version`); None when not known.
    version: int | None = None


class ImageOut(BaseModel):
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
    annotator: str | None
    changed: bool
    frame_labels: list[FrameLabelOut] = Field(default_factory=list)
    #: The version of this reader's whole-file label (0: none), to base a change on; None when
    #: not known (the review table's rows).
    version: int | None = None
    #: A first read hidden from its reader until they read its repeat (a reading study).
    sealed: bool = False

    @classmethod
    def of(cls, view: ImageView) -> ImageOut:
        return cls(
            id=view.id,
            position=view.position,
            relpath=view.relpath,
            case=view.case,
            visit=view.visit,
            folder=view.folder,
            file=view.file,
            kind=str(view.kind),
            label=view.label,
            comment=view.comment,
            labelled_at=view.labelled_at,
            seconds=view.seconds,
            annotator=view.annotator,
            changed=view.changed,
            frame_labels=[
                FrameLabelOut(frame=f.frame, label=f.label, comment=f.comment, version=f.version)
                for f in view.frame_labels
            ],
            sealed=view.sealed,
            version=view.version,
        )


class ProgressOut(BaseModel):
    total: int
    labelled: int
    remaining: int
    percent: float

    @classmethod
    def of(cls, progress: Progress) -> ProgressOut:
        return cls(
            total=progress.total,
            labelled=progress.labelled,
            remaining=progress.remaining,
            percent=progress.percent,
        )


class ShownOut(BaseModel):
    image: ImageOut
    case_changed: bool
    previous_case: str | None
    progress: ProgressOut

    @classmethod
    def of(cls, shown: Shown, image: ImageOut | None = None) -> ShownOut:
        return cls(
            image=image or ImageOut.of(shown.view),
            case_changed=shown.case_changed,
            previous_case=shown.previous_case,
            progress=ProgressOut.of(shown.progress),
        )


class LabelSavedOut(BaseModel):
    image: ImageOut
    progress: ProgressOut
    shown: ShownOut | None = None
    #: The version of the label now stored (0: none), to send with the next change of it.
    version: int = 0


class UndoneOut(BaseModel):
    """Ctrl+Z: the image whose label change was undone, the frame, and its label now."""

    image: ImageOut
    frame: int
    label: str | None
    comment: str
    progress: ProgressOut


class LabelDefOut(BaseModel):
    name: str
    key: str
    requires_comment: bool


class RegionClassOut(BaseModel):
    """A region class of the schema (issue 11): what the drawing tools offer."""

    name: str
    colour: str
    tools: list[str]


class RememberedOut(BaseModel):
    """The project this batch was labelled into last time (`labelling.remembered`)."""

    project_dir: str
    chosen_on: str
    exists: bool


class SessionOut(BaseModel):
    started: bool
    batch: str
    project_dir: str | None
    suggested_project_dir: str
    annotator: str | None
    labels: list[LabelDefOut]
    #: Empty for a project that labels whole images only: the page then loads no region layer.
    region_classes: list[RegionClassOut] = Field(default_factory=list)
    max_side: int
    shown: ShownOut | None
    remembered: RememberedOut | None = None


# The sidebar's rows are typed dicts, not models: a million images come in thousands of cases,
# and a model object per case (validated again by FastAPI) took over 100 ms there.
class VisitOut(TypedDict):
    visit: str
    first_position: int
    total: int


class CaseOut(TypedDict):
    case: str
    total: int
    labelled: int
    first_position: int
    #: A reading study's repeats of the case's images (not in `total`); 0 outside a study.
    repeats: int
    repeats_done: int
    visits: list[VisitOut]


class OutputsOut(BaseModel):
    final: bool
    csv: str
    report: str
    report_text: str
    trail_ok: bool
    """Whether the audit trail and the current labels verified when these files were written."""
    trail_problem: str | None = None
    frame_csv: str | None = None
    """The frame labels CSV beside the labels CSV, when one was written (see README, Outputs)."""
    csv_url: str = "/api/outputs/csv"
    report_url: str = "/api/outputs/report"


class AttributeOut(BaseModel):
    """One row of the metadata panel; `value` is None while an identifying value is masked."""

    keyword: str
    tag: str
    vr: str
    value: str | None
    depth: int
    identifying: bool
    masked: bool


class MetadataOut(BaseModel):
    kind: str
    geometry: dict[str, Any]
    attributes: list[AttributeOut]
    masked: int
    """How many identifying values are hidden in this answer."""


class GeometryOut(BaseModel):
    """XA/RF acquisition geometry of one frame (`imaging.geometry`); empty for other images."""

    frame: int
    values: dict[str, Any]


class ReadOut(BaseModel):
    reader: str
    label: str | None


class ReviewRowOut(BaseModel):
    """One row of the review table."""

    id: int
    position: int
    case: str
    visit: str
    file: str
    label: str | None
    comment: str
    annotator: str | None
    seconds: float | None
    frame_labels: list[FrameLabelOut]
    regions: int = 0
    """Regions the annotator drew on the image."""
    sealed: bool = False
    """A first read hidden from its reader until they read its repeat (a reading study)."""
    readers: list[ReadOut] = Field(default_factory=list)
    """A reviewer's table in a study: each reader of the image and their label."""
    cursor: str = ""
    """Opaque: the row's place in the order asked. Passed back as `after_key` with the row's
    position as `after`, the next window starts right after the row while that still holds."""

    @classmethod
    def of(cls, row: ReviewRow) -> ReviewRowOut:
        return cls(
            id=row.image_id,
            position=row.position,
            case=row.case,
            visit=row.visit,
            file=row.file,
            label=row.label,
            comment=row.comment,
            annotator=row.annotator,
            seconds=row.seconds,
            frame_labels=[
                FrameLabelOut(frame=f.frame, label=f.label, comment=f.comment)
                for f in row.frame_labels
            ],
            regions=row.regions,
            sealed=row.sealed,
            readers=[ReadOut(reader=name, label=label) for name, label in row.readers],
            cursor=row.cursor,
        )


class ReviewPageOut(BaseModel):
    """A window of the review table: `offset` is the index of its first row in the order asked."""

    offset: int
    total: int
    """Rows that pass the filters."""
    all: int
    """Images in the queue."""
    rows: list[ReviewRowOut]
    total_key: str = ""
    """Opaque, when `total` was counted: passed back as `total_key` with `total`, it spares the
    count while nothing has changed since."""
    moved: bool = False
    """The row named by `after` had moved in the order or left the filter since it was read:
    this window was found by its offset, and rows held from before may be out of place."""

    @classmethod
    def of(cls, page: ReviewPage, *, offset: int) -> ReviewPageOut:
        return cls(
            offset=offset,
            total=page.total,
            all=page.all,
            rows=[ReviewRowOut.of(r) for r in page.rows],
            total_key=page.total_key,
            moved=page.moved,
        )
