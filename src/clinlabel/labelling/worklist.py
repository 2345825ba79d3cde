"""A reader's worklist in a reading study: what they read next, what is open to them under
locked progression, and their blinded repeat reads.

The rules live here, in the engine, so every face (the page, the API, a script) obeys them:
- locked progression: the worklist is a run of blocks (a case's first reads; each repeat on
  its own); an item opens only once every block before it is complete, and a case block is
  complete when each of its images is labelled and, where the schema asks for one, the case
  has its diagnosis (`case_rules`);
- a repeat is its own read: saved apart from the first read, which it never overwrites, and
  shown without it (the reader is blinded to their first read);
- a first read whose image comes back as a repeat is **sealed** while the repeat is pending:
  every face shows the reader that the image is read, never what they read (not the page when
  they go back to it, the image record, the review table, nor an export they could run, the
  agreement figures, adjudication or the dashboard: `SealedOutput`), and
  it is **final once given**: no change, clear or undo of it, before the repeat is read or
  after. Hidden alone would let a reader re-read it blind at its first place after having met
  the repeat (or correct it once the repeat has shown them their second opinion), so that the
  pair test-retest agreement compares would no longer be two independent reads in the design's
  order. After the repeat is read, both reads are shown as their own records. A slip is
  answered by the repeat itself and the trail, not by rewriting the first read.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy.engine import Connection

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import ImportFileError, StudyRuleError, ValidationError
from clinlabel.labelling.project import Project
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import images as image_rows
from clinlabel.store import people
from clinlabel.store.assignments import WorkItem


@dataclass(frozen=True, slots=True)
class WorklistItem:
    assignment_id: int
    position: int
    image_id: int
    relpath: str
    case: str
    repeat: bool
    done: bool
    open: bool
    """Under locked progression: every block before this one is complete."""
    repeat_label: str | None = None
    """A repeat's own read (never the first read: the reader is blinded to it)."""


@dataclass(frozen=True, slots=True)
class Worklist:
    reader: str
    locked: bool
    items: tuple[WorklistItem, ...]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def next_open(self) -> WorklistItem | None:
        """The first item not done (the page's "next")."""
        return next((item for item in self.items if not item.done), None)


def _blocks(items: list[WorkItem]) -> list[int]:
    """The block number of each item: consecutive first reads of one case share a block; each
    repeat is a block of its own."""
    out: list[int] = []
    block = -1
    for i, item in enumerate(items):
        if item.repeat or i == 0 or items[i - 1].repeat or items[i - 1].case != item.case:
            block += 1
        out.append(block)
    return out


def _open_flags(
    conn: Connection, items: list[WorkItem], *, annotator_id: int, locked: bool, diagnosed: bool
) -> list[bool]:
    if not locked:
        return [True] * len(items)
    blocks = _blocks(items)
    complete: dict[int, bool] = {}
    for item, block in zip(items, blocks, strict=True):
        complete[block] = complete.get(block, True) and item.done
    if diagnosed:
        given = assignment_rows.case_diagnoses_of(conn, annotator_id=annotator_id)
        for item, block in zip(items, blocks, strict=True):
            if not item.repeat and item.case not in given:
                complete[block] = False
    flags = []
    all_before = True
    current = -1
    for block in blocks:
        if block != current:
            if current >= 0:
                all_before = all_before and complete[current]
            current = block
        flags.append(all_before)
    return flags


def load_worklist(conn: Connection, *, annotator_id: int, reader: str, diagnosed: bool) -> Worklist:
    settings = assignment_rows.study_settings(conn)
    locked = settings is not None and settings.locked
    rows = assignment_rows.worklist(conn, annotator_id=annotator_id)
    flags = _open_flags(conn, rows, annotator_id=annotator_id, locked=locked, diagnosed=diagnosed)
    items = []
    for row, is_open in zip(rows, flags, strict=True):
        repeat_label = None
        if row.repeat and row.done:
            found = assignment_rows.repeat_read(conn, row.assignment_id)
            repeat_label = None if found is None else found[0]
        items.append(
            WorklistItem(
                assignment_id=row.assignment_id,
                position=row.position,
                image_id=row.image_id,
                relpath=row.relpath,
                case=row.case,
                repeat=row.repeat,
                done=row.done,
                open=is_open,
                repeat_label=repeat_label,
            )
        )
    return Worklist(reader, locked, tuple(items))


