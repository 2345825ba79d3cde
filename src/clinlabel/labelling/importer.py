"""Taking in an existing labels CSV (the seed tool's or our own) as audited label events.

All or nothing: the rows are checked first (every row must name exactly one image and a label
the project knows, with a comment where the label needs one); then every label is written with
its event in one transaction. With `skip_unmatched`, rows that cannot be placed are reported
and left out, and the rest go in.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from json.encoder import encode_basestring
from pathlib import Path

from sqlalchemy.engine import Connection

from clinlabel.audit.bulk_log import ImageEvent, append_image_events
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.landing import watching
from clinlabel.audit.log import append_event, utc_now
from clinlabel.domain.progress import ProgressSink, no_progress
from clinlabel.errors import ImportFileError, ValidationError
from clinlabel.exports.csv_import import ImportRow, iter_labels_csv
from clinlabel.exports.import_matching import (
    AmbiguousRow,
    DuplicateRows,
    ImageIndex,
    ImportMatch,
    UnknownRow,
)
from clinlabel.labelling.import_hashes import FileHashing, Pending
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import clean_annotator_name
from clinlabel.labelling.worklist import (
    check_import_worklist,
    final_first_reads,
    final_reads_changed,
)
from clinlabel.store import images as image_rows
from clinlabel.store import imports as import_rows
from clinlabel.store import people
from clinlabel.store.label_counts import count_first_labels, recount_label_cases
from clinlabel.store.page_cache import WRITE_CACHE_KIB, large_cache

_SHOWN = 10
CHUNK = 2000
"""Rows read, matched and written together: the import holds a chunk, never the whole file."""

_INVALID = 0xFFFF  # the label slot of a staged row whose label breaks a rule


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    unchanged: int = 0
    match: ImportMatch = field(default_factory=ImportMatch)
    """What could not be placed. A streamed import leaves `match.matched` empty: the rows it
    placed are counted in `imported` and `unchanged`, not kept."""
    invalid: list[tuple[ImportRow, str]] = field(default_factory=list)
    outside_worklist: int = 0
    """Rows imported for images outside the reader's worklist of the project's study."""
    interrupted: bool = False
    """Ctrl+C came as the labels were committed: the import is saved, the caller interrupted."""


@dataclass(slots=True)
class _Staged:
    """The placed rows, a few bytes each (a million rows take about 35 MB): line, image, frame,
    label (an index into `names`) and comment, in file order; and which images (a bit each)
    and frames (a set: frame rows are rare) were named, to find a row named again as it comes
    (in place of numpy and the sort of every key that found them before)."""

    lines: array[int] = field(default_factory=lambda: array("q"))
    image_ids: array[int] = field(default_factory=lambda: array("q"))
    frames: array[int] = field(default_factory=lambda: array("q"))
    labels: array[int] = field(default_factory=lambda: array("H"))
    comments: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)
    """Each name's index in `names`."""
    invalid: dict[int, tuple[ImportRow, str]] = field(default_factory=dict)
    """Staged rows whose label breaks a rule, by index, with the reason."""
    whole_files: bytearray = field(default_factory=bytearray)
    """A bit per image id: set once a whole-file row for that image is staged."""
    seen: set[int] = field(default_factory=set)
    """The (image, frame) keys of frame rows staged so far (`_key`)."""
    named_again: set[int] = field(default_factory=set)
    """The keys named on more than one line (rare: the last line wins)."""

    def add(self, row: ImportRow, image_id: int, label: str | None, comment: str) -> int:
        self.lines.append(row.line)
        self.image_ids.append(image_id)
        self.frames.append(row.frame)
        if label is None:
            self.labels.append(_INVALID)
        else:
            slot = self.slots.get(label)
            if slot is None:
                if len(self.names) >= _INVALID:
                    raise ImportFileError("The file names more different labels than any project.")
                slot = self.slots[label] = len(self.names)
                self.names.append(label)
            self.labels.append(slot)
        # Empty comments (most of them) all share one string object.
        self.comments.append(comment or "")
        frame = row.frame
        if frame:  # rare: a set of keys
            seen = self.seen
            before = len(seen)
            seen.add(image_id << 31 | frame)  # `_key`, inline: once per row
            if len(seen) == before:
                self.named_again.add(image_id << 31 | frame)
        else:  # a bit per image id: an eighth of a byte a row, where a set took 66 bytes
            byte, bit = image_id >> 3, 1 << (image_id & 7)
            marks = self.whole_files
            if byte >= len(marks):
                marks.extend(bytes(byte + 1 - len(marks) + 4096))
            if marks[byte] & bit:
                self.named_again.add(image_id << 31)
            else:
                marks[byte] |= bit
        return len(self.lines) - 1

    def losers(self) -> set[int]:
        """The rows named again on a later line (the last one to name an image and frame wins).

        Only the keys named again are looked for, in a second pass over the arrays: a file
        without duplicates (nearly every one) costs nothing here."""
        if not self.named_again:
            return set()
        last: dict[int, int] = {}
        lost: set[int] = set()
        again = self.named_again
        for i, (image_id, frame) in enumerate(zip(self.image_ids, self.frames, strict=True)):
            key = _key(image_id, frame)
            if key in again:
                if key in last:
                    lost.add(last[key])
                last[key] = i
        return lost


