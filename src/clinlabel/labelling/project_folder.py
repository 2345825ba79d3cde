"""Where a project may go when the user types its folder on the start page.

The start page takes any path, so it guards against the two likely slips before anything is
created: a folder inside a batch of images (this batch or another: a folder that holds
Case/Visit/XC images, at any level above the chosen one), where clinlabel never writes, and a
folder already holding the user's own files, which a project would be mixed into. An existing
clinlabel project is fine (resuming is the common case); so is an empty or new folder.
"""

from __future__ import annotations

from pathlib import Path

from clinlabel.discovery.batch_like import enclosing_batch
from clinlabel.discovery.layout import is_hidden
from clinlabel.errors import OutputError
from clinlabel.labelling.project_basics import SETTINGS_FILE
from clinlabel.store.sqlite_file import DATABASE_FILE


def is_project_folder(folder: Path) -> bool:
    """True for a folder clinlabel made a project of (its database or its settings file)."""
    return (folder / DATABASE_FILE).is_file() or (folder / SETTINGS_FILE).is_file()


def check_project_folder(text: str) -> Path:
    """The resolved folder typed on the start page, or an `OutputError` saying why a project
    cannot go there."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise OutputError("The project folder's path holds a control character; retype it.")
    try:
        folder = Path(text).expanduser()
    except RuntimeError as exc:  # "~someone" whose home folder is unknown
        raise OutputError(f"Cannot find the home folder in {text!r}: {exc}.") from exc
    if not folder.is_absolute():
        # Relative to what the server was started in, which the annotator cannot see.
        raise OutputError(
            f"Type the project folder's full path, not {text!r}.",
            hint="For example the suggested one, next to the batch folder.",
        )
    resolved = folder.resolve()
    batch = enclosing_batch(resolved)
    if batch is not None:
        raise OutputError(
            f"The project folder {resolved} is inside the batch folder {batch} (it holds "
            "Case/Visit/XC images); clinlabel never writes inside a batch.",
            hint="Choose a folder outside it, e.g. next to the batch folder.",
        )
    if resolved.exists() and not resolved.is_dir():
        raise OutputError(f"The project folder {resolved} is a file, not a folder.")
    if resolved.is_dir() and not is_project_folder(resolved):
        try:
            others = [entry.name for entry in resolved.iterdir() if not is_hidden(entry.name)]
        except OSError as exc:
            raise OutputError(f"Cannot read the folder {resolved}: {exc.strerror or exc}.") from exc
        if others:
            raise OutputError(
                f"The folder {resolved} already holds other files ({', '.join(sorted(others)[:3])}"
                f"{', ...' if len(others) > 3 else ''}) and is not a clinlabel project.",
                hint="Choose an empty or new folder, or an existing clinlabel project.",
            )
    return resolved