def reader_worklist(project: Project, reader: str) -> Worklist:
    """`reader`'s worklist; empty when the project has no study or the reader none in it."""
    diagnosed = bool(project.schema.case_labels)
    with project.store.read() as conn:
        annotator_id = people.find_annotator(conn, reader)
        if annotator_id is None:
            return Worklist(reader, False, ())
        return load_worklist(conn, annotator_id=annotator_id, reader=reader, diagnosed=diagnosed)


def sealed_reads(project: Project, reader: str) -> int:
    """`reader`'s first reads given whose repeat is still to be read (hidden from them),
    counted from the assignments: of images gone from the batch too, which the worklist leaves
    out until their files are back (their labels are still exported and shown to reviewers)."""
    with project.store.read() as conn:
        return sum(assignment_rows.sealed_first_reads(conn, reader=reader).values())


@dataclass(frozen=True)
class SealedOutput:
    """What would show sealed first reads (an export, the agreement figures), in the words of
    its refusal: the same rule for each, told in terms of what was asked."""

    refused: str
    """"Not written", "Not shown"."""
    shows: str
    """What the reader's own page would show them ("the labels file")."""
    shows_all: str
    """What a terminal would show ("the export")."""
    then: str
    """What the reader does once their repeats are read."""
    again: str
    """When the terminal's person asks again."""
    recorded: str
    """How an `--include-sealed` output is recorded ("" when it writes nothing)."""


EXPORT = SealedOutput(
    refused="Not written",
    shows="the labels file",
    shows_all="the export",
    then="save or finish",
    again="Export once those repeats are read",
    recorded=" (the export's event records it)",
)
AGREEMENT = SealedOutput(
    refused="Not shown",
    shows="the agreement figures",
    shows_all="the agreement figures",
    then="open the agreement again",
    again="Ask again once those repeats are read",
    recorded="",
)
"""The agreement between readers counts every first read (pairs, per case, per label): a
reader could learn what they read from how they agree with the others, or with the majority."""
ADJUDICATION = SealedOutput(
    refused="Not open to you",
    shows="adjudication",
    shows_all="the adjudication list",
    then="open adjudication again",
    again="List them once those repeats are read",
    recorded="",
)
"""Adjudication shows each reader's label of each image, theirs among them."""
DASHBOARD = SealedOutput(
    refused="Not shown",
    shows="the dashboard",
    shows_all="the dashboard",
    then="open the dashboard again",
    again="Ask again once those repeats are read",
    recorded="",
)
"""The dashboard counts each reader's NA labels and agreement with the consensus over their
first reads: with one read sealed, the count moves by it."""


def check_may_export(project: Project, reader: str, *, output: SealedOutput = EXPORT) -> int:
    """Refuse an export or report (or `output`) to a reader with first reads sealed: the files
    hold them. (On the team server only an admin writes exports, and a reader among them is
    held back until their worklist is done: `web.auth.SEES_OTHER_READERS`.) Counted from the
    assignments, of images gone from the batch too: an export writes their labels, where a
    worklist leaves them out until their files are back. Returns how many sealed first reads
    (every reader's) an export holds, for its events, as a terminal's `--include-sealed` export
    records them (`check_terminal_export`)."""
    with project.store.read() as conn:
        every = assignment_rows.sealed_first_reads(conn)
    sealed = every.get(reader, 0)
    if sealed:
        raise StudyRuleError(
            f"{output.refused}: {output.shows} would show you {sealed} first read(s) of yours "
            "that stay hidden until you read their repeats (a blinded test-retest study).",
            hint=f"Read the repeats in your worklist first; then {output.then}.",
        )
    return sum(every.values())


INCLUDE_SEALED = "--include-sealed"


def check_terminal_export(
    project: Project,
    *,
    include_sealed: bool,
    reader: str | None = None,
    output: SealedOutput = EXPORT,
) -> int:
    """Refuse an export or report (or `output`) from a terminal while it would hold first
    reads still sealed (of every reader, or of `reader` when only theirs are exported), unless
    the person says they are not a reader of the study (`include_sealed`). The page refuses
    its reader whose reads are sealed (`check_may_export`) and the team server only lets an
    admin whose worklist is done export; a terminal knows no reader, so it asks. Returns how
    many sealed reads the export holds (0: none)."""
    with project.store.read() as conn:
        sealed = assignment_rows.sealed_first_reads(conn, reader=reader)
    count = sum(sealed.values())
    if not count or include_sealed:
        return count
    readers = ", ".join(sealed)
    raise StudyRuleError(
        f"{output.refused}: {output.shows_all} would show {count} first read(s) still sealed "
        f"in this blinded test-retest study (of {readers}: hidden from them until they read "
        "the repeats), and a terminal cannot tell whether you are one of its readers.",
        hint=f"{output.again}; if you are not a reader of this study, add {INCLUDE_SEALED}"
        f"{output.recorded}.",
    )