def _key(image_id: int, frame: int) -> int:
    """One int for an (image, frame) pair: frames are below 2**31 (`MAX_FRAME`)."""
    return image_id << 31 | frame


def _chunks(rows: Iterable[ImportRow]) -> Iterator[list[ImportRow]]:
    stream = iter(rows)
    while chunk := list(islice(stream, CHUNK)):
        yield chunk


READING = "Reading and matching the labels"
WRITING = "Writing labels and their events"


def import_labels(
    project: Project,
    csv_path: Path,
    *,
    annotator: str,
    skip_unmatched: bool = False,
    progress: ProgressSink = no_progress,
    outside_worklist: bool = False,
) -> ImportReport:
    """Import the labels of `csv_path` for `annotator`: all of them in one transaction, or none
    if any row cannot be placed (unless `skip_unmatched`: then the others).

    The file is read twice at most and never held: first to match and check every row (chunks
    of CHUNK rows, each matched against only the visits it names, by index), then the placed
    rows, kept in compact arrays, are written chunk by chunk inside one write transaction.
    `progress` hears the rows read (of the file's lines, counted first: a quoted cell holding a
    line break makes that a slight overestimate) and then the labels written, chunk by chunk.
    """
    annotator = clean_annotator_name(annotator)
    report = ImportReport()
    staged = _Staged()
    total = 0
    expected = _data_lines(csv_path)
    progress(READING, 0, expected)
    with project.store.read() as conn:
        for chunk in _chunks(iter_labels_csv(csv_path)):
            total += len(chunk)
            _stage_chunk(project, conn, chunk, staged, report.match)
            progress(READING, total, max(expected, total))
    progress(READING, total, total)
    losers = staged.losers()
    report.invalid = [staged.invalid[i] for i in sorted(staged.invalid) if i not in losers]
    if losers:
        report.match.duplicates = _duplicates(project, csv_path, staged, losers)
    problems = _describe(report)
    if problems and not skip_unmatched:
        raise ImportFileError(
            f"Nothing was imported from {csv_path}: " + "; ".join(problems) + ".",
            hint="Fix those rows, or run again with --skip-unmatched to import the rest.",
        )
    # The rows to write, as one array (8 bytes a row; a list of ints took 36): the winners whose
    # label keeps the rules. Turned into Python ints a chunk at a time below.
    todo = array(
        "q",
        (
            i
            for i, slot in enumerate(staged.labels)
            if slot != _INVALID and (not losers or i not in losers)
        ),
    )
    # In a reading study: rows outside the reader's worklist only with `outside_worklist`.
    # The ids go lazily: without a study they are never read (a million-row import's memory).
    report.outside_worklist = check_import_worklist(
        project,
        annotator,
        (staged.image_ids[i] for i in todo),
        allow=outside_worklist,
        source=str(csv_path),
    )
    # ... and never a change of a first read that is final (its image comes back as a repeat).
    final = final_first_reads(project, annotator)
    with (
        _saved_if_committed(project, report),
        project.store.write() as conn,
        large_cache(conn, WRITE_CACHE_KIB),
        FileHashing(project.batch, rows=len(todo)) as hashing,
    ):
        now = utc_now()
        annotator_id = people.annotator_id(conn, annotator, now=now)
        # The kept counts of a reader with no label yet are what this import adds.
        first_labels = not import_rows.has_labels(conn, annotator_id=annotator_id)
        writer = _Writer(project, hashing, staged, str(csv_path), annotator, annotator_id, now)
        writer.final = final
        progress(WRITING, 0, len(todo))
        # Each chunk is read and its files sent to the hashing pool before the chunk before it
        # is written: the files are read while this thread builds and writes that chunk.
        # (Winners name each image and frame once, so no chunk reads what another writes.)
        pending: _Chunk | None = None
        with import_rows.label_indexes_built_after(conn, rows=len(todo) if first_labels else 0):
            for start in range(0, len(todo) + CHUNK, CHUNK):
                ahead = writer.read(conn, todo[start : start + CHUNK].tolist(), report)
                if pending is not None:
                    writer.write(conn, pending)
                    progress(WRITING, min(start, len(todo)), len(todo))
                pending = ahead
        if writer.final_changed:
            raise final_reads_changed(annotator, str(csv_path), sorted(writer.final_changed))
        per_case: dict[str, int] = {}
        per_label: dict[tuple[str, str], tuple[int, int]] = {}
        for (case, slot), (labelled, commented) in writer.added.items():
            per_case[case] = per_case.get(case, 0) + labelled
            per_label[(case, staged.names[slot])] = (labelled, commented)
        import_rows.add_counts(
            conn, annotator_id=annotator_id, per_case=per_case, only_these=first_labels
        )
        # The review's kept counts per case and label (store.label_counts): a reader's first
        # labels are the counts; anything else is counted again, once per case.
        if not (
            first_labels
            and count_first_labels(
                conn, annotator_id=annotator_id, actor=annotator, added=per_label
            )
        ):
            recount_label_cases(conn, annotator_id=annotator_id, cases=writer.cases)
        append_event(
            conn,
            NewEvent(
                EventKind.LABELS_IMPORTED,
                annotator,
                {
                    "file": str(csv_path),
                    "rows": total,
                    "imported": report.imported,
                    "unchanged": report.unchanged,
                    "left_out": total - report.imported - report.unchanged,
                },
            ),
        )
    return report


