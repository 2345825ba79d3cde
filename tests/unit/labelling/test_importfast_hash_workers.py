"""A large import hashes its files in worker processes (issue 12): they read only what this
process's own hashing reads (regular files inside the batch; a link only when it stays inside),
a worker that dies leaves its files to be hashed here, and no worker outlives the import."""

from __future__ import annotations

import csv
import hashlib
import os
import time
from pathlib import Path

import pytest

from clinlabel.labelling import import_hashes, importer
from clinlabel.labelling.import_hashes import FileHashing
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import LAYOUT

ONE = hashlib.sha256(b"\xff\xd8 one").hexdigest()


def _batch(tmp_path: Path) -> tuple[Path, dict[str, str | None]]:
    """A batch with what must be hashed and what must never be read, and the hash of each."""
    batch = tmp_path / "Batch"
    folder = batch / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"\xff\xd8 one")
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8 not the batch's")
    (folder / "inside.jpg").symlink_to(folder / "a.jpg")
    (folder / "outside.jpg").symlink_to(tmp_path / "secret.jpg")
    (folder / "dir.jpg").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.jpg")  # opening it to read would wait for a writer
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.jpg").write_bytes(b"\xff\xd8 elsewhere")
    (batch / "Case_2").mkdir()
    (batch / "Case_2" / "Visit_1").symlink_to(tmp_path / "elsewhere")
    expected: dict[str, str | None] = {
        "Case_1/Visit_1/XC/a.jpg": ONE,
        "Case_1/Visit_1/XC/inside.jpg": ONE,
        "Case_1/Visit_1/XC/outside.jpg": None,
        "Case_2/Visit_1/b.jpg": None,
        "Case_1/Visit_1/XC/gone.jpg": None,
        "Case_1/Visit_1/XC/dir.jpg": None,
        "Case_1/Visit_1/XC/pipe.jpg": None,
    }
    return batch, expected