LOCKED_HINT = "Finish the current case first (every image labelled, and its diagnosis if asked)."


def check_may_label(
    conn: Connection, *, annotator_id: int, reader: str, image_id: int, diagnosed: bool
) -> None:
    """Refuse a first read of an image not in this reader's worklist (a reader of a study
    labels what is assigned to them: a read of another reader's image would count in the
    agreement and the adjudication), or one the study's locked progression has not opened yet.
    Nothing is refused without a study, or to someone who is not one of its readers."""
    settings = assignment_rows.study_settings(conn)
    if settings is None:
        return
    if not settings.locked:
        rows = assignment_rows.worklist(conn, annotator_id=annotator_id)
        if rows and not any(r.image_id == image_id and not r.repeat for r in rows):
            raise _not_assigned(reader)
        return
    worklist = load_worklist(conn, annotator_id=annotator_id, reader=reader, diagnosed=diagnosed)
    firsts = [i for i in worklist.items if i.image_id == image_id and not i.repeat]
    if worklist.items and not firsts:
        raise _not_assigned(reader)
    if firsts and not firsts[0].open:
        current = next((i for i in worklist.items if not i.open), firsts[0])
        before = next((i for i in worklist.items if not i.done), current)
        raise StudyRuleError(
            f"{firsts[0].case} is not open yet: this study is locked case by case and "
            f"{before.case} is not complete.",
            hint=LOCKED_HINT,
        )


def check_first_read_final(conn: Connection, *, annotator_id: int, image_id: int) -> None:
    """Refuse a change of a reader's first read of an image that comes back to them as a repeat
    (the caller knows a first read exists): it is final once given (see the module's rules)."""
    found = assignment_rows.repeat_of_image(conn, annotator_id=annotator_id, image_id=image_id)
    if found is None:
        return
    position, read = found
    when = "was read" if read else f"comes back at position {position}"
    raise StudyRuleError(
        f"Your first read of this image is final: its blinded repeat {when}, and test-retest "
        "agreement compares the two reads as they were given. Nothing was changed.",
        hint="Give your second opinion at the repeat; the trail keeps both reads.",
    )


def _not_assigned(reader: str) -> StudyRuleError:
    return StudyRuleError(
        f"This image is not in your worklist ({reader}): a reader of this study labels only "
        "the images assigned to them.",
        hint="Ask the study's admin if it should be yours.",
    )


def save_repeat_read(
    project: Project,
    *,
    reader: str,
    assignment_id: int,
    label: str,
    comment: str | None,
    session_id: int | None = None,
) -> WorklistItem:
    """Record `reader`'s repeat read of a worklist item: its own record and event
    (`repeat_read_saved`), the first read left as it was."""
    name, text = project.schema.validate(label, comment)
    diagnosed = bool(project.schema.case_labels)
    with project.store.write() as conn:
        annotator_id = people.find_annotator(conn, reader)
        found = assignment_rows.assignment_of(conn, assignment_id)
        if found is None or annotator_id is None or found[0] != annotator_id:
            # The same answer for another reader's item as for none: ids are not a way in.
            raise ValidationError(f"There is no worklist item {assignment_id} of {reader}.")
        _, image_id, repeat_of = found
        if repeat_of is None:
            raise ValidationError(
                f"Worklist item {assignment_id} is a first read: label the image itself."
            )
        worklist = load_worklist(
            conn, annotator_id=annotator_id, reader=reader, diagnosed=diagnosed
        )
        item = next(i for i in worklist.items if i.assignment_id == assignment_id)
        if not item.open:
            raise StudyRuleError(
                "This repeat is not open yet: the study is locked case by case.", hint=LOCKED_HINT
            )
        first = next((i for i in worklist.items if i.image_id == image_id and not i.repeat), None)
        if first is not None and not first.done:
            # A repeat read before the first read would make it the first: test-retest
            # agreement rests on the order the design gave.
            raise StudyRuleError(
                f"This is a repeat of the image at position {first.position}, not read yet: "
                "read it there first.",
                hint="A repeat is the second read of an image, blinded to the first.",
            )
        old = assignment_rows.repeat_read(conn, assignment_id)
        if old == (name, text):
            # The same read again (the page sends a change again when its answer was lost):
            # kept as it is, with no second event, as a first read's save of the same label.
            return replace(item, done=True, open=True, repeat_label=name)
        now = utc_now()
        event_id = append_event(
            conn,
            NewEvent(
                EventKind.REPEAT_READ_SAVED,
                reader,
                {
                    "assignment": assignment_id,
                    "old": None if old is None else {"label": old[0], "comment": old[1]},
                    "new": {"label": name, "comment": text},
                },
                session_id=session_id,
                image_id=image_id,
                image=item.relpath,
                frame=0,
                ts_utc=now,
            ),
        )
        assignment_rows.put_repeat_read(
            conn,
            assignment_id=assignment_id,
            image_id=image_id,
            annotator_id=annotator_id,
            label=name,
            comment=text,
            labelled_at=now,
            event_id=event_id,
        )
    return WorklistItem(
        assignment_id=item.assignment_id,
        position=item.position,
        image_id=item.image_id,
        relpath=item.relpath,
        case=item.case,
        repeat=True,
        done=True,
        open=True,
        repeat_label=name,
    )