@contextmanager
def _saved_if_committed(project: Project, report: ImportReport) -> Iterator[None]:
    """Around the import's write: a Ctrl+C that comes during the commit is raised once the
    commit has returned, the labels saved. Then the import returns, `report.interrupted`
    set (the caller says what was saved, then that it was interrupted): "nothing was changed"
    would be a lie. The import's own last event tells whether the commit landed."""
    with watching(project.store) as landing:
        try:
            yield
        except KeyboardInterrupt:
            if not landing.landed():
                raise
            report.interrupted = True


def _data_lines(csv_path: Path) -> int:
    """Lines after the header, counted in the raw bytes (fast: no decoding, no parsing), for a
    progress total; 0 if the file cannot be read (reading it properly then says why)."""
    lines = 0
    last = b"\n"
    try:
        with csv_path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return 0
    if last != b"\n":
        lines += 1  # a last line without a line break
    return max(lines - 1, 0)


def _stage_chunk(
    project: Project, conn: Connection, chunk: list[ImportRow], staged: _Staged, match: ImportMatch
) -> None:
    """Match one chunk against the images of the visits it names, check it, keep what fits."""
    visits = {(row.case, row.visit) for row in chunk}
    found = import_rows.images_in_visits(conn, visits)
    seen_cases = {case for _, _, case, _, _ in found}
    index = ImageIndex(
        ((rel, case, visit, file) for _, rel, case, visit, file in found),
        # Cases whose named visits hold nothing: does the case exist at all? (the reason given)
        cases=image_rows.cases_known(conn, {case for case, _ in visits} - seen_cases),
    )
    ids = {rel: image_id for image_id, rel, _, _, _ in found}
    needs_comment = {d.name: d.requires_comment for d in project.schema.labels}
    for row in chunk:
        placed = index.match(row)
        if isinstance(placed, AmbiguousRow):
            match.ambiguous.append(placed)
            continue
        if isinstance(placed, UnknownRow):
            match.unknown.append(placed)
            continue
        comment = row.comment
        required = needs_comment.get(row.label)
        # The common row in one look-up and two string tests: a known label, a comment of
        # printable ASCII (no control, format or invisible character: only the trim of
        # `clean_comment` applies) that is there when the label needs one. Any other row is
        # checked by the schema itself, which says what is wrong.
        if (
            required is not None
            and not row.frame
            and comment.isascii()
            and comment.isprintable()
            and (not required or comment.strip())
        ):
            staged.add(row, ids[placed], row.label, comment.strip())
            continue
        try:
            name, text = project.schema.validate(row.label, row.comment)
            if row.frame:
                _check_frame(project, placed, row.frame)
        except ValidationError as exc:
            at = staged.add(row, ids[placed], None, "")
            staged.invalid[at] = (row, exc.message)
        else:
            staged.add(row, ids[placed], name, text)


