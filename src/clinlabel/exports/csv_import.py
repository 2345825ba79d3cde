"""Reading a labels CSV back in: the seed tool's `clinical_labels.csv` or our own export.

Encoding
    UTF-8, with or without a byte-order mark, and nothing else. We do not guess cp1252 or
    Latin-1: almost any byte string decodes "cleanly" as cp1252, so a guess would silently turn
    a Mac Roman or Latin-2 file's patient folders into different names. A file that is not UTF-8
    is refused with the first bad byte's line and how to re-save the file as UTF-8.

Columns
    `case, visit, file, label` are required, `comment` and `frame` are read when present; any
    other column (the detailed export's annotator, labelled_at_utc, ...) is ignored. Column names
    are matched without regard to letter case or surrounding spaces. The delimiter is a comma;
    a header that only makes sense split on `;` or tab (Excel in many European locales) is read
    with that delimiter.

Formula guard
    Cells are passed through `unguard_cell`, which strips exactly the one apostrophe our export
    adds in front of text starting with `=`, `+`, `-`, `@`, tab or carriage return.

Matching rows to images lives in `import_matching`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

from clinlabel.domain.labels import MAX_FRAME
from clinlabel.errors import ImportFileError
from clinlabel.exports.formula_guard import unguard_cell

REQUIRED_COLUMNS: tuple[str, ...] = ("case", "visit", "file", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("comment", "frame")


class _RowReader(Protocol):
    """What `csv.reader` returns, as its documentation describes it (rows and `line_num`)."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


_RESAVE_HINT = (
    "Re-save it as UTF-8: in Excel choose 'CSV UTF-8 (Comma delimited)', in LibreOffice tick"
    " 'Edit filter settings' and choose 'Unicode (UTF-8)'."
)
_MAX_BAD_LINES = 5


class ImportRow(NamedTuple):
    """One data row of a labels CSV, with the line of the file it starts on (header = line 1).

    A named tuple: a bulk import makes one per row, and a frozen dataclass's construction
    (a guarded attribute set per field) cost several times as much."""

    line: int
    case: str
    visit: str
    file: str
    label: str
    comment: str
    frame: int = 0


def read_labels_csv(path: Path) -> list[ImportRow]:
    """Parse the labels CSV at `path`, or raise ImportFileError saying what is wrong and where."""
    return list(iter_labels_csv(path))


