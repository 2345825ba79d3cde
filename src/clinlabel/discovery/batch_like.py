"""Does a folder look like a batch? Used to keep outputs and projects out of any batch.

clinlabel never writes inside a batch. The batch being labelled is known, but an output path can
also land in another batch (a `render -o` next to the file it renders, a project folder typed on
the start page inside last month's batch), so a folder is judged by its contents: it looks like a
batch when most of its folders are cases, a case being a folder with a visit folder holding an
XC/CLINICAL folder with a file in it. "Most" (of the first `_SAMPLE` folders by name) and not
"one": a home or scratch folder holding one case-shaped folder among many others is not a batch,
and must not make every path below it forbidden. The look is bounded (`_MAX_LISTINGS` folder
listings per question), so asking about a folder with thousands of subfolders stays quick.
"""

from __future__ import annotations

import os
from pathlib import Path

from clinlabel.discovery.layout import is_clinical_folder, is_hidden

_MAX_LISTINGS = 400
_SAMPLE = 25


class _Budget:
    def __init__(self, listings: int) -> None:
        self.left = listings

    def folders(self, path: str) -> list[os.DirEntry[str]]:
        """The visible subfolders of `path` (none once the listing budget is spent)."""
        if self.left <= 0:
            return []
        self.left -= 1
        try:
            with os.scandir(path) as entries:
                return [
                    e for e in entries if not is_hidden(e.name) and e.is_dir(follow_symlinks=False)
                ]
        except OSError:
            return []

    def has_file(self, path: str) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        try:
            with os.scandir(path) as entries:
                return any(not is_hidden(e.name) and e.is_file() for e in entries)
        except OSError:
            return False


def looks_like_batch(folder: Path) -> bool:
    """True when most of `folder`'s folders are cases (Visit/XC folders with a file)."""
    return _looks_like_batch(str(folder), _Budget(_MAX_LISTINGS))


def _looks_like_batch(folder: str, budget: _Budget) -> bool:
    sample = sorted(budget.folders(folder), key=lambda entry: entry.name)[:_SAMPLE]
    cases = sum(1 for entry in sample if _is_case(entry.path, budget))
    return cases > 0 and 2 * cases > len(sample)


def _is_case(folder: str, budget: _Budget) -> bool:
    for visit in budget.folders(folder):
        for clinical in budget.folders(visit.path):
            if is_clinical_folder(clinical.name) and budget.has_file(clinical.path):
                return True
    return False


def enclosing_batch(path: Path) -> Path | None:
    """The nearest folder above `path` (or `path` itself) that looks like a batch, if any.

    `path` need not exist: its nearest existing ancestor is where the look starts.
    """
    resolved = path.expanduser().resolve()
    for folder in (resolved, *resolved.parents):
        if folder.is_dir() and looks_like_batch(folder):
            return folder
    return None
