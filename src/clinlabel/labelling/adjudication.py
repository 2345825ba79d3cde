"""Adjudication: a reviewer weighs the readers' labels of an image and gives the final one, with
a reason; each final label is an audit event (`image_adjudicated`, old and new value).

The queue is the images where readers disagree (the default) or every image read at all; the
consensus shown beside each is the plurality of its reads (None on a tie).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project
from clinlabel.store import adjudication as adjudication_rows
from clinlabel.store.adjudication import ReadImage, TeamImage

SCOPES = ("disagreements", "all")


@dataclass(frozen=True, slots=True)
class AdjudicationQueue:
    scope: str
    items: tuple[ReadImage, ...]
    readers: tuple[str, ...]

    @property
    def remaining(self) -> int:
        return sum(1 for item in self.items if item.final is None)


def consensus(item: ReadImage) -> str | None:
    """The plurality label of an image's reads; None when the top labels tie."""
    counts = Counter(read.label for read in item.reads).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def adjudication_queue(project: Project, *, scope: str = "disagreements") -> AdjudicationQueue:
    """The images to adjudicate, in queue order: with `disagreements`, those whose readers gave
    different labels (already adjudicated ones stay, marked, so a reviewer can revisit)."""
    if scope not in SCOPES:
        raise ValidationError(f"Unknown scope {scope!r}.", hint="Use disagreements or all.")
    with project.store.read() as conn:
        items = [
            item for item in adjudication_rows.read_images(conn) if scope == "all" or item.disagree
        ]
    readers = tuple(dict.fromkeys(read.reader for item in items for read in item.reads))
    return AdjudicationQueue(scope, tuple(items), readers)


def adjudicate(
    project: Project, *, reviewer: str, image_id: int, label: str, reason: str | None
) -> ReadImage:
    """Give `image_id` its final label. A reason is required where the readers disagree or the
    final label is none of theirs (what a study file must explain); an image no reader has read
    yet cannot be adjudicated."""
    name, text = project.schema.validate(label, reason)
    with project.store.write() as conn:
        found = list(adjudication_rows.read_images(conn, image_ids=[image_id]))
        if not found:
            raise ValidationError(
                f"Image {image_id} has no reader's label yet: there is nothing to adjudicate."
            )
        item = found[0]
        if not text and (item.disagree or name not in {read.label for read in item.reads}):
            raise ValidationError(
                "Give the reason for the final label (the readers disagree, or none chose it).",
                hint="Type it in the reason box, then choose the label again.",
            )
        old = item.final
        if old is None or (old.label, old.reason) != (name, text):
            now = utc_now()
            event_id = append_event(
                conn,
                NewEvent(
                    EventKind.IMAGE_ADJUDICATED,
                    reviewer,
                    {
                        "old": None if old is None else {"label": old.label, "reason": old.reason},
                        "new": {"label": name, "reason": text},
                        "reads": {read.reader: read.label for read in item.reads},
                    },
                    image_id=image_id,
                    image=item.relpath,
                    frame=0,
                    ts_utc=now,
                ),
            )
            adjudication_rows.put_final(
                conn,
                image_id=image_id,
                label=name,
                reason=text,
                reviewer=reviewer,
                adjudicated_at=now,
                event_id=event_id,
                exists=old is not None,
            )
        return next(iter(adjudication_rows.read_images(conn, image_ids=[image_id])))


UNRESOLVED = "readers disagree; not adjudicated"


@dataclass(frozen=True, slots=True)
class TeamCounts:
    """How the default CSV of a team project got each image's label (the report states it)."""

    adjudicated: int
    agreed: int
    unresolved: int


def team_row(image: TeamImage) -> tuple[str, str, str, str, str]:
    """The five seed columns for a team project: the adjudicated label and its reason; else the
    label every reader gave (their comments, named); else an empty label saying the readers
    disagree and no one has adjudicated yet (each reader's label named, so nothing is hidden)."""
    if image.final is not None:
        return image.case, image.visit, image.file, image.final[0], image.final[1]
    given = {label for label, _ in image.reads.values()}
    if len(given) == 1:
        comments = "; ".join(f"{r}: {c}" for r, (_, c) in image.reads.items() if c)
        return image.case, image.visit, image.file, next(iter(given)), comments
    reads = "; ".join(f"{r}: {label}" for r, (label, _) in image.reads.items())
    return image.case, image.visit, image.file, "", f"{UNRESOLVED} ({reads})"


def readers_row(image: TeamImage, readers: Sequence[str]) -> tuple[str, ...]:
    """case, visit, file, each reader's label (empty: not read), the final label, its reason."""
    final = image.final or ("", "")
    return (
        image.case,
        image.visit,
        image.file,
        *(image.reads.get(reader, ("", ""))[0] for reader in readers),
        final[0],
        final[1],
    )


def team_counts(project: Project) -> TeamCounts | None:
    """The counts behind a team project's default CSV; None for a single reader's project."""
    with project.store.read() as conn:
        if adjudication_rows.reader_count(conn) < 2:
            return None
        return TeamCounts(*adjudication_rows.team_figures(conn))
