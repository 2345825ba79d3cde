"""Matching the rows of an imported labels CSV to the images of a project.

The seed tool writes only the bare file name (`img1.jpg`) in its `file` column, while a visit
may hold `XC/img1.jpg` and `CLINICAL/img1.jpg`. A row is matched, within its case and visit, to
the image whose path below the visit equals `file`, or else to the one image whose base name
equals it. Several images with that base name make the row ambiguous; we report the candidates
rather than pick one, because a label on the wrong photograph is worse than no label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from clinlabel.exports.csv_import import ImportRow


class AmbiguousRow(NamedTuple):
    """A row whose file name fits several images of its visit: a bare name in several folders,
    or a name with a backslash that is one image's name and another's Windows path."""

    row: ImportRow
    candidates: tuple[str, ...]
    """Relative paths of the images it could mean, in the order the images were given."""


class UnknownRow(NamedTuple):
    """A row that fits no image, with the reason (no such case, visit or file)."""

    row: ImportRow
    reason: str


class DuplicateRows(NamedTuple):
    """Several rows for one image (and frame): the last one wins, the others are listed."""

    relpath: str
    frame: int
    kept: ImportRow
    superseded: tuple[ImportRow, ...]


@dataclass(slots=True)
class ImportMatch:
    """The outcome of matching: what can be imported and what needs a person's look."""

    matched: list[tuple[ImportRow, str]] = field(default_factory=list)
    """One (row, relpath) per image and frame, in file order of the winning rows."""
    ambiguous: list[AmbiguousRow] = field(default_factory=list)
    unknown: list[UnknownRow] = field(default_factory=list)
    duplicates: list[DuplicateRows] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when every row found exactly one image and no image was named twice."""
        return not (self.ambiguous or self.unknown or self.duplicates)


class ImageIndex:
    """Images by case, visit and path below the visit (and by bare name), for matching rows.

    Built for a whole batch by `match_import_rows`, or for the cases and visits of one chunk of
    rows by a streaming import: matching a row needs only the images of its own visit.
    """

    def __init__(
        self, images: Iterable[tuple[str, str, str, str]], *, cases: Iterable[str] = ()
    ) -> None:
        """`cases`: more case names known to exist (a chunk's index holds only some visits)."""
        self.by_file: dict[tuple[str, str, str], str] = {}
        self.cases: set[str] = set(cases)
        for image, case, visit, below_visit in images:
            self.by_file[(case, visit, below_visit)] = image
        self.visits: set[tuple[str, str]] = {(case, visit) for case, visit, _ in self.by_file}
        self.cases.update(case for case, _ in self.visits)
        self._by_name: dict[tuple[str, str, str], list[str]] | None = None

    @property
    def by_name(self) -> dict[tuple[str, str, str], list[str]]:
        """Images by case, visit and bare name: made when a row first needs it (the seed's bare
        names do; a clinlabel CSV names every file by its path below the visit)."""
        if self._by_name is None:
            self._by_name = {}
            for (case, visit, below_visit), image in self.by_file.items():
                key = (case, visit, below_visit.rsplit("/", 1)[-1])
                self._by_name.setdefault(key, []).append(image)
        return self._by_name

    def match(self, row: ImportRow) -> str | AmbiguousRow | UnknownRow:
        """The relative path of the one image `row` names, or why there is none."""
        file = row.file
        if "\\" not in file:
            exact = self.by_file.get((row.case, row.visit, file))
            if exact is not None:  # the common row, in one look-up
                return exact
        meant = self._as_written(row.case, row.visit, file)
        if "\\" in file:
            # Tools on Windows may write `XC\img1.jpg`; image identities always use `/`. On
            # Linux or macOS a backslash may also be part of a file's name, which clinlabel's
            # own export writes as it is. A name that means one image as written and another
            # read the Windows way is ambiguous: nothing says which one the person meant.
            windows = self.by_file.get((row.case, row.visit, file.replace("\\", "/")))
            if windows is not None and windows not in meant:
                meant = [*meant, windows]
        if len(meant) > 1:
            return AmbiguousRow(row, tuple(meant))
        if not meant:
            return UnknownRow(row, _why_unknown(row, self.cases, self.visits))
        return meant[0]

    def _as_written(self, case: str, visit: str, file: str) -> list[str]:
        """The images `file` names as written: the one at that path below the visit, or else,
        for a bare name, every image of the visit with that base name."""
        exact = self.by_file.get((case, visit, file))
        if exact is not None:
            return [exact]
        if "/" in file:
            return []
        return list(self.by_name.get((case, visit, file), []))


def match_import_rows(
    rows: Sequence[ImportRow], images: Iterable[tuple[str, str, str, str]]
) -> ImportMatch:
    """Match `rows` to `images`, given as `(relpath, case, visit, file)`.

    `file` is the image's path below its visit folder, e.g. `XC_CLINICAL/img1.jpg`.
    """
    index = ImageIndex(images)
    result = ImportMatch()
    winners: dict[tuple[str, int], list[ImportRow]] = {}
    for row in rows:
        found = index.match(row)
        if isinstance(found, AmbiguousRow):
            result.ambiguous.append(found)
        elif isinstance(found, UnknownRow):
            result.unknown.append(found)
        else:
            winners.setdefault((found, row.frame), []).append(row)

    for (image, frame), named in winners.items():
        if len(named) > 1:
            result.duplicates.append(DuplicateRows(image, frame, named[-1], tuple(named[:-1])))
    result.matched = sorted(
        ((named[-1], image) for (image, _), named in winners.items()),
        key=lambda pair: pair[0].line,
    )
    return result


def _why_unknown(row: ImportRow, cases: set[str], visits: set[tuple[str, str]]) -> str:
    if row.case not in cases:
        return f"no case {row.case!r} in the batch"
    if (row.case, row.visit) not in visits:
        return f"no visit {row.visit!r} in case {row.case!r}"
    return f"no image {row.file!r} in {row.case}/{row.visit}"