def iter_labels_csv(path: Path) -> Iterator[ImportRow]:
    """The rows of the labels CSV at `path`, read as they are needed (a million rows never sit
    in memory at once); ImportFileError, as `read_labels_csv` raises it, where a problem shows.

    Malformed rows are gathered (up to a few) and raised together once found: rows already
    yielded must then be dropped by the caller, as an import does (nothing is written before
    the whole file has been read).
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    with handle:
        if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise ImportFileError(
                f"{path} is UTF-16 (Excel's 'Unicode Text'), not a UTF-8 CSV.", hint=_RESAVE_HINT
            )
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        try:
            yield from _parse(text, path)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path) from exc
        except OSError as exc:
            raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _parse(text: io.TextIOWrapper, path: Path) -> Iterator[ImportRow]:
    first = text.readline()
    blank = [first]
    while not "".join(blank).strip():
        more = text.readline()
        if not more:
            raise ImportFileError(
                f"{path} is empty.",
                hint="Choose a labels CSV with a header row and at least one row.",
            )
        blank.append(more)
    delimiter = _delimiter(first)
    lines = itertools.chain(blank, text)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        positions = _column_positions(header, path)
        yield from _rows(reader, positions, width=len(header), path=path)
    except csv.Error as exc:
        raise ImportFileError(
            f"{path} is not a well-formed CSV near line {reader.line_num}: {exc}.",
            hint="Check for an unclosed double quote.",
        ) from exc


def _not_utf8(path: Path) -> ImportFileError:
    """The error for a file that is not UTF-8, naming the first bad byte and its line (found by
    reading the file again line by line: only on this path, so reading stays a stream)."""
    with path.open("rb") as raw:
        for line, data in enumerate(raw, start=1):
            if line == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return ImportFileError(
                    f"{path} is not UTF-8: byte 0x{data[exc.start]:02X} on line {line} is not"
                    " valid UTF-8 (the file was probably saved as Windows-1252 or Latin-1).",
                    hint=_RESAVE_HINT,
                )
    return ImportFileError(f"{path} is not UTF-8.", hint=_RESAVE_HINT)  # pragma: no cover


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    for delimiter in (",", ";", "\t"):
        names = {_normalise(name) for name in first_line.split(delimiter)}
        if names.issuperset(REQUIRED_COLUMNS):
            return delimiter
    return ","  # let the column check name what it found


def _normalise(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def _column_positions(header: list[str], path: Path) -> dict[str, int]:
    names = [_normalise(name) for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if names.count(name) > 1} & {*REQUIRED_COLUMNS})
    if missing or repeated:
        found = ", ".join(repr(name) for name in header) or "none"
        problem = f"lacks {', '.join(missing)}" if missing else f"repeats {', '.join(repeated)}"
        raise ImportFileError(
            f"{path} has the wrong columns: it {problem}. Found: {found}.",
            hint=f"Expected {', '.join((*REQUIRED_COLUMNS, 'comment'))}"
            " (comment optional; other columns are ignored).",
        )
    wanted = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    return {name: names.index(name) for name in wanted if name in names}


def _rows(
    reader: _RowReader, positions: dict[str, int], *, width: int, path: Path
) -> Iterator[ImportRow]:
    case_at, visit_at, file_at, label_at = (positions[name] for name in REQUIRED_COLUMNS)
    comment_at = positions.get("comment")
    frame_at = positions.get("frame")
    needed = max(positions.values()) + 1
    rows = 0
    bad: list[str] = []
    line = reader.line_num + 1  # the line the next record starts on
    for record in reader:
        start, line = line, reader.line_num + 1
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank lines carry no label
        if len(record) < needed:
            bad.append(f"line {start} has {len(record)} fields, the header has {width}")
        else:
            frame = _frame(record[frame_at], start, bad) if frame_at is not None else 0
            rows += 1
            case, visit, file = record[case_at], record[visit_at], record[file_at]
            label = record[label_at]
            comment = "" if comment_at is None else record[comment_at]
            # Only a cell starting with an apostrophe can carry the export's guard.
            if "'" in (case[:1], visit[:1], file[:1], label[:1], comment[:1]):
                case, visit, file = unguard_cell(case), unguard_cell(visit), unguard_cell(file)
                label, comment = unguard_cell(label), unguard_cell(comment)
            yield ImportRow(start, case, visit, file, label, comment, frame)
        if len(bad) >= _MAX_BAD_LINES:
            break
    if bad:
        raise ImportFileError(
            f"{path} has malformed rows: {'; '.join(bad)}.",
            hint="Fix those rows (or remove them) and import again; nothing was imported.",
        )
    if not rows:
        raise ImportFileError(f"{path} has a header but no label rows.")


def _frame(cell: str, line: int, bad: list[str]) -> int:
    text = cell.strip()
    if not text:
        return 0
    # ASCII digits only: str.isdigit() also takes "²" and other digits int() refuses. Bounded
    # before int() (which refuses very long digit strings) and before the database (64-bit).
    if text.isascii() and text.isdigit():
        if len(text) <= len(str(MAX_FRAME)) and int(text) <= MAX_FRAME:
            return int(text)
        bad.append(f"line {line} has frame {_shown(cell)}, more than any image has")
        return 0
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        bad.append(f"line {line} has frame {_shown(cell)}; frames are numbered from 1")
        return 0
    bad.append(f"line {line} has frame {_shown(cell)}, which is not a whole number")
    return 0


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 24 else cell[:20] + "...")