def _check_frame(project: Project, relpath: str, frame: int) -> None:
    """A frame label only for a frame the file has (its header says how many)."""
    # Imported here: the image readers are needed only for the rare frame label.
    from clinlabel.imaging.frame_count import check_frame
    from clinlabel.imaging.render import kind_of

    path = project.image_path(relpath)
    check_frame(path, kind_of(path), frame)


def _duplicates(
    project: Project, csv_path: Path, staged: _Staged, losers: set[int]
) -> list[DuplicateRows]:
    """The images (and frames) named on several lines, with those rows: read again from the
    file, for these lines only (rare, so the rows were not kept the first time)."""
    named_again = {(staged.image_ids[i], staged.frames[i]) for i in losers}
    groups: dict[tuple[int, int], list[int]] = {}
    for i in range(len(staged.lines)):
        key = (staged.image_ids[i], staged.frames[i])
        if key in named_again:
            groups.setdefault(key, []).append(staged.lines[i])
    wanted = {line for lines in groups.values() for line in lines}
    rows = {row.line: row for row in iter_labels_csv(csv_path) if row.line in wanted}
    with project.store.read() as conn:
        found: list[DuplicateRows] = []
        for (image_id, frame), lines in groups.items():
            info = image_rows.image_file_info(conn, image_id)
            relpath = "" if info is None else info.relpath
            named = [rows[line] for line in lines]
            found.append(DuplicateRows(relpath, frame, named[-1], tuple(named[:-1])))
    return found


@dataclass(slots=True)
class _Chunk:
    """A chunk of rows read and ready to write once its files are hashed."""

    facts: dict[int, import_rows.ImageFacts]
    changes: list[tuple[int, tuple[str, str] | None]]
    """(staged row, its current label or None) of the rows that change something."""
    unhashed: list[int]
    hashing: Pending
    """The hashes of `unhashed`, in that order."""


