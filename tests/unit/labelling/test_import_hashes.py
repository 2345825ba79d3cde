"""The import's file hashing keeps the rules a label save keeps (`project.confined_path`): only
regular files inside the batch are read; a link is followed only when it stays inside."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from clinlabel.labelling.import_hashes import BatchHasher


def test_files_links_and_what_is_never_read(tmp_path: Path) -> None:
    batch = tmp_path / "Batch"
    folder = batch / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"\xff\xd8 one")
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"\xff\xd8 not the batch's")
    (folder / "inside.jpg").symlink_to(folder / "a.jpg")
    (folder / "outside.jpg").symlink_to(outside)
    (batch / "Case_2").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.jpg").write_bytes(b"\xff\xd8 elsewhere")
    (batch / "Case_2" / "Visit_1").symlink_to(tmp_path / "elsewhere")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.jpg")  # opening it to read would wait for a writer
    (folder / "dir.jpg").mkdir()
    hasher = BatchHasher(batch)
    expected = hashlib.sha256(b"\xff\xd8 one").hexdigest()
    assert hasher.sha256("Case_1/Visit_1/XC/a.jpg") == expected
    assert hasher.sha256("Case_1/Visit_1/XC/inside.jpg") == expected
    assert hasher.sha256("Case_1/Visit_1/XC/outside.jpg") is None
    assert hasher.sha256("Case_2/Visit_1/b.jpg") is None
    assert hasher.sha256("Case_1/Visit_1/XC/gone.jpg") is None
    assert hasher.sha256("Case_1/Visit_1/XC/dir.jpg") is None
    if hasattr(os, "mkfifo"):
        assert hasher.sha256("Case_1/Visit_1/XC/pipe.jpg") is None


@pytest.mark.parametrize("size", [0, (1 << 20) + 5])
def test_the_hash_is_of_every_byte(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "f.png").write_bytes(data)
    assert BatchHasher(tmp_path).sha256("f.png") == hashlib.sha256(data).hexdigest()
