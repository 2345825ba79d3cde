"""Ctrl+C during an import whose files are hashed in worker processes (issue 12): the command
stops with its one line, imports nothing, and leaves no worker running."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from clinlabel.demo.batch import make_bench_tree
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import images as image_rows

from . import interrupting
from .interrupting import assert_interrupted_cleanly, interrupt_at, project_state


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    batch, project = tmp_path / "Batch", tmp_path / "project"
    make_bench_tree(batch, images=3000, cases=30)
    init_project(batch, project)
    table = tmp_path / "in.csv"
    with (
        open_project(project) as opened,
        opened.store.read() as conn,
        table.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for _, _, case, visit, file in image_rows.all_images(conn):
            writer.writerow([case, visit, file, "NA", "blurred"])
    return project, table


def test_import_interrupted_while_workers_hash_imports_nothing_and_ends_them(
    project: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, table = project
    spool = tmp_path / "tmp"
    spool.mkdir()
    # The child hashes in worker processes from its first chunk on.
    workers_now = "import clinlabel.labelling.import_hashes as h; h.PROCESSES_AFTER = 0\n"
    monkeypatch.setattr(interrupting, "_CHILD", workers_now + interrupting._CHILD)
    before = project_state(folder)
    result = interrupt_at(
        ["import", folder, "--csv", table, "--annotator", "other"],
        when=lambda stage, done: stage == "import" and done >= 1,
        tmpdir=spool,
        slow_import=True,
    )
    assert result.children  # the workers were running when Ctrl+C came
    assert_interrupted_cleanly(result, spool)
    assert project_state(folder) == before
