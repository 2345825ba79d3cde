"""The project's server token and port: kept owner-only, refused when others could read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from clinlabel.labelling.project import SERVER_FILE
from clinlabel.labelling.server_access import (
    ServerAccess,
    load_server_access,
    save_server_access,
)

TOKEN = "t" * 43


def test_saved_owner_only_and_read_back(tmp_path: Path) -> None:
    save_server_access(tmp_path, ServerAccess(token=TOKEN, port=51234))
    path = tmp_path / SERVER_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_server_access(tmp_path) == ServerAccess(token=TOKEN, port=51234)
    assert not [p for p in tmp_path.iterdir() if p.name != SERVER_FILE]  # no temporary left


def test_unchanged_access_is_not_rewritten(tmp_path: Path) -> None:
    save_server_access(tmp_path, ServerAccess(token=TOKEN, port=51234))
    before = (tmp_path / SERVER_FILE).stat().st_ino
    save_server_access(tmp_path, ServerAccess(token=TOKEN, port=51234))
    assert (tmp_path / SERVER_FILE).stat().st_ino == before
    save_server_access(tmp_path, ServerAccess(token=TOKEN, port=51235))
    assert load_server_access(tmp_path) == ServerAccess(token=TOKEN, port=51235)


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_a_token_others_can_read_is_not_used(tmp_path: Path) -> None:
    save_server_access(tmp_path, ServerAccess(token=TOKEN, port=51234))
    (tmp_path / SERVER_FILE).chmod(0o644)
    assert load_server_access(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '{"token": "short", "port": 5000}',
        '{"token": "' + TOKEN + '", "port": 0}',
        '{"token": "' + TOKEN + '", "port": true}',
        '{"token": "' + TOKEN + '"}',
        "[1, 2]",
    ],
)
def test_a_damaged_file_means_a_new_token(tmp_path: Path, text: str) -> None:
    path = tmp_path / SERVER_FILE
    path.write_text(text)
    path.chmod(0o600)
    assert load_server_access(tmp_path) is None


def test_no_file_no_access(tmp_path: Path) -> None:
    assert load_server_access(tmp_path) is None
