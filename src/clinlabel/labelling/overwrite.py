"""May an output replace the file already at its path? Only when that file is a clinlabel output.

`export --csv PATH` and `report --txt PATH` write where the user says. A typo (`--csv
notes.csv`, `--txt thesis.txt`) must not silently replace someone's own file, so an existing file
is replaced only when it is recognisably one of ours: a labels CSV starts with clinlabel's
header row (`case,visit,file,label,comment`, after an optional byte-order mark), a summary report
with its title. Anything else needs `--force`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from clinlabel.errors import OutputError
from clinlabel.exports.rows import BASIC_COLUMNS
from clinlabel.reports.text import TITLE

OutputKind = Literal["csv", "report"]
_NAMES = {"csv": "a clinlabel labels CSV", "report": "a clinlabel summary report"}
_SNIFF_BYTES = 4096


def is_clinlabel_output(path: Path, kind: OutputKind) -> bool:
    """True when the file at `path` starts as clinlabel writes a `kind` output."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines()
    if kind == "csv":
        return bool(lines) and lines[0].startswith(",".join(BASIC_COLUMNS))
    return TITLE in lines[:3]


def check_overwrite(path: Path, kind: OutputKind, *, force: bool) -> None:
    """`OutputError` when `path` holds a file that is not a clinlabel `kind` output (no --force)."""
    if force or not path.exists() or path.is_dir():
        return  # a folder is refused with its own message where the output is written
    if is_clinlabel_output(path, kind):
        return
    raise OutputError(
        f"{path} already exists and is not {_NAMES[kind]}; it was left as it is.",
        hint="Choose another path, or add --force to replace it.",
    )
