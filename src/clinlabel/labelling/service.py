"""The labelling use cases: one annotator working through the queue of a project.

Every interface (the browser, the CLI, a desktop app later) drives a `LabellingSession`; none of
them reimplements navigation, validation, timing or the audit trail. Each change is written
with its audit event in one transaction, durable when the call returns.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from clinlabel import __version__
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, local_offset_minutes, utc_now
from clinlabel.domain.views import CaseProgress, FrameLabel, ImageView, Progress
from clinlabel.errors import (
    DatasetError,
    ImageFileError,
    StaleVersionError,
    StudyAssignedError,
    ValidationError,
)
from clinlabel.labelling.project import Project, file_sha256
from clinlabel.labelling.timing import Dwell, DwellClock
from clinlabel.labelling.worklist import (
    WorklistQueue,
    check_first_read_final,
    check_may_label,
    save_repeat_read,
)
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import events as event_rows
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import last_shown as last_shown_rows
from clinlabel.store import people
from clinlabel.store import review as review_rows
from clinlabel.store.assignments import WorkItem
from clinlabel.store.images import FileInfo
from clinlabel.store.review import ReviewPage, ReviewQuery

if TYPE_CHECKING:
    from clinlabel.imaging.reader import ImageReader

#: Acquisition geometry of one frame, as `imaging.geometry.acquisition_geometry` gives it.
Geometry = dict[str, Any]


class _Compute:
    """The default of `save_label(geometry=...)`: read the geometry there."""


COMPUTE = _Compute()

MIN_VIEW_MS = 200
"""Shorter glances at an image (key repeat, skipping past) are not worth an event of their own."""

MAX_ANNOTATOR_NAME = 200

UNDO_KEPT = 1000
"""Label changes of a session that Ctrl+Z can walk back through, newest last."""

HASHES_KEPT = 256
"""Files whose hash a session remembers (by file identity) between saves of their frames."""


@dataclass(frozen=True, slots=True)
class Shown:
    """The image now on screen, and whether it starts another case than the one before."""

    view: ImageView
    case_changed: bool
    previous_case: str | None
    progress: Progress


@dataclass(frozen=True, slots=True)
class _Change:
    """A label given or cleared in this session: what undoing it restores."""

    event_id: int
    image_id: int
    relpath: str
    frame: int
    old: label_rows.CurrentLabel | None


@dataclass(frozen=True, slots=True)
class Undone:
    """The label change that was undone: its image (as it is now) and frame."""

    view: ImageView
    frame: int
    label: str | None
    comment: str
    progress: Progress


STUDY_HINT = "Reload the page to follow your worklist."

SEALED_SORTS = frozenset({"label", "comment", "frames"})
"""Review orders that would tell a sealed first read (`sealed_view`) by where its row falls."""


def sealed_view(view: ImageView) -> ImageView:
    """An image as its reader may see it while their first read waits for its repeat: read (its
    time and version kept), not what was read. Unchanged when nothing is read yet."""
    if view.label is None and not view.frame_labels:
        return view
    return replace(view, label=None, comment="", frame_labels=(), sealed=True)


def sealed_row(row: review_rows.ReviewRow) -> review_rows.ReviewRow:
    if row.label is None and not row.frame_labels:
        return row
    return replace(row, label=None, comment="", frame_labels=(), sealed=True)


def clean_annotator_name(name: str) -> str:
    cleaned = " ".join(name.split())
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("The annotator name holds characters that are not text.") from exc
    if not cleaned:
        raise ValidationError("The annotator name is empty.", hint="Type your name or initials.")
    if len(cleaned) > MAX_ANNOTATOR_NAME:
        raise ValidationError(f"The annotator name is longer than {MAX_ANNOTATOR_NAME} characters.")
    return cleaned


def _check_version(old: label_rows.CurrentLabel | None, version: int | None, frame: int) -> None:
    """Refuse a change based on another version of this reader's label than the stored one."""
    if version is None:
        return
    stored = 0 if old is None else old.event_id
    if version == stored:
        return
    what = (
        "no label"
        if old is None
        else repr(old.label) + (f" ({old.comment})" if old.comment else "")
    )
    raise StaleVersionError(
        f"This label was changed in another tab or window since this one showed it: it is now "
        f"{what}. Nothing was saved; choose again to replace it.",
        current={
            "label": None if old is None else old.label,
            "comment": "" if old is None else old.comment,
            "frame": frame,
            "version": stored,
        },
    )