class WorklistQueue:
    """A reader's worklist as the labelling session's queue: positions are worklist positions,
    so the page (which knows only positions) follows the reader's own order, their repeats
    included, with no change of its own. Reloaded after every change of this reader's reads."""

    def __init__(self, items: list[WorkItem]) -> None:
        self.items = items

    @classmethod
    def load(cls, conn: Connection, *, annotator_id: int) -> WorklistQueue | None:
        """None when the reader has no worklist (no study, or not one of its readers)."""
        items = assignment_rows.worklist(conn, annotator_id=annotator_id)
        return cls(items) if items else None

    @property
    def total(self) -> int:
        return len(self.items)

    def sealed(self) -> frozenset[int]:
        """Images read once whose repeat is still to be read: that first read is hidden from
        the reader."""
        pending = {item.image_id for item in self.items if item.repeat and not item.done}
        return frozenset(
            item.image_id
            for item in self.items
            if not item.repeat and item.done and item.image_id in pending
        )

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.done)

    def at(self, position: int) -> WorkItem | None:
        return self.items[position - 1] if 1 <= position <= len(self.items) else None

    def window(self, first: int, last: int) -> list[WorkItem]:
        return self.items[max(first, 1) - 1 : max(last, 0)]

    def next_not_done(self, after: int) -> int | None:
        """The first position after `after` not done, wrapping round once."""
        n = len(self.items)
        for step in range(n):
            index = (after + step) % n
            if not self.items[index].done:
                return index + 1
        return None

    def position_of(self, *, image_id: int | None = None, relpath: str | None = None) -> int | None:
        """The position of an image's first read in the worklist."""
        for index, item in enumerate(self.items):
            if not item.repeat and (item.image_id == image_id or item.relpath == relpath):
                return index + 1
        return None

    def case_visits(self) -> list[tuple[str, str, int, int]]:
        """(case, visit, first position, images) of each run of first reads, in order."""
        out: list[tuple[str, str, int, int]] = []
        for index, item in enumerate(self.items, start=1):
            if item.repeat:
                continue
            if out and out[-1][0] == item.case and out[-1][1] == item.visit:
                case, visit, first, count = out[-1]
                out[-1] = (case, visit, first, count + 1)
            else:
                out.append((item.case, item.visit, index, 1))
        return out

    def case_progress(self) -> list[tuple[str, int, int, int, int, int]]:
        """(case, first reads, of them done, first position, repeats, of them done) per case,
        in the order the reader meets them. First reads and repeats apart: a case's images are
        counted once, as its visits and the review table count them."""
        found: dict[str, list[int]] = {}
        for index, item in enumerate(self.items, start=1):
            entry = found.setdefault(item.case, [0, 0, index, 0, 0])
            at = 3 if item.repeat else 0
            entry[at] += 1
            entry[at + 1] += int(item.done)
        return [(case, e[0], e[1], e[2], e[3], e[4]) for case, e in found.items()]


