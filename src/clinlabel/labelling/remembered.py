"""Which project each batch was labelled into, remembered per user (never inside a batch).

`clinlabel label BATCH` without `--out` reopens the project chosen last time instead of
suggesting a new, empty one next to the batch. The map lives in a small JSON file in the user's
data directory (`platformdirs`; `CLINLABEL_DATA_DIR` first, which the tests set), keyed by the
batch's resolved path. It is a convenience: a damaged or unreadable file is a one-line warning
and is treated as empty, never a reason not to label.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinlabel.atomic import atomic_writer
from clinlabel.errors import ClinlabelError

DATA_DIR_ENV = "CLINLABEL_DATA_DIR"
FILE_NAME = "projects.json"
#: Larger than any honest map of batches to projects; a bigger file is not read.
MAX_BYTES = 4 * 1024 * 1024

_log = logging.getLogger(__name__)

Warn = Callable[[str], None]


def user_data_dir() -> Path:
    """Where clinlabel keeps this user's own small files (not a project's)."""
    chosen = os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("clinlabel", appauthor=False))


@dataclass(frozen=True, slots=True)
class RememberedProject:
    """The project a batch was labelled into, and when it was chosen (UTC, ISO 8601)."""

    project_dir: Path
    chosen_at: str

    @property
    def chosen_on(self) -> str:
        """The day it was chosen, as a clinician reads it (YYYY-MM-DD)."""
        return self.chosen_at[:10]

    @property
    def exists(self) -> bool:
        from clinlabel.labelling.project_folder import is_project_folder

        return self.project_dir.is_dir() and is_project_folder(self.project_dir)


class ProjectMemory:
    """The per-user map of batch folders to their projects."""

    def __init__(self, folder: Path | None = None, *, warn: Warn | None = None) -> None:
        self.path = (folder if folder is not None else user_data_dir()) / FILE_NAME
        self._warn_to = warn or _log.warning
        self._warned = False

    def _warn(self, text: str) -> None:
        # One line per use: a damaged file read, then rewritten, is one problem, not two.
        if not self._warned:
            self._warned = True
            self._warn_to(text)

    def recall(self, batch: Path) -> RememberedProject | None:
        """The project `batch` was last labelled into, or None (never asked, or unreadable)."""
        entry = self._read().get(str(batch.resolve()))
        if not isinstance(entry, dict):
            return None
        project, chosen = entry.get("project"), entry.get("chosen_at")
        if not isinstance(project, str) or not isinstance(chosen, str) or not project:
            return None
        return RememberedProject(Path(project), chosen)

    def remember(self, batch: Path, project_dir: Path) -> None:
        """`batch` is now labelled into `project_dir` (its date kept if it already was)."""
        key, project = str(batch.resolve()), str(project_dir.resolve())
        try:
            # Two servers (two batches) may remember at once: without the lock, the one that
            # writes last drops the other's batch, read before it was written.
            with self._locked():
                batches = self._read()
                known = batches.get(key)
                if isinstance(known, dict) and known.get("project") == project:
                    return
                now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                batches[key] = {"project": project, "chosen_at": now}
                with atomic_writer(self.path, private=True) as handle:
                    json.dump({"version": 1, "batches": batches}, handle, indent=1, sort_keys=True)
                    handle.write("\n")
        except (ClinlabelError, OSError) as exc:
            self._warn(f"Cannot remember this batch's project in {self.path}: {exc}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the map's lock file (advisory, POSIX; elsewhere the write is unguarded)."""
        try:
            import fcntl
        except ImportError:  # Windows: a lost entry costs one question on the start page
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(FILE_NAME + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # A file system without locks (some network homes): the write goes on unguarded.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> dict[str, object]:
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._warn(
                f"Cannot read {self.path} ({exc.strerror or exc}); "
                "batches' projects are not remembered."
            )
            return {}
        try:
            if len(raw) > MAX_BYTES:
                raise ValueError("too large")
            data = json.loads(raw.decode("utf-8"))
            batches = data["batches"]
            if not isinstance(batches, dict):
                raise TypeError("not a map")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as exc:
            self._warn(
                f"{self.path} is damaged ({exc}); it is ignored and will be rewritten. "
                "Batches' projects are chosen anew."
            )
            return {}
        return dict(batches)