def _workers_of(pid: int) -> list[int]:
    """The hash workers that are children of `pid`, still running."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == pid and b"hash_worker" in cmdline and stat[0] != "Z":
                found.append(int(entry))
    return found


def _started(pid: int, count: int) -> bool:
    """Whether `count` workers of `pid` run (each shows its command line once it has
    replaced the fork it started as: waited for, bounded)."""
    deadline = time.monotonic() + 10
    while len(_workers_of(pid)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(_workers_of(pid)) == count


def test_worker_processes_hash_what_this_process_hashes(tmp_path: Path) -> None:
    batch, expected = _batch(tmp_path)
    paths = list(expected)
    with FileHashing(batch, rows=100, processes_after=0, processes=2) as hashing:
        here = hashing.submit(paths, rows=len(paths))  # the workers start meanwhile
        assert hashing.uses_processes and _started(os.getpid(), 2)
        there = hashing.submit(paths[::-1], rows=len(paths))
        assert here.result() == list(expected.values())
        assert there.result() == list(expected.values())[::-1]
    assert _workers_of(os.getpid()) == []


def test_a_worker_that_dies_leaves_its_files_to_this_process(tmp_path: Path) -> None:
    batch, expected = _batch(tmp_path)
    with FileHashing(batch, rows=100, processes_after=0, processes=1) as hashing:
        hashing.submit(["Case_1/Visit_1/XC/a.jpg"], rows=1).result()
        assert _started(os.getpid(), 1)
        for pid in _workers_of(os.getpid()):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert hashing.submit(list(expected), rows=len(expected)).result() == list(
            expected.values()
        )


def test_an_error_in_the_import_ends_the_workers_at_once(tmp_path: Path) -> None:
    batch, _ = _batch(tmp_path)
    with pytest.raises(KeyboardInterrupt), FileHashing(batch, rows=10, processes_after=0) as h:
        h.submit(["Case_1/Visit_1/XC/a.jpg"], rows=1)
        assert _started(os.getpid(), h.processes)
        raise KeyboardInterrupt
    assert _workers_of(os.getpid()) == []


def test_an_import_hashing_in_workers_records_every_file_s_hash(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_hashes, "PROCESSES_AFTER", 0)
    monkeypatch.setattr(importer, "CHUNK", 2)  # several chunks: the first in threads
    started: list[bool] = []
    real_submit = FileHashing.submit

    def submit(self: FileHashing, relpaths: list[str], *, rows: int) -> import_hashes.Pending:
        started.append(self.uses_processes)
        return real_submit(self, relpaths, rows=rows)

    monkeypatch.setattr(FileHashing, "submit", submit)
    images = [f"{folder}/{name}" for folder, names in LAYOUT.items() for name in names]
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        writer.writerows([*image.split("/", 2), "Suspicious", ""] for image in images)
    assert import_labels(project, path, annotator="Dr W").imported == len(images)
    assert started[0] is False and True in started  # threads first, then the workers
    assert _workers_of(os.getpid()) == []
    with project.store.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT i.relpath, i.sha256, l.sha256 FROM labels l JOIN images i ON i.id = l.image_id"
        ).all()
    assert len(stored) == len(images)
    for relpath, image_sha, label_sha in stored:
        data = (project.batch / relpath).read_bytes()
        assert image_sha == label_sha == hashlib.sha256(data).hexdigest()


def test_a_hasher_keeps_few_folders_open_and_closes_them(tmp_path: Path) -> None:
    """Files are opened relative to their open folder; a batch of many folders never holds
    more than a few open, and none once the hasher is closed."""
    from clinlabel.labelling.import_hashes import _FOLDERS_OPEN, BatchHasher

    paths = []
    for k in range(_FOLDERS_OPEN * 3):
        folder = tmp_path / f"Case_{k}" / "Visit_1" / "XC"
        folder.mkdir(parents=True)
        (folder / "a.jpg").write_bytes(b"\xff\xd8 one")
        paths.append(f"Case_{k}/Visit_1/XC/a.jpg")
    before = len(os.listdir("/proc/self/fd"))
    hasher = BatchHasher(tmp_path)
    assert [hasher.sha256(path) for path in paths] == [ONE] * len(paths)
    assert len(os.listdir("/proc/self/fd")) - before <= _FOLDERS_OPEN
    # A folder replaced by a link after it was opened and closed again: checked in full.
    (tmp_path / "Case_0" / "Visit_1" / "XC" / "a.jpg").unlink()
    (tmp_path / "Case_0" / "Visit_1" / "XC").rmdir()
    (tmp_path / "Case_0" / "Visit_1" / "XC").symlink_to(tmp_path / "Case_1" / "Visit_1" / "XC")
    assert hasher.sha256(paths[0]) == ONE  # the link stays inside the batch
    hasher.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_threads_stop_hashing_once_the_import_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C on an import of large images: each thread finishes the file in hand, no more."""
    import threading

    from clinlabel.labelling.import_hashes import HASH_THREADS, BatchHasher

    batch, _ = _batch(tmp_path)
    calls: list[str] = []
    gate = threading.Event()
    real = BatchHasher.sha256

    def slow(self: BatchHasher, relpath: str) -> str | None:
        calls.append(relpath)
        gate.wait(10)  # a large file being read
        return real(self, relpath)

    monkeypatch.setattr(BatchHasher, "sha256", slow)
    hashing = FileHashing(batch, rows=10**9, processes_after=10**9)
    hashing.submit(["Case_1/Visit_1/XC/a.jpg"] * 400, rows=400)
    threads = hashing._threads
    assert threads is not None
    hashing.close(failed=True)
    gate.set()
    threads.shutdown(wait=True)
    assert len(calls) <= HASH_THREADS


_PATHED = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from clinlabel.labelling.import_hashes import FileHashing
with FileHashing(Path(sys.argv[2]), rows=10, processes_after=0, processes=1) as hashing:
    hashing.submit(["a.jpg"], rows=1).result()
    print(hashing.submit(["a.jpg"], rows=1).result()[0])
    print(all(w.process.poll() is None for w in hashing._workers))
"""


def test_workers_find_clinlabel_where_the_importing_process_found_it(tmp_path: Path) -> None:
    """A process that put clinlabel on its path itself (no PYTHONPATH): its workers import the
    same clinlabel, not another one installed, and do not die at their start."""
    import subprocess
    import sys

    import clinlabel

    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8 one")
    source = str(Path(clinlabel.__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", _PATHED, source, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert done.stdout.split() == [ONE, "True"], done.stderr
    assert done.stderr == ""
