"""SQLITE_FULL with room on the project's disk: what filled up is SQLite's folder for temporary
files (an import's index build or recount sorts more than the page cache holds there; /tmp is
often a small tmpfs). The message said the project's disk was full: a user freed space there
and failed again. Found with SQLITE_TMPDIR on a 64 KiB tmpfs under `clinlabel import`."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from clinlabel.store.failures import sqlite_temp_folder, translate_failure

from .test_store_inner_workings import _PgError, _sqlite_error


def test_a_full_temporary_folder_is_named_not_the_projects_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "sqlite-temp"
    temp.mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(temp))
    monkeypatch.setattr(os, "statvfs", lambda _: SimpleNamespace(f_bavail=10**6, f_frsize=4096))
    message = str(translate_failure(_sqlite_error("SQLITE_FULL", ""), str(tmp_path)))
    assert str(temp) in message and "temporary files" in message and "SQLITE_TMPDIR" in message
    assert "The disk holding" not in message


def test_a_full_project_disk_is_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "statvfs", lambda _: SimpleNamespace(f_bavail=3, f_frsize=4096))
    message = str(translate_failure(_sqlite_error("SQLITE_FULL", ""), str(tmp_path)))
    assert message.startswith(f"The disk holding {tmp_path} is full")
    # PostgreSQL's disk_full is the server's disk: nothing of SQLite's temporary files.
    url = "postgresql+psycopg://u@host/db"
    message = str(translate_failure(_PgError("53100", "could not extend file"), url))
    assert message.startswith(f"The disk holding {url} is full")


@pytest.mark.skipif(os.name != "posix", reason="SQLite's Unix order of temporary folders")
def test_the_temporary_folder_is_sqlites_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp_path / "missing"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert sqlite_temp_folder() == str(tmp_path)  # a folder that is not there is passed over
    monkeypatch.delenv("SQLITE_TMPDIR")
    monkeypatch.delenv("TMPDIR")
    assert sqlite_temp_folder() in ("/var/tmp", "/usr/tmp", "/tmp", ".")
