"""The batch folder itself: is it one we can scan, and what to say when it holds no XC folder."""

from __future__ import annotations

import os
import stat

from clinlabel.discovery.layout import EXPECTED_LAYOUT, is_clinical_folder
from clinlabel.domain import SkippedFolder
from clinlabel.errors import DatasetError


def check_batch_root(path: str) -> str:
    """The real path of a readable batch folder, or a `DatasetError` saying what to do."""
    try:
        info = os.stat(path)
        if not stat.S_ISDIR(info.st_mode):
            hint = "Choose the batch folder that holds the Case folders"
            hint += " (unzip an archive first)." if path.lower().endswith(".zip") else "."
            raise DatasetError(f"The batch is not a folder: {path}.", hint=hint)
        with os.scandir(path):
            pass
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise DatasetError(
            f"Batch folder not found: {path}.",
            hint="Check the path; the batch folder is the one that holds the Case folders.",
        ) from exc
    except PermissionError as exc:
        raise DatasetError(
            f"Cannot read the batch folder {path}: permission denied.",
            hint="Ask for read access, or copy the batch to a folder you can read.",
        ) from exc
    except OSError as exc:
        raise DatasetError(f"Cannot open the batch folder {path}: {exc.strerror or exc}.") from exc
    return os.path.realpath(path)


def no_clinical_folder_error(
    root: str, *, misplaced: str | None, skipped: list[SkippedFolder]
) -> DatasetError:
    """The error for a batch without any XC/CLINICAL folder, with the likeliest mistake named.

    `misplaced` is the first XC/CLINICAL-named folder seen where a case or visit was expected.
    """
    hint = (
        f"Expected {EXPECTED_LAYOUT}: in each Visit folder, a folder whose name contains XC or "
        "CLINICAL."
    )
    loose = any(folder.relpath == "." for folder in skipped)
    if loose and is_clinical_folder(os.path.basename(os.path.normpath(root))):
        hint += " You chose an XC/CLINICAL folder itself: choose the batch folder above it."
    elif misplaced is not None:
        hint += (
            f" '{misplaced}' is an XC/CLINICAL folder at the wrong depth: choose the folder that "
            "holds the Case folders."
        )
    elif holding := [folder for folder in skipped if folder.image_count]:
        hint += f" Images were found only in '{holding[0].relpath}' and other skipped places."
    return DatasetError(f"No XC or CLINICAL folder found in {root}.", hint=hint)