class LabellingSession:
    """One annotator's session on a project. Thread-safe: a web server may call from threads."""

    def __init__(
        self,
        project: Project,
        *,
        annotator: str,
        idle_threshold_s: float = 300.0,
        tz_offset_min: int | None = None,
        interface: str = "web",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.project = project
        self.annotator = clean_annotator_name(annotator)
        self.tz_offset_min = local_offset_minutes() if tz_offset_min is None else tz_offset_min
        self.interface = interface
        self._clock = DwellClock(idle_threshold_s=idle_threshold_s, clock=clock)
        self._lock = threading.RLock()
        self._annotator_id = 0
        self.session_id = 0
        self._position = 0
        self._last_case: str | None = None
        self._closed = False
        self._files: dict[int, FileInfo] = {}
        self._changes: list[_Change] = []
        self._shown_relpath: str | None = None
        # Hashes of recently labelled files by their identity when hashed (`_current_sha256`).
        self._hashes: OrderedDict[int, tuple[tuple[int, ...], str]] = OrderedDict()
        # In a reading study, this reader's worklist is the queue (`worklist.WorklistQueue`):
        # its positions are the page's, in the reader's own order, repeats included.
        self._worklist: WorklistQueue | None = None
        # A study assigned while the session runs (`_follow_study`): whether one was seen, and
        # what the reader is told until their page has read the session again.
        self._study_seen = False
        self._study_news: str | None = None
        self.last_version = 0
        """The version of the label the last save or clear left (0: no label); writer only."""

    # -- session -------------------------------------------------------------------------

    def start(self) -> Shown:
        """Open the session (an audit event) and resume: the image this annotator last had on
        screen, or (the first time, or when that image has left the batch) the first unlabelled."""
        with self._lock, self.project.store.write() as conn:
            now = utc_now()
            self._annotator_id = people.annotator_id(conn, self.annotator, now=now)
            self.session_id = people.open_session(
                conn,
                annotator_id=self._annotator_id,
                started_at=now,
                tz_offset_min=self.tz_offset_min,
                app_version=__version__,
                interface=self.interface,
            )
            append_event(conn, self._event(EventKind.SESSION_OPENED, {"interface": self.interface}))
            total = image_rows.count_present(conn)
            where = last_shown_rows.last_shown(conn, annotator_id=self._annotator_id)
            self._worklist = WorklistQueue.load(conn, annotator_id=self._annotator_id)
            if self._worklist is not None:
                first = None if where is None else self._worklist.position_of(relpath=where)
                if first is None:
                    first = self._worklist.next_not_done(0)
            else:
                first = None if where is None else image_rows.position_of(conn, relpath=where)
                if first is None:
                    first = image_rows.next_unlabelled(
                        conn, annotator_id=self._annotator_id, after=0
                    )
        if total == 0:
            raise DatasetError(
                f"There are no images to label in {self.project.batch}.",
                hint="Run `clinlabel scan` on the batch to see what was found and why.",
            )
        return self.show(first or 1)

    def close(self) -> None:
        """Close the session: the time on the image on screen is kept, then session_closed."""
        with self._lock:
            if self._closed or not self.session_id:
                return
            dwell = self._clock.stop()
            with self.project.store.write() as conn:
                self._record_view(conn, dwell)
                if self._shown_relpath is not None:
                    self._keep_place(conn, self._shown_relpath)
                people.close_session(conn, self.session_id, ended_at=utc_now())
                append_event(conn, self._event(EventKind.SESSION_CLOSED, {}))
            self._closed = True

    def check_open(self) -> None:
        """Refuse a change once the session is closed (Finish ended it, or the server stops).

        A request that found the session just before another tab's Finish closed it would
        otherwise write a label after `session_closed`, into a project no longer locked.
        """
        if self._closed:
            raise ValidationError(
                "This labelling session has ended (Finish and export); nothing was saved. "
                "Reload the page to start again."
            )

    # -- navigation ----------------------------------------------------------------------

    def current(self) -> Shown:
        self._follow_study(acknowledge=True)
        with self._lock:
            return self._shown(self._position, case_changed=False, previous_case=None)

    def show(self, position: int) -> Shown:
        """The image at queue `position` (from 1) is now on screen."""
        self._follow_study()
        with self._lock:
            self.check_open()
            view = self._view_at(position)
            previous_case = self._last_case
            # Showing the image already on screen (a reload, Next at the end) keeps its time.
            if self._clock.image_id == view.id:
                ended: Dwell | None = self._clock.take(view.id)
            else:
                ended = self._clock.show(view.id)
            moved = self._shown_relpath != view.relpath
            if ended is not None or moved:
                with self.project.store.write() as conn:
                    self._record_view(conn, ended)
                    if moved:
                        # Where the next session resumes, also after a crash: one row per
                        # annotator, overwritten (no event: view_ended records the looking).
                        # The page does not wait for it to paint the image.
                        self._keep_place(conn, view.relpath)
            self._position = position
            self._shown_relpath = view.relpath
            self._last_case = view.case
            changed = previous_case is not None and previous_case != view.case
            return Shown(view, changed, previous_case, self.progress())

    def next(self) -> Shown:
        with self._lock:
            return self.show(min(self._position + 1, self._total()))

    def previous(self) -> Shown:
        with self._lock:
            return self.show(max(self._position - 1, 1))

    def next_unlabelled(self) -> Shown:
        """The first unlabelled image from the one on screen on: an unlabelled image on screen
        stays (pressing N must never skip the very image that needs a label)."""
        self._follow_study()
        if self._worklist is not None:
            with self._lock:
                found = self._worklist.next_not_done(max(self._position - 1, 0))
            return self.show(found if found is not None else self._position)
        with self._lock, self.project.store.read() as conn:
            found = image_rows.next_unlabelled(
                conn, annotator_id=self._annotator_id, after=max(self._position - 1, 0)
            )
        return self.show(found if found is not None else self._position)

    def position_of(self, relpath: str) -> int:
        self._follow_study()
        if self._worklist is not None:
            found = self._worklist.position_of(relpath=relpath)
            if found is None:
                raise ValidationError(f"No image {relpath!r} in your worklist.")
            return found
        with self.project.store.read() as conn:
            found = image_rows.position_of(conn, relpath=relpath)
        if found is None:
            raise ValidationError(f"No image {relpath!r} in the queue of this project.")
        return found

    def touch(self) -> None:
        """The annotator is active (mouse, keys): keeps time away from counting as work."""
        with self._lock:
            self._clock.activity()

    # -- labels --------------------------------------------------------------------------

    def save_label(
        self,
        image_id: int,
        label: str,
        comment: str | None = None,
        *,
        frame: int = 0,
        geometry: Geometry | _Compute | None = COMPUTE,
        version: int | None = None,
        position: int | None = None,
        change_key: str | None = None,
    ) -> ImageView:
        """Give `image_id` a label; durable and audited when this returns. Does not move.

        `position`: the queue position the label was given at (the page sends it). In a study
        it says whether this is the reader's repeat read or their first read, whatever another
        tab of the same reader shows now; None: the position last shown.

        `version` is the version of this reader's label the change is based on (0: none), as
        `last_version` gave it: if another tab of the same reader changed it since, nothing is
        written and `StaleVersionError` carries the stored label. None: no check.

        `geometry` is the labelled frame's acquisition geometry (`label_geometry`), when the
        caller read it beforehand off the writer thread (the server does, through its viewing
        service); by default it is read here.

        `change_key`: the page's own random key of this change, the same when it sends the
        change again (its answer lost, or after a reload). It is kept in the label's event, so
        the very change that gave a sealed first read, sent again, is answered as saved
        (`_resent_sealed`) where any other attempt is refused as final.
        """
        self._follow_study()
        name, text = self.project.schema.validate(label, comment)
        if frame < 0:
            raise ValidationError("Frames are numbered from 1 (0 is the whole file).")
        repeat = self._repeat_on_screen(image_id, position)
        if (
            repeat is not None
            and change_key is not None
            and self._first_read_change(image_id, change_key)
        ):
            # The change that gave the first read, sent again: made before a study was assigned,
            # its position was the batch queue's, which may now be the repeat's. Never a repeat
            # read (that would record a second read the reader never gave blind).
            repeat = None
        if repeat is not None:
            if frame:
                raise ValidationError("A repeat read is of the whole image, not of one frame.")
            return self._save_repeat(repeat, name, text)
        with self._lock:
            self.check_open()
            if change_key is not None and self._worklist is not None:  # only a study seals
                resent = self._resent_sealed(
                    image_id, frame=frame, label=name, comment=text, change_key=change_key
                )
                if resent is not None:
                    return resent
            info = self._file_info(image_id, fresh=True)
            relpath = info.relpath
            # Hashed on every save, before the write transaction so other writers never wait
            # on disk reads: the label points at the bytes in the batch now, even if they were
            # replaced while the server ran (with their size and time kept, too). A file gone
            # or turned into a link out of the batch raises ImageFileError: nothing is saved.
            sha256 = self._current_sha256(image_id, relpath)
            # Bytes that differ from those an earlier label was given to: the image is flagged
            # (an image_changed event) unless a rescan flagged it already and this label is
            # the annotator's answer to that flag.
            replaced = info.sha256 is not None and info.sha256 != sha256 and not info.changed
            if isinstance(geometry, _Compute):
                geometry = self.label_geometry(image_id, frame)
            dwell = self._clock.take(image_id)
            change: _Change | None = None
            try:
                with self.project.store.write() as conn:
                    # A reading study's locked progression refuses a case not yet open (409).
                    check_may_label(
                        conn,
                        annotator_id=self._annotator_id,
                        reader=self.annotator,
                        image_id=image_id,
                        diagnosed=bool(self.project.schema.case_labels),
                    )
                    if replaced:
                        append_event(
                            conn,
                            self._event(
                                EventKind.IMAGE_CHANGED,
                                {"old_sha256": info.sha256, "new_sha256": sha256},
                                image_id=image_id,
                                image=relpath,
                            ),
                        )
                        image_rows.record_hash(conn, image_id, sha256, changed=True)
                    self._check_sealed(conn, image_id)
                    old = label_rows.current_label(
                        conn, image_id=image_id, annotator_id=self._annotator_id, frame=frame
                    )
                    _check_version(old, version, frame)
                    self.last_version = 0 if old is None else old.event_id
                    unchanged = old is not None and (old.label, old.comment) == (name, text)
                    if self._worklist is not None and not unchanged:
                        self._check_final(conn, image_id, frame=frame, old=old)
                    if old is not None and (old.label, old.comment, old.sha256) == (
                        name,
                        text,
                        sha256,
                    ):
                        self._record_view(conn, dwell)
                    else:
                        now = utc_now()
                        event_id = append_event(
                            conn,
                            self._event(
                                EventKind.LABEL_SAVED if old is None else EventKind.LABEL_CHANGED,
                                {
                                    "old": None
                                    if old is None
                                    else {"label": old.label, "comment": old.comment},
                                    "new": {"label": name, "comment": text},
                                    "sha256": sha256,
                                    **({"geometry": geometry} if geometry else {}),
                                    # Asked for only in a study, where a read can be sealed
                                    # (`_resent_sealed`), but kept outside one too: a study
                                    # assigned before the page learnt this save was made seals
                                    # it, and the page then sends the change again.
                                    **({"change_key": change_key} if change_key else {}),
                                },
                                image_id=image_id,
                                image=relpath,
                                frame=frame,
                                dwell=dwell,
                                ts_utc=now,
                            ),
                        )
                        label_rows.put_label(
                            conn,
                            image_id=image_id,
                            annotator_id=self._annotator_id,
                            frame=frame,
                            label=name,
                            comment=text,
                            labelled_at=now,
                            sha256=sha256,
                            event_id=event_id,
                            exists=old is not None,
                            geometry=json.dumps(geometry, sort_keys=True) if geometry else None,
                        )
                        change = _Change(event_id, image_id, relpath, frame, old)
                        self.last_version = event_id
                        if not replaced and (info.changed or info.sha256 is None):
                            image_rows.record_hash(conn, image_id, sha256)
                    view = self._view_in(conn, image_id)
            except BaseException:
                # Not saved: the next save of this image counts this time instead.
                self._clock.give_back(dwell)
                raise
            # Only once the transaction has committed does the session remember the new hash,
            # and the change that Ctrl+Z may undo.
            self._files.pop(image_id, None)
            if change is not None:
                self._remember(change)
            self._reload_worklist()
            if self._worklist is not None and image_id in self._worklist.sealed():
                # Read now, and its repeat is to come: the answer (which the page keeps as the
                # record of this position) does not show it either.
                view = sealed_view(view)
            return view

    def _repeat_on_screen(self, image_id: int, position: int | None = None) -> WorkItem | None:
        """The worklist item at `position` (else the one last shown) when it is a repeat of
        `image_id`: a label given there is the reader's repeat read, never a change of their
        first one. The page's own position decides: the session's is the last tab's."""
        if self._worklist is None:
            return None
        item = self._worklist.at(self._position if position is None else position)
        return item if item is not None and item.repeat and item.image_id == image_id else None

    def _save_repeat(self, item: WorkItem, label: str, comment: str) -> ImageView:
        with self._lock:
            self.check_open()
            save_repeat_read(
                self.project,
                reader=self.annotator,
                assignment_id=item.assignment_id,
                label=label,
                comment=comment,
                session_id=self.session_id or None,
            )
            # The answer's version is the first read's, which a repeat leaves as it was.
            with self.project.store.read() as conn:
                first = label_rows.current_label(
                    conn, image_id=item.image_id, annotator_id=self._annotator_id, frame=0
                )
            self.last_version = 0 if first is None else first.event_id
            self._reload_worklist()
            return self._view_at(item.position)

    def _follow_study(self, *, acknowledge: bool = False) -> None:
        """Pick up a study assigned while this session runs (`clinlabel study assign` from
        another process on the same database): from the next request on, this reader's
        worklist is the queue. The page still counts in the batch's positions, so until it has
        read the session again (`current`, the page's start: `acknowledge`) every request is
        refused with the reason, nothing saved: the reader is told, never silently moved to
        other images. A reader the study leaves out keeps the batch's queue.

        Without the session's lock until a study is found: reads (the page's prefetch) must not
        wait behind a save for a look-up that finds nothing nearly always."""
        if self._study_news is None:
            if self._worklist is not None or self._study_seen or not self._annotator_id:
                return
            with self.project.store.read() as conn:
                if not assignment_rows.has_study(conn):
                    return
        with self._lock:
            if self._study_news is not None:
                if not acknowledge:
                    raise StudyAssignedError(self._study_news, hint=STUDY_HINT)
                self._study_news = None
                return
            if self._worklist is not None or self._study_seen:
                return
            with self.project.store.read() as conn:
                worklist = WorklistQueue.load(conn, annotator_id=self._annotator_id)
            self._study_seen = True
            if worklist is None:
                return
            self._worklist = worklist
            here = worklist.position_of(relpath=self._shown_relpath)
            self._position = here or worklist.next_not_done(0) or 1
            if acknowledge:
                return
            first_reads = sum(1 for item in worklist.items if not item.repeat)
            self._study_news = (
                f"A reading study was assigned while you were working: your worklist of "
                f"{first_reads} image(s), in your own order, now replaces the batch's queue. "
                "Nothing was saved by this request."
            )
            raise StudyAssignedError(self._study_news, hint=STUDY_HINT)

    def worklist_changed(self) -> None:
        """This reader's reads changed outside the session (a repeat read through the study's
        own route): its worklist (what is done, what is sealed) is read again."""
        with self._lock:
            self._reload_worklist()

    def _reload_worklist(self) -> None:
        if self._worklist is not None:
            with self.project.store.read() as conn:
                self._worklist = WorklistQueue.load(conn, annotator_id=self._annotator_id)

    def _check_final(
        self,
        conn: Connection,
        image_id: int,
        *,
        frame: int,
        old: label_rows.CurrentLabel | None,
    ) -> None:
        """In a study, a first read of an image that comes back as a repeat is final once given
        (`worklist.check_first_read_final`); frame labels of it too, once the whole image is
        read. Inside the write transaction: another tab or process sees the same rule."""
        first = (
            old
            if frame == 0 and old is not None
            else label_rows.current_label(
                conn, image_id=image_id, annotator_id=self._annotator_id, frame=0
            )
        )
        if first is not None:
            check_first_read_final(conn, annotator_id=self._annotator_id, image_id=image_id)

    def _check_sealed(self, conn: Connection, image_id: int) -> None:
        """Refuse any save or clear of an image whose first read is sealed (given, its repeat
        pending), before anything else is compared: a stale version's answer carries the stored
        read, and a resent read answered otherwise than a different one would let the reader
        guess it label by label. Every attempt gets the same "final" answer."""
        if self.sealed_in(conn, image_id):
            check_first_read_final(conn, annotator_id=self._annotator_id, image_id=image_id)

    def _resent_sealed(
        self, image_id: int, *, frame: int, label: str, comment: str, change_key: str
    ) -> ImageView | None:
        """The answer to a sealed read's own change sent again: the page keeps every change
        until it is answered, and sends it again when the answer was lost (a reload, a server
        restart, a dropped connection). The key was drawn by the reader's page for that change
        and kept in its event: a match tells the reader nothing they did not send themselves,
        so the answer is the save's own (the sealed record), with nothing written. Any other
        attempt (another key, none, another label with the same key) goes on to the "final"
        refusal, as before. None: not such a resend.

        In a read transaction, before the save's checks: a sealed read is final once given
        (`worklist.check_first_read_final`), so what is found here cannot change after."""
        with self.project.store.read() as conn:
            if not self.sealed_in(conn, image_id):
                return None
            stored = label_rows.current_label(
                conn, image_id=image_id, annotator_id=self._annotator_id, frame=frame
            )
            # The key first, whatever the label sent: until the key is the reader's own, what
            # is done here (and how long it takes, or how it fails) never depends on the label.
            found = (
                None
                if stored is None
                else event_rows.change_key_of(conn, stored.event_id, image_id=image_id)
            )
            if (
                stored is None
                or found is None
                or not hmac.compare_digest(found[0].encode(), change_key.encode())
            ):
                return None
            # The event set the label now stored, as this change (not a row moved onto another
            # event of the reader's, edited in the database).
            change = {"label": label, "comment": comment}
            if (stored.label, stored.comment) != (label, comment) or found[1] != change:
                return None
            self.last_version = stored.event_id
            return sealed_view(self._view_in(conn, image_id))

    def _first_read_change(self, image_id: int, change_key: str) -> bool:
        """Whether `change_key` is the key of the change that gave this reader's first read
        (whole-image label) of the image."""
        with self.project.store.read() as conn:
            first = label_rows.current_label(
                conn, image_id=image_id, annotator_id=self._annotator_id, frame=0
            )
            found = (
                None
                if first is None
                else event_rows.change_key_of(conn, first.event_id, image_id=image_id)
            )
        return found is not None and hmac.compare_digest(found[0].encode(), change_key.encode())

    def sealed_in(self, conn: Connection, image_id: int) -> bool:
        """This reader's first read of the image is given and its repeat still to be read: the
        read (label, frame labels, regions) is hidden from them and final."""
        if self._worklist is None:
            return False
        found = assignment_rows.repeat_of_image(
            conn, annotator_id=self._annotator_id, image_id=image_id
        )
        if found is None or found[1]:
            return False
        first = label_rows.current_label(
            conn, image_id=image_id, annotator_id=self._annotator_id, frame=0
        )
        return first is not None

    def clear_label(
        self,
        image_id: int,
        *,
        frame: int = 0,
        version: int | None = None,
        position: int | None = None,
    ) -> ImageView:
        """Remove the label from an image; the old value stays in the audit trail.

        `version`: as for `save_label` (a stale one changes nothing: `StaleVersionError`);
        `position`: as for `save_label` (a clear at a repeat is refused).
        """
        self._follow_study()
        if self._repeat_on_screen(image_id, position) is not None:
            raise ValidationError(
                "A repeat read is kept as given: choose another label to change it.",
                hint="Its first read is not shown here, and a clear would remove that one.",
            )
        with self._lock:
            self.check_open()
            relpath, _ = self._image_file(image_id)
            change: _Change | None = None
            with self.project.store.write() as conn:
                self._check_sealed(conn, image_id)
                old = label_rows.current_label(
                    conn, image_id=image_id, annotator_id=self._annotator_id, frame=frame
                )
                _check_version(old, version, frame)
                if old is not None and self._worklist is not None:
                    self._check_final(conn, image_id, frame=frame, old=old)
                self.last_version = 0
                if old is not None:
                    event_id = append_event(
                        conn,
                        self._event(
                            EventKind.LABEL_CLEARED,
                            {"old": {"label": old.label, "comment": old.comment}, "new": None},
                            image_id=image_id,
                            image=relpath,
                            frame=frame,
                        ),
                    )
                    label_rows.remove_label(
                        conn, image_id=image_id, annotator_id=self._annotator_id, frame=frame
                    )
                    change = _Change(event_id, image_id, relpath, frame, old)
            if change is not None:  # committed: Ctrl+Z may undo it
                self._remember(change)
            self._reload_worklist()
            return self.image(image_id)

    def undo(self) -> Undone:
        """Undo this session's last label or clear not yet undone; again walks further back.

        History is never rewritten: the label before that change comes back through a new
        event (saved, changed or cleared, naming the event it undoes in `undo_of`), so the
        trail still verifies and shows both the change and its undoing.
        """
        self._follow_study()
        with self._lock:
            self.check_open()
            if not self._changes:
                raise ValidationError(
                    "Nothing to undo: no label was given or cleared in this session "
                    "(or every change has been undone already)."
                )
            change = self._changes.pop()
            try:
                with self.project.store.write() as conn:
                    if self._worklist is not None:
                        self._check_final(conn, change.image_id, frame=change.frame, old=None)
                    self._restore(conn, change)
                    view = self._view_in(conn, change.image_id)
                    # Counted in the same transaction: a failure after the commit would be
                    # answered 503, and the page's retry would undo one change more.
                    progress = image_rows.progress(conn, annotator_id=self._annotator_id or None)
            except BaseException:
                self._changes.append(change)
                raise
            self._files.pop(change.image_id, None)
            if self._worklist is not None:
                self._reload_worklist()
                progress = self.progress()
            old = change.old
            return Undone(
                view,
                change.frame,
                None if old is None else old.label,
                "" if old is None else old.comment,
                progress,
            )

    def _restore(self, conn: Connection, change: _Change) -> None:
        """Put back `change.old` as the current label of its image and frame, with an event."""
        image_id, annotator_id, frame = change.image_id, self._annotator_id, change.frame
        now_label = label_rows.current_label(
            conn, image_id=image_id, annotator_id=annotator_id, frame=frame
        )
        now = (
            None if now_label is None else {"label": now_label.label, "comment": now_label.comment}
        )
        target = change.old
        if target is None:
            if now_label is None:
                return
            append_event(
                conn,
                self._event(
                    EventKind.LABEL_CLEARED,
                    {"old": now, "new": None, "undo_of": change.event_id},
                    image_id=change.image_id,
                    image=change.relpath,
                    frame=change.frame,
                ),
            )
            label_rows.remove_label(conn, image_id=image_id, annotator_id=annotator_id, frame=frame)
            return
        ts = utc_now()
        geometry = json.loads(target.geometry) if target.geometry else None
        event_id = append_event(
            conn,
            self._event(
                EventKind.LABEL_SAVED if now_label is None else EventKind.LABEL_CHANGED,
                {
                    "old": now,
                    "new": {"label": target.label, "comment": target.comment},
                    "sha256": target.sha256,
                    **({"geometry": geometry} if geometry else {}),
                    "undo_of": change.event_id,
                },
                image_id=change.image_id,
                image=change.relpath,
                frame=change.frame,
                ts_utc=ts,
            ),
        )
        label_rows.put_label(
            conn,
            image_id=image_id,
            annotator_id=annotator_id,
            frame=frame,
            label=target.label,
            comment=target.comment,
            labelled_at=ts,
            sha256=target.sha256,
            event_id=event_id,
            exists=now_label is not None,
            geometry=target.geometry,
        )

    def _remember(self, change: _Change) -> None:
        self._changes.append(change)
        if len(self._changes) > UNDO_KEPT:
            del self._changes[0]

    def frame_labels(self, image_id: int) -> list[FrameLabel]:
        """This annotator's labels for single frames or slices of an image, by frame."""
        with self.project.store.read() as conn:
            return label_rows.frame_labels(
                conn, image_id=image_id, annotator_id=self._annotator_id or -1
            )

    def unmask_metadata(self, image_id: int, *, keywords: list[str]) -> None:
        """Record that the annotator revealed identifying attributes of an image (an event)."""
        with self._lock:
            self.check_open()
            relpath, _ = self._image_file(image_id)
            with self.project.store.write() as conn:
                append_event(
                    conn,
                    self._event(
                        EventKind.METADATA_UNMASKED,
                        {"attributes": sorted(keywords)},
                        image_id=image_id,
                        image=relpath,
                    ),
                )

    # -- reading -------------------------------------------------------------------------

    def progress(self) -> Progress:
        self._follow_study()
        worklist = self._worklist
        if worklist is not None:
            total, done = worklist.total, worklist.done
            percent = 100.0 * done / total if total else 0.0
            return Progress(total=total, labelled=done, remaining=total - done, percent=percent)
        with self.project.store.read() as conn:
            return image_rows.progress(conn, annotator_id=self._annotator_id or None)

    def case_progress(self) -> list[CaseProgress]:
        self._follow_study()
        worklist = self._worklist
        if worklist is not None:
            return [
                CaseProgress(c, n, d, first, repeats, repeats_done)
                for c, n, d, first, repeats, repeats_done in worklist.case_progress()
            ]
        with self.project.store.read() as conn:
            return image_rows.case_progress(conn, annotator_id=self._annotator_id or None)

    def case_visits(self) -> list[tuple[str, str, int, int]]:
        """(case, visit, first position, images) of each visit, in queue order (the sidebar)."""
        self._follow_study()
        if self._worklist is not None:
            return self._worklist.case_visits()
        with self.project.store.read() as conn:
            return image_rows.case_visits(conn)

    def queue(self, start: int, count: int) -> list[ImageView]:
        """Images at positions start..start+count-1 (for prefetching and the review table)."""
        self._follow_study()
        if count <= 0:
            return []
        if self._worklist is not None:
            return self._worklist_views(self._worklist.window(start, start + count - 1))
        with self.project.store.read() as conn:
            return image_rows.queue_views(
                conn,
                annotator_id=self._annotator_id or None,
                annotator=self.annotator,
                first=max(start, 1),
                last=start + count - 1,
            )

    def review(self, query: ReviewQuery, *, readers: bool = False) -> ReviewPage:
        """One window of the review table, sorted and filtered by the database, with totals.

        A reader of a study sees the images of their worklist only (any other cannot be opened
        nor labelled by them), each at its place in their worklist, and their first reads
        sealed until the repeat is read shown as read without the label; ordering by a column
        that would give such a label away is refused while any is sealed.

        `readers` (the caller has found a reviewer or admin): someone who is not a reader of the
        study sees every image, each row with its readers and their labels."""
        self._follow_study()
        worklist = self._worklist
        sealed = frozenset[int]() if worklist is None else worklist.sealed()
        if sealed and query.sort in SEALED_SORTS:
            raise ValidationError(
                f"The review table cannot be sorted by {query.sort} while {len(sealed)} of your "
                "first reads are hidden until you read their repeats: the order would show them.",
                hint="Sort by position, case, visit or file; or read the repeats first.",
            )
        with self.project.store.read() as conn:
            if worklist is not None:
                # The rows a reader sees carry their worklist positions: the cursor the page
                # passes back is one, and the core's is the image's place in the queue.
                item = None if query.after is None else worklist.at(query.after)
                after = (
                    None if item is None else image_rows.position_of(conn, image_id=item.image_id)
                )
                query = replace(query, worklist=True, after=after)
            page = review_rows.review_page(
                conn, query, annotator_id=self._annotator_id or None, annotator=self.annotator
            )
        if worklist is None:
            if not readers or not page.rows:
                return page
            with self.project.store.read() as conn:
                reads = assignment_rows.study_reads(conn, [row.image_id for row in page.rows])
            if not reads:
                return page
            return replace(
                page,
                rows=[
                    replace(row, readers=tuple(reads.get(row.image_id, ()))) for row in page.rows
                ],
            )
        rows = [
            replace(
                sealed_row(row) if row.image_id in sealed else row,
                position=worklist.position_of(image_id=row.image_id) or 0,
            )
            for row in page.rows
        ]
        return replace(page, rows=rows)

    def review_cases(self) -> list[str]:
        """Case names for the review table's filter, in queue (natural) order; a reader of a
        study: the cases of their worklist, in the order they meet them."""
        self._follow_study()
        with self.project.store.read() as conn:
            if self._worklist is not None:
                return assignment_rows.worklist_cases(conn, annotator_id=self._annotator_id)
            return review_rows.case_names(conn)

    def image(self, image_id: int) -> ImageView:
        self._follow_study()
        with self.project.store.read() as conn:
            return self._view_in(conn, image_id)

    def image_path(self, image_id: int) -> Path:
        """The file of an image inside the batch: the only way an interface gets a path."""
        relpath, _ = self._image_file(image_id)
        return self.project.image_path(relpath)

    def image_kind(self, image_id: int) -> str:
        return self._file_info(image_id).kind

    # -- internals -----------------------------------------------------------------------

    def _total(self) -> int:
        if self._worklist is not None:
            return self._worklist.total
        with self.project.store.read() as conn:
            return image_rows.count_present(conn)

    def _worklist_views(self, items: list[WorkItem]) -> list[ImageView]:
        """Views of worklist items at their worklist positions. A repeat shows the reader's
        repeat read if given, never their first read (blinded)."""
        out = []
        with self.project.store.read() as conn:
            for item in items:
                view = self._view_in(conn, item.image_id)
                if item.repeat:
                    found = assignment_rows.repeat_read(conn, item.assignment_id)
                    view = replace(
                        view,
                        label=None if found is None else found[0],
                        comment="" if found is None else found[1],
                        labelled_at=None,
                        annotator=None if found is None else self.annotator,
                        frame_labels=(),
                        sealed=False,
                    )
                out.append(replace(view, position=item.position))
        return out

    def _view_at(self, position: int) -> ImageView:
        views = self.queue(position, 1)
        if not views:
            total = self._total()
            raise ValidationError(f"Position {position} is outside the queue (1 to {total}).")
        return views[0]

    def _shown(self, position: int, *, case_changed: bool, previous_case: str | None) -> Shown:
        return Shown(self._view_at(position), case_changed, previous_case, self.progress())

    def label_geometry(
        self, image_id: int, frame: int, *, reader: ImageReader | None = None
    ) -> Geometry | None:
        """Acquisition geometry of the labelled frame of a DICOM file, kept with its label.

        Only when the file states some of it (XA/RF runs do; a CT or a photo does not). Reads
        only: any thread may ask, through `reader` (the header cache of a viewing service).
        """
        if self._file_info(image_id).kind != "dicom":
            return None
        from clinlabel.imaging.geometry import GEOMETRY_KEYWORDS, acquisition_geometry
        from clinlabel.imaging.reader import DIRECT

        try:
            found = acquisition_geometry(
                self.image_path(image_id), frame=max(frame, 1), reader=reader or DIRECT
            )
        except Exception:  # a label never fails because a header is unreadable
            return None
        if all(found.get(name) is None for name in GEOMETRY_KEYWORDS):
            return None
        return found

    def _current_sha256(self, image_id: int, relpath: str) -> str:
        """SHA-256 of the image's bytes now, re-read unless the file is provably the one hashed.

        The proof is its identity: device, inode, size, modification and *change* time. Writing
        to a file or swapping another in always moves its change time (no call sets it), so
        bytes replaced with their size and modification time kept are still hashed anew, while
        labelling fifty frames of one large DICOM file reads it once.
        """
        path = self.project.image_path(relpath)
        try:
            info = path.stat()
        except OSError as exc:
            raise ImageFileError(
                f"The file {relpath} is no longer in the batch; nothing was saved for it.",
                hint="Put the file back, or run `clinlabel init` again to rescan the batch.",
            ) from exc
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        known = self._hashes.get(image_id)
        if known is not None and known[0] == identity:
            self._hashes.move_to_end(image_id)
            return known[1]
        sha256 = file_sha256(path)
        if sha256 is None:
            raise ImageFileError(
                f"The file {relpath} cannot be read now; nothing was saved for it.",
                hint="Check that the batch is still reachable, then save again.",
            )
        self._hashes[image_id] = (identity, sha256)
        if len(self._hashes) > HASHES_KEPT:
            self._hashes.popitem(last=False)
        return sha256

    def _file_info(self, image_id: int, *, fresh: bool = False) -> FileInfo:
        """Path, kind and recorded hash of an image, remembered for the session.

        `fresh` reads them again: a rescan by another server on a shared database may have
        flagged the bytes as changed since.
        """
        cached = None if fresh else self._files.get(image_id)
        if cached is not None:
            return cached
        with self.project.store.read() as conn:
            info = image_rows.image_file_info(conn, image_id)
        if info is None:
            raise ValidationError(f"There is no image {image_id} in this project.")
        self._files[image_id] = info
        return info

    def _image_file(self, image_id: int) -> tuple[str, str | None]:
        info = self._file_info(image_id)
        return info.relpath, info.sha256

    def _view_in(self, conn: Connection, image_id: int) -> ImageView:
        view = image_rows.view_of(
            conn,
            image_id=image_id,
            annotator_id=self._annotator_id or None,
            annotator=self.annotator,
        )
        if view is None:
            raise ValidationError(f"Image {image_id} is not in the queue of this project.")
        worklist = self._worklist
        if worklist is not None and image_id in worklist.sealed():
            view = sealed_view(view)
        if worklist is not None:
            # Its place in this reader's worklist: the one on screen, else its first read's.
            item = worklist.at(self._position)
            if item is not None and item.image_id == image_id:
                return replace(view, position=self._position)
            found = worklist.position_of(image_id=image_id)
            if found is not None:
                return replace(view, position=found)
        return view

    def _keep_place(self, conn: Connection, relpath: str) -> None:
        last_shown_rows.set_last_shown(conn, annotator_id=self._annotator_id, relpath=relpath)

    def _record_view(self, conn: Connection, dwell: Dwell | None) -> bool:
        """A view_ended event for `dwell`, unless it was a glance; True if one was written."""
        if dwell is None or (dwell.active_ms < MIN_VIEW_MS and dwell.idle_ms == 0):
            return False

        info = self._files.get(dwell.image_id) or image_rows.image_file_info(conn, dwell.image_id)
        append_event(
            conn,
            self._event(
                EventKind.VIEW_ENDED,
                {},
                image_id=dwell.image_id,
                image=None if info is None else info.relpath,
                dwell=dwell,
            ),
        )
        return True

    def _event(
        self,
        kind: EventKind,
        data: dict[str, object],
        *,
        image_id: int | None = None,
        image: str | None = None,
        frame: int | None = None,
        dwell: Dwell | None = None,
        ts_utc: str | None = None,
    ) -> NewEvent:
        return NewEvent(
            kind,
            self.annotator,
            data,
            session_id=self.session_id or None,
            image_id=image_id,
            image=image,
            frame=frame,
            active_ms=None if dwell is None else dwell.active_ms,
            idle_ms=None if dwell is None else dwell.idle_ms,
            tz_offset_min=self.tz_offset_min,
            ts_utc=ts_utc,
        )