class _Writer:
    """Writes chunks of staged rows: each chunk's images and current labels read by key in two
    statements, the missing file hashes computed in the pool, its events chained in one pass
    and every write one executemany. What a row writes is what the label use case writes."""

    def __init__(
        self,
        project: Project,
        hashing: FileHashing,
        staged: _Staged,
        source: str,
        annotator: str,
        annotator_id: int,
        now: str,
    ) -> None:
        self.project = project
        self.hashing = hashing
        self.staged = staged
        self.source = source
        self.annotator = annotator
        self.annotator_id = annotator_id
        self.now = now
        self.quoted_names: list[str] = []
        """The JSON text of each label name in `staged.names`, made as they first appear."""
        self.quoted_source = encode_basestring(source)
        self.added: dict[tuple[str, int], list[int]] = {}
        """Whole-file labels added to present images, per case and label (its index in
        `staged.names`): how many, and how many of those with a comment. The kept counts move
        by them."""
        self.cases: set[str] = set()
        """The cases of the whole-file labels written, whose per-label counts are recounted."""
        self.final: frozenset[int] = frozenset()
        """Images whose first read by this reader is final once given (a study's repeats)."""
        self.final_changed: list[int] = []
        """File lines of the rows that would change such a first read (the import refuses)."""

    def read(self, conn: Connection, rows: list[int], report: ImportReport) -> _Chunk | None:
        """Read what the chunk's rows need, count the unchanged, start hashing its files."""
        if not rows:
            return None
        staged = self.staged
        ids = [staged.image_ids[i] for i in rows]
        facts = import_rows.image_facts(conn, ids)
        olds = import_rows.current_labels(conn, annotator_id=self.annotator_id, image_ids=ids)
        changes: list[tuple[int, tuple[str, str] | None]] = []
        for i in rows:
            old = olds.get((staged.image_ids[i], staged.frames[i]))
            if old == (staged.names[staged.labels[i]], staged.comments[i]):
                report.unchanged += 1
            else:
                changes.append((i, old))
        if self.final:
            self.final_changed.extend(
                int(staged.lines[i])
                for i, _ in changes
                if staged.image_ids[i] in self.final and (staged.image_ids[i], 0) in olds
            )
        report.imported += len(changes)
        # First label, or bytes changed since: hash them now (each file once, in the pool).
        unhashed = sorted(
            {
                image_id
                for image_id in (staged.image_ids[i] for i, _ in changes)
                if facts[image_id].changed or facts[image_id].sha256 is None
            }
        )
        hashing = self.hashing.submit([facts[i].relpath for i in unhashed], rows=len(rows))
        return _Chunk(facts, changes, unhashed, hashing)

    def write(self, conn: Connection, chunk: _Chunk) -> None:
        """Write the chunk's events, labels and hashes (one executemany each)."""
        staged, facts, changes = self.staged, chunk.facts, chunk.changes
        found = dict(zip(chunk.unhashed, chunk.hashing.result(), strict=True))
        image_ids, frames, lines = staged.image_ids, staged.frames, staged.lines
        names, slots, comments = staged.names, staged.labels, staged.comments
        quoted = self.quoted_names
        while len(quoted) < len(names):  # each label name's JSON, once
            quoted.append(encode_basestring(names[len(quoted)]))
        source = self.quoted_source
        new: list[ImageEvent] = []
        row_shas: list[str | None] = []
        for i, old in changes:
            image_id = image_ids[i]
            info = facts[image_id]
            sha = found.get(image_id, info.sha256)
            comment = comments[i]
            sha_json = "null" if sha is None else '"' + sha + '"'  # hexadecimal: no escapes
            # `encode_data` of {"new", "old", "sha256", "source"}, its keys sorted, written as
            # text (the import's one shape of data; the tests check it against encode_data).
            data = (
                f'{{"new":{{"comment":{encode_basestring(comment)},"label":{quoted[slots[i]]}}},'
                f'"old":{_old_json(old)},"sha256":{sha_json},'
                f'"source":{{"import":{source},"line":{int(lines[i])}}}}}'
            )
            kind = EventKind.LABEL_SAVED if old is None else EventKind.LABEL_CHANGED
            new.append((kind, image_id, info.relpath, frames[i], data))
            row_shas.append(sha)
        event_ids = append_image_events(conn, actor=self.annotator, ts_utc=self.now, new=new)
        inserts: list[import_rows.LabelInsert] = []
        updates: list[import_rows.LabelWrite] = []
        added, cases = self.added, self.cases
        for event_id, (i, old), sha in zip(event_ids, changes, row_shas, strict=True):
            image_id, frame = image_ids[i], frames[i]
            row = (image_id, frame, names[slots[i]], comments[i], sha, event_id)
            info = facts[image_id]
            if not frame:
                cases.add(info.case_name)
            if old is not None:
                updates.append(row)
            else:
                inserts.append((*row, *info.name_keys))
                if not frame and info.present:
                    tally = added.get((info.case_name, slots[i]))
                    if tally is None:
                        tally = added[(info.case_name, slots[i])] = [0, 0]
                    tally[0] += 1
                    if comments[i]:
                        tally[1] += 1
        hashes = [(image_id, sha) for image_id, sha in found.items() if sha is not None]
        import_rows.write_labels(
            conn,
            annotator_id=self.annotator_id,
            labelled_at=self.now,
            inserts=inserts,
            updates=updates,
            hashes=hashes,
        )


def _old_json(old: tuple[str, str] | None) -> str:
    """The JSON of the label a row replaces (`encode_data`'s form), or null."""
    if old is None:
        return "null"
    return f'{{"comment":{encode_basestring(old[1])},"label":{encode_basestring(old[0])}}}'


def _describe(report: ImportReport) -> list[str]:
    match = report.match
    parts: list[str] = []
    if match.unknown:
        shown = ", ".join(f"line {u.row.line} ({u.reason})" for u in match.unknown[:_SHOWN])
        parts.append(f"{len(match.unknown)} rows match no image: {shown}")
    if match.ambiguous:
        shown = ", ".join(
            f"line {a.row.line} ({a.row.file} could be {' or '.join(a.candidates)})"
            for a in match.ambiguous[:_SHOWN]
        )
        parts.append(f"{len(match.ambiguous)} rows match several images: {shown}")
    if report.invalid:
        shown = ", ".join(f"line {row.line} ({why})" for row, why in report.invalid[:_SHOWN])
        parts.append(f"{len(report.invalid)} rows have a label that breaks a rule: {shown}")
    return parts
