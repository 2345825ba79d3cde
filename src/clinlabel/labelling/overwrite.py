"""Where may an output go? One rule for `render -o`, `export --csv` and `report --txt`.

An output goes where the user says, and a typo must cost nothing. Two kinds of rule:

- Places no output ever goes, whatever `--force` says (`check_output_location`): over the image
  being rendered; inside a batch, the project's own or any folder that looks like one
  (`discovery.batch_like`, the originals stay as they are); over a project's database (with
  its WAL, shared-memory and journal files), its settings or its lock file, this project's or
  another's, which would take the labels and their audit trail with it; a folder.
- A file already at the path (`check_overwrite`) is replaced only when it is recognisably one
  of ours: a labels CSV starts with clinlabel's header row (`case,visit,file,label,comment`,
  or `case,visit,file,frame,label,comment` for the frame labels CSV, after an optional
  byte-order mark), a summary report with its title. A rendered PNG cannot be
  told from anyone's PNG, so any existing file at `render -o` is kept. Anything else needs
  `--force`.

`check_output_target` applies both, places first: a user told to add `--force` must not then be
told the place is forbidden anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from clinlabel.discovery.batch_like import enclosing_batch
from clinlabel.errors import OutputError
from clinlabel.exports.rows import BASIC_COLUMNS, FRAME_COLUMNS
from clinlabel.labelling.project_basics import LOCK_FILE, SETTINGS_FILE
from clinlabel.labelling.project_folder import is_project_folder
from clinlabel.store.sqlite_file import DATABASE_FILE

OutputKind = Literal["csv", "report", "png"]
_NAMES = {"csv": "a clinlabel labels CSV", "report": "a clinlabel summary report"}
_SNIFF_BYTES = 4096
# SQLite keeps a database's pending changes beside it, so replacing one of these loses them
# too; the lock file is what keeps a second server off the project.
_PROJECT_FILES = frozenset(
    {
        DATABASE_FILE,
        f"{DATABASE_FILE}-wal",
        f"{DATABASE_FILE}-shm",
        f"{DATABASE_FILE}-journal",
        SETTINGS_FILE,
        LOCK_FILE,
    }
)


def is_clinlabel_output(path: Path, kind: OutputKind) -> bool:
    """True when the file at `path` starts as clinlabel writes a `kind` output."""
    if kind == "png":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines()
    if kind == "csv":
        return bool(lines) and lines[0].startswith(
            (",".join(BASIC_COLUMNS), ",".join(FRAME_COLUMNS[:6]))
        )
    # Imported here: the report renderers are not needed to write a CSV.
    from clinlabel.reports.text import TITLE

    return TITLE in lines[:3]


def check_output_location(
    path: Path, *, batch: Path | None = None, source: Path | None = None
) -> Path:
    """The resolved `path`, or an `OutputError` when no output may ever be written there.

    `batch` is the project's own batch (refused even when it does not look like one);
    `source` is the file an output is made from (`render`'s image).
    """
    target = path.expanduser().resolve()
    if source is not None and (
        target == source.resolve() or (target.exists() and target.samefile(source))
    ):
        raise OutputError(
            f"{path} is the image being rendered; clinlabel never writes over an original.",
            hint="Give another output path.",
        )
    inside = (
        batch.resolve() if batch is not None and target.is_relative_to(batch.resolve()) else None
    )
    inside = inside or enclosing_batch(target.parent)
    if inside is not None:
        raise OutputError(
            f"{path} is inside the batch folder {inside}; clinlabel never writes inside a batch.",
            hint="Choose a path outside it, e.g. in the project folder.",
        )
    if target.name in _PROJECT_FILES and is_project_folder(target.parent):
        raise OutputError(
            f"{path} belongs to the clinlabel project in {target.parent} (its labels and audit "
            "trail); no output replaces it, with or without --force.",
            hint="Choose another file name.",
        )
    if target.is_dir():
        raise OutputError(f"{path} is a folder; give a file name.")
    return target


def check_overwrite(path: Path, kind: OutputKind, *, force: bool) -> None:
    """`OutputError` when `path` holds a file that is not a clinlabel `kind` output (no --force)."""
    if force or not path.exists() or path.is_dir():
        return  # a folder is refused by `check_output_location`
    if is_clinlabel_output(path, kind):
        return
    what = f"is not {_NAMES[kind]}" if kind in _NAMES else "may be someone's file"
    raise OutputError(
        f"{path} already exists and {what}; it was left as it is.",
        hint="Choose another path, or add --force to replace it.",
    )


def check_output_target(
    path: Path,
    kind: OutputKind,
    *,
    force: bool,
    batch: Path | None = None,
    source: Path | None = None,
) -> Path:
    """Both rules, places first; the resolved path to write to."""
    target = check_output_location(path, batch=batch, source=source)
    check_overwrite(target, kind, force=force)
    return target
