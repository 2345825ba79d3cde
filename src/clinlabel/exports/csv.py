"""The labels CSVs: the seed tool's `clinical_labels.csv` and `clinical_frame_labels.csv`.

Format
    UTF-8 with a byte-order mark (so Excel shows non-Latin names correctly), RFC 4180 quoting
    (`csv.QUOTE_MINIMAL`, `\\r\\n` line ends), so commas, quotes and new lines in comments
    survive a round trip through Python's csv module and pandas.

Columns (`rows.py`; every column is described in the README, "Outputs")
    labels       case, visit, file, label, comment: the seed's five, in its order, one row per
                 labelled image (its whole-file label), whatever the batch holds.
    --detailed   ... + annotator, labelled_at_utc, seconds, sha256, then the acquisition
                 geometry columns (empty where unknown): the same set for every project.
    frame labels case, visit, file, frame, label, comment, then the geometry columns; with
                 --detailed also annotator, labelled_at_utc, seconds, sha256. One row per label
                 of a single frame or slice: the labels CSV never carries those, so its rows
                 stay one per image and its columns five.

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
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, cast

from clinlabel.atomic import atomic_writer
from clinlabel.errors import OutputError
from clinlabel.exports.formula_guard import SUSPECT_FIRST_CHARS, guard_cell
from clinlabel.exports.rows import (
    BASIC_COLUMNS,
    DETAILED_COLUMNS,
    FRAME_COLUMNS,
    FRAME_DETAILED_COLUMNS,
    GEOMETRY_COLUMNS,
)

# Positions in a LabelRow (or a plain tuple in the same order).
_ANNOTATOR, _LABELLED_AT, _SECONDS, _SHA256, _FRAME, _GEOMETRY = 5, 6, 7, 8, 9, 10


def write_labels_csv(
    rows: Iterable[Sequence[object]], path: Path, *, detailed: bool = False
) -> int:
    """Write `clinical_labels.csv` to `path` atomically and return the number of rows written.

    `rows` are whole-file labels: `LabelRow`s or plain tuples in the same field order (five
    fields are enough without `detailed`). A frame label is refused (`OutputError`): it belongs
    in the frame labels CSV. If the iteration raises, no file appears and any previous file at
    `path` is left intact.
    """
    # `writerows` does not say how many rows it wrote: the cell generators count into `tally`.
    tally = [0]
    if detailed:
        header: tuple[str, ...] = DETAILED_COLUMNS
        cells = _converted(rows, tally, _detailed_row)
    else:
        header = BASIC_COLUMNS
        cells = _basic_cells(rows, tally)
    return _write(path, header, cells, tally)


def write_labels_csv_batches(
    batches: Iterable[Sequence[Sequence[str | None]]],
    path: Path,
    *,
    written: Callable[[int], None] | None = None,
) -> int:
    """`write_labels_csv` of whole-file labels handed over in batches of five-cell rows, as the
    store reads them (`store.exports.iter_image_label_batches`); returns the number of rows.

    A batch in which no cell needs the formula guard (nearly all of them) goes to the csv
    module as it is, without a Python step per row; any other batch takes `write_labels_csv`'s
    row by row path, so the file is the same either way. `written` is told the rows so far
    after each batch (a progress bar).
    """
    tally = [0]
    with atomic_writer(Path(path), encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")  # see `_write`
        writer = csv.writer(handle)
        writer.writerow(BASIC_COLUMNS)
        rows = 0
        for batch in batches:
            if _needs_no_guard(batch):
                writer.writerows(batch)
            else:
                writer.writerows(_basic_cells(batch, tally))
            rows += len(batch)
            if written is not None:
                written(rows)
    return rows


Cells = Sequence[Sequence[str]]
_CELL_START = "\x00"
# One search for all of them: a NUL then any suspect character (measured at 100,000 rows:
# 18 ms, against 52 ms for one `in` search per character).
_SUSPECT_START = re.compile(
    _CELL_START + "[" + re.escape("".join(sorted(SUSPECT_FIRST_CHARS))) + "]"
)


def _needs_no_guard(batch: Sequence[Sequence[str | None]]) -> bool:
    """No cell of `batch` is NULL or starts with a character `guard_cell` looks at.

    The cells are joined into one text, each preceded by a NUL (which no path, label or
    comment holds; one that did would only send its batch down the exact path), and that text
    searched once for a NUL followed by any suspect character: C loops instead of five Python
    look-ups per row.
    """
    try:
        # A None raises here (typed as text: the join is where it is found).
        text = _CELL_START + _CELL_START.join(chain.from_iterable(cast(Cells, batch)))
    except TypeError:  # a NULL cell (an edited database): the row by row path writes it empty
        return False
    return _SUSPECT_START.search(text) is None


def write_frame_labels_csv(
    rows: Iterable[Sequence[object]], path: Path, *, detailed: bool = False
) -> int:
    """Write `clinical_frame_labels.csv` (labels of single frames or slices) atomically.

    `rows` are `LabelRow`s (or tuples in that order) with a frame of 1 or more; returns the
    number of rows written.
    """
    tally = [0]
    header = FRAME_DETAILED_COLUMNS if detailed else FRAME_COLUMNS
    convert = _frame_detailed_row if detailed else _frame_row
    return _write(path, header, _converted(rows, tally, convert), tally)


def _write(
    path: Path, header: Sequence[str], cells: Iterable[Sequence[object]], tally: list[int]
) -> int:
    with atomic_writer(Path(path), encoding="utf-8", newline="") as handle:
        # The byte-order mark written once by hand: the utf-8-sig codec is pure Python and
        # costs a function call per row.
        handle.write("\ufeff")
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(cells)
    return tally[0]


def _frame_label_refused(row: Sequence[Any]) -> OutputError:
    return OutputError(
        f"{row[0]}/{row[1]}/{row[2]} has a label for frame {row[_FRAME]}, which belongs in the"
        " frame labels CSV, not in the one-row-per-image labels CSV.",
        hint="Export with clinlabel export, which writes clinical_frame_labels.csv beside it.",
    )


def _guarded(
    case: str | None, visit: str | None, file: str | None, label: str | None, comment: str | None
) -> tuple[str, ...]:
    # NULL cannot come from clinlabel (the columns are NOT NULL), only from an edited database;
    # the export still writes (empty cells) and `audit verify` reports the break.
    return (guard_cell(case or ""), guard_cell(visit or ""), guard_cell(file or ""),
            guard_cell(label or ""), guard_cell(comment or ""))  # fmt: skip


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
                raise _frame_label_refused(row)
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


def _converted(
    rows: Iterable[Sequence[Any]],
    tally: list[int],
    convert: Callable[[Sequence[Any]], tuple[object, ...]],
) -> Iterator[Sequence[object]]:
    n = 0
    try:
        for row in rows:
            n += 1
            yield convert(row)
    finally:
        tally[0] = n


def _geometry_cells(row: Sequence[Any]) -> tuple[object, ...]:
    """The acquisition geometry columns of a row: empty cells where a value is unknown."""
    raw = row[_GEOMETRY] if len(row) > _GEOMETRY else None
    values: dict[str, Any] = json.loads(raw) if raw else {}
    # Numbers as they are; a text (a DICOM may store a number with a text VR, kept as read) is
    # guarded like any other cell.
    return tuple(
        "" if value is None else guard_cell(value) if isinstance(value, str) else value
        for value in (values.get(key) for _, key in GEOMETRY_COLUMNS)
    )


def _extra_cells(row: Sequence[Any]) -> tuple[object, ...]:
    seconds = row[_SECONDS]
    sha256 = row[_SHA256]
    return (
        guard_cell(row[_ANNOTATOR] or ""),
        row[_LABELLED_AT],
        "" if seconds is None else round(seconds, 3),
        "" if sha256 is None else sha256,
    )


def _detailed_row(row: Sequence[Any]) -> tuple[object, ...]:
    if len(row) > _FRAME and row[_FRAME]:
        raise _frame_label_refused(row)
    return (
        *_guarded(row[0], row[1], row[2], row[3], row[4] or ""),
        *_extra_cells(row),
        *_geometry_cells(row),
    )


def _frame_cells(row: Sequence[Any]) -> tuple[object, ...]:
    case, visit, file, label, comment = _guarded(row[0], row[1], row[2], row[3], row[4] or "")
    return (case, visit, file, int(row[_FRAME]), label, comment, *_geometry_cells(row))


def _frame_row(row: Sequence[Any]) -> tuple[object, ...]:
    return _frame_cells(row)


def _frame_detailed_row(row: Sequence[Any]) -> tuple[object, ...]:
    return (*_frame_cells(row), *_extra_cells(row))


# ---- a team project's readers side by side (issue 13: `clinlabel export --readers`) ----------

#: After the readers' columns: the reviewer's final label and the reason given for it.
ADJUDICATED_COLUMNS = ("adjudicated_label", "adjudication_reason")


def readers_header(readers: Sequence[str]) -> tuple[str, ...]:
    """case, visit, file, one column per reader (named after them), then the adjudication."""
    taken = {*BASIC_COLUMNS[:3], *ADJUDICATED_COLUMNS}
    # A reader called like a fixed column keeps their column apart.
    named = tuple(f"{r} (reader)" if r in taken else r for r in readers)
    return (*BASIC_COLUMNS[:3], *named, *ADJUDICATED_COLUMNS)


def write_readers_csv(
    rows: Iterable[Sequence[object]], path: Path, *, readers: Sequence[str]
) -> int:
    """Write the readers CSV atomically: one row per labelled image, `readers_header` columns,
    every text cell formula-guarded as in the labels CSV. Returns the number of rows."""
    tally = [0]

    def guarded(row: Sequence[Any]) -> tuple[object, ...]:
        return tuple(guard_cell(str(cell or "")) for cell in row)

    header = tuple(guard_cell(name) for name in readers_header(readers))
    return _write(path, header, _converted(rows, tally, guarded), tally)
