"""The labels CSV: the seed tool's `clinical_labels.csv`, safe to open in a spreadsheet.

Format
    UTF-8 with a byte-order mark (so Excel shows non-Latin names correctly), RFC 4180 quoting
    (`csv.QUOTE_MINIMAL`, `\\r\\n` line ends), so commas, quotes and new lines in comments
    survive a round trip through Python's csv module and pandas.

Columns
    basic      case, visit, file, label, comment            (the seed's columns, in its order)
    detailed   ... + annotator, labelled_at_utc, seconds, sha256, frame
    `frame` is always in the detailed export. The basic export stays exactly the seed's five
    columns unless the caller passes `frames=True` (the store knows whether any label is for a
    single frame); a frame label reaching a five-column export is refused, because those columns
    could not tell two frames of one file apart.
    geometry   with `geometry=True` (some label was given to an XA/RF frame whose acquisition
    geometry is known) `frame` and the `GEOMETRY_COLUMNS` follow: C-arm angles, distances,
    table position, kVp, frame time; empty where the file does not say.

Formula safety
    A text cell that would start a spreadsheet formula (`=`, `+`, `-`, `@`, tab, carriage return)
    is written with one leading apostrophe (see `formula_guard` and docs/adr/0002). The project
    database keeps the original text; `csv_import` strips exactly that apostrophe again.

The module is called `csv` after the format; `import csv` below still means the standard library
because imports are absolute.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from clinlabel.atomic import atomic_writer
from clinlabel.errors import OutputError
from clinlabel.exports.formula_guard import SUSPECT_FIRST_CHARS, guard_cell
from clinlabel.exports.rows import BASIC_COLUMNS, DETAILED_COLUMNS, FRAME_COLUMN, GEOMETRY_COLUMNS

# Positions in a LabelRow (or a plain tuple in the same order).
_ANNOTATOR, _LABELLED_AT, _SECONDS, _SHA256, _FRAME, _GEOMETRY = 5, 6, 7, 8, 9, 10


def write_labels_csv(
    rows: Iterable[Sequence[object]],
    path: Path,
    *,
    detailed: bool = False,
    frames: bool = False,
    geometry: bool = False,
) -> int:
    """Write the labels CSV to `path` atomically and return the number of rows written.

    `rows` are `LabelRow`s or plain tuples in the same field order (a missing `frame` means 0).
    If the iteration raises, no file appears and any previous file at `path` is left intact.
    """
    # `writerows` does not say how many rows it wrote: the cell generators count into `tally`.
    tally = [0]
    if detailed:
        header: tuple[str, ...] = DETAILED_COLUMNS
        cells: Iterator[Sequence[object]] = _detailed_cells(rows, tally, geometry=geometry)
    elif frames or geometry:
        header = (*BASIC_COLUMNS, FRAME_COLUMN)
        cells = _basic_cells_with_frame(rows, tally, geometry=geometry)
    else:
        header = BASIC_COLUMNS
        cells = _basic_cells(rows, tally)
    if geometry:
        header = (*header, *(name for name, _ in GEOMETRY_COLUMNS))
    with atomic_writer(Path(path), encoding="utf-8", newline="") as handle:
        # The byte-order mark written once by hand: the utf-8-sig codec is pure Python and
        # costs a function call per row.
        handle.write("\ufeff")
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(cells)
    return tally[0]


def _guarded(
    case: str | None, visit: str | None, file: str | None, label: str | None, comment: str | None
) -> tuple[str, ...]:
    # NULL cannot come from clinlabel (the columns are NOT NULL), only from an edited database;
    # the export still writes (empty cells) and `audit verify` reports the break.
    return (guard_cell(case or ""), guard_cell(visit or ""), guard_cell(file or ""),
            guard_cell(label or ""), guard_cell(comment or ""))  # fmt: skip


def _frame_of(row: Sequence[Any]) -> int:
    return int(row[_FRAME]) if len(row) > _FRAME else 0


def _basic_cells(rows: Iterable[Sequence[Any]], tally: list[int]) -> Iterator[Sequence[object]]:
    suspect = SUSPECT_FIRST_CHARS
    n = 0
    try:
        for row in rows:
            n += 1
            # A label without a comment may come from the database as NULL; write an empty cell
            # (and for the other cells, which only an edited database can make NULL).
            case, visit, file = row[0] or "", row[1] or "", row[2] or ""
            label, comment = row[3] or "", row[4] or ""
            if len(row) > _FRAME and row[_FRAME]:
                raise OutputError(
                    f"{case}/{visit}/{file} has a label for frame {row[_FRAME]}, which the"
                    " five-column CSV cannot tell apart from the whole file.",
                    hint="Export with --detailed, which adds a frame column.",
                )
            # One set lookup per cell; the rare suspect row takes the slower, exact path.
            if (
                case[:1] in suspect
                or visit[:1] in suspect
                or file[:1] in suspect
                or label[:1] in suspect
                or comment[:1] in suspect
            ):
                yield _guarded(case, visit, file, label, comment)
            elif len(row) == 5 and None not in row:
                yield row  # a five-cell row from the store needs no copy
            else:
                yield (case, visit, file, label, comment)
    finally:
        tally[0] = n


def _basic_cells_with_frame(
    rows: Iterable[Sequence[Any]], tally: list[int], *, geometry: bool
) -> Iterator[Sequence[object]]:
    return _converted(rows, tally, _basic_row_with_frame, geometry=geometry)


def _detailed_cells(
    rows: Iterable[Sequence[Any]], tally: list[int], *, geometry: bool
) -> Iterator[Sequence[object]]:
    return _converted(rows, tally, _detailed_row, geometry=geometry)


def _converted(
    rows: Iterable[Sequence[Any]],
    tally: list[int],
    convert: Callable[[Sequence[Any]], tuple[object, ...]],
    *,
    geometry: bool,
) -> Iterator[Sequence[object]]:
    n = 0
    try:
        for row in rows:
            n += 1
            cells = convert(row)
            yield (*cells, *_geometry_cells(row)) if geometry else cells
    finally:
        tally[0] = n


def _basic_row_with_frame(row: Sequence[Any]) -> tuple[object, ...]:
    return (*_guarded(row[0], row[1], row[2], row[3], row[4] or ""), _frame_of(row))


def _geometry_cells(row: Sequence[Any]) -> tuple[object, ...]:
    """The acquisition geometry columns of a row: empty cells where a value is unknown."""
    raw = row[_GEOMETRY] if len(row) > _GEOMETRY else None
    values: dict[str, Any] = json.loads(raw) if raw else {}
    return tuple("" if values.get(key) is None else values[key] for _, key in GEOMETRY_COLUMNS)


def _detailed_row(row: Sequence[Any]) -> tuple[object, ...]:
    seconds = row[_SECONDS]
    sha256 = row[_SHA256]
    return (
        *_guarded(row[0], row[1], row[2], row[3], row[4] or ""),
        guard_cell(row[_ANNOTATOR]),
        row[_LABELLED_AT],
        "" if seconds is None else round(seconds, 3),
        "" if sha256 is None else sha256,
        _frame_of(row),
    )