def study_state(project: Project) -> tuple[bool, bool]:
    """(the project has a study, its progression is locked)."""
    with project.store.read() as conn:
        settings = assignment_rows.study_settings(conn)
    return settings is not None, settings is not None and settings.locked


def _look_alike(name: str) -> str:
    """What two reader names a person cannot tell apart share: case and width folded, and a
    Greek or Cyrillic letter drawn like a Latin one ("А", "о") read as that Latin letter."""
    out = []
    for ch in unicodedata.normalize("NFKC", name).casefold():
        spelled = unicodedata.name(ch, "")
        for script in ("CYRILLIC ", "GREEK "):
            if spelled.startswith(script):
                with contextlib.suppress(KeyError):  # no Latin letter of that name
                    ch = unicodedata.lookup("LATIN " + spelled.removeprefix(script))
        out.append(ch)
    return "".join(out)


NAMED_OUTSIDE = 3
"""Images outside the worklist named in an import's refusal (the count says the rest)."""


def final_first_reads(project: Project, reader: str) -> frozenset[int]:
    """The images whose first read by `reader`, once given, is final (`check_first_read_final`):
    those that come back to them as a repeat in the study. Empty without a study."""
    with project.store.read() as conn:
        if not assignment_rows.has_study(conn):
            return frozenset()
        annotator_id = people.find_annotator(conn, reader)
        if annotator_id is None:
            return frozenset()
        return frozenset(
            item.image_id
            for item in assignment_rows.worklist(conn, annotator_id=annotator_id)
            if item.repeat
        )


def final_reads_changed(reader: str, source: str, lines: list[int]) -> ImportFileError:
    """The refusal of an import whose rows (`lines` of the file) would change first reads of
    `reader` that are final: the page refuses each such change, so does an import."""
    shown = ", ".join(str(line) for line in lines[:NAMED_OUTSIDE])
    more = ", ..." if len(lines) > NAMED_OUTSIDE else ""
    return ImportFileError(
        f"Nothing was imported from {source}: {len(lines)} row(s) would change {reader}'s first "
        f"read of an image that comes back to them as a blinded repeat, which is final once "
        f"given (line {shown}{more}).",
        hint="Leave those rows out: a second opinion is given at the repeat, and the trail "
        "keeps both reads.",
    )


def check_import_worklist(
    project: Project, reader: str, image_ids: Iterable[int], *, allow: bool, source: str
) -> int:
    """Rows of an import for `reader` (by image id) whose image is not one of their first reads
    in the project's study: refused (`ImportFileError`, nothing imported) unless `allow`; their
    count is returned (0 without a study). A reader the study does not name has no worklist:
    every row is outside it. Such reads, once imported, are the reader's like any other: the
    agreement and the adjudication count them."""
    with project.store.read() as conn:
        if not assignment_rows.has_study(conn):
            return 0
        readers = [name for _, name, _ in assignment_rows.readers_with_worklists(conn)]
        if reader not in readers:
            alike = [name for name in readers if _look_alike(name) == _look_alike(reader)]
            if alike:
                # Even with `allow`: the rows would be the reads of a reader nobody assigned,
                # shown like the real one and counted apart from them in the agreement.
                raise ImportFileError(
                    f"Nothing was imported from {source}: {reader!r} is not a reader of this "
                    f"study but looks like its reader {alike[0]!r} (only case, width or a "
                    "letter of another alphabet differ).",
                    hint=f"Give the reader's name as the study has it: --annotator {alike[0]!r}.",
                )
        annotator_id = people.find_annotator(conn, reader)
        mine = (
            set()
            if annotator_id is None
            else {
                item.image_id
                for item in assignment_rows.worklist(conn, annotator_id=annotator_id)
                if not item.repeat
            }
        )
        outside = [image_id for image_id in image_ids if image_id not in mine]
        if not outside or allow:
            return len(outside)
        named = []
        for image_id in dict.fromkeys(outside):
            info = image_rows.image_file_info(conn, image_id)
            named.append(str(image_id) if info is None else info.relpath)
            if len(named) == NAMED_OUTSIDE:
                break
    more = ", ..." if len(set(outside)) > len(named) else ""
    raise ImportFileError(
        f"Nothing was imported from {source}: {len(outside)} row(s) are for images not in "
        f"{reader}'s worklist of this study ({', '.join(named)}{more}).",
        hint="Import only that reader's images, or run again with --outside-worklist to import "
        "them too (they then count as that reader's reads in the agreement).",
    )
