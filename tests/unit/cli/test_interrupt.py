"""Ctrl+C (SIGINT) stops the long commands mid-way and leaves everything exactly as it was.

Each test runs the real command in a child process (`interrupting`), presses Ctrl+C once the
command reports that it is well under way, and checks: exit status 130, the one line
"Interrupted: nothing was changed.", no traceback, no child process or temporary spool left,
and the project (every table's rows, the image and event counts, the files in its folder)
equal to what it was before the command. "Within a second" is checked only as a bound: the
test fails if the command has not ended 10 s after Ctrl+C (the benchmark times it).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from clinlabel.demo.batch import make_bench_tree
from clinlabel.labelling.project import init_project

from .interrupting import assert_interrupted_cleanly, interrupt_at, project_state

IMAGES = 6000
CASES = 150
"""Enough case folders (100+) for `init` to walk the batch in two spawned processes."""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("interrupt") / "Batch"
    make_bench_tree(root, images=IMAGES, cases=CASES)
    return root


@pytest.fixture(scope="module")
def labelled(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of the batch with 3,000 labels (imported), so exports and checks take a while."""
    from clinlabel.labelling.importer import import_labels
    from clinlabel.labelling.project import open_project

    project = tmp_path_factory.mktemp("labelled") / "project"
    init_project(batch, project)
    table = project.parent / "labels.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for case in range(1, 76):
            for visit in (1, 2):
                for number in range(1, 21):
                    writer.writerow([f"Case_{case:03d}", f"Visit_{visit}", f"img{number}.jpg",
                                     "Non-Suspicious", ""])  # fmt: skip
    with open_project(project) as opened:
        assert import_labels(opened, table, annotator="ann").imported == 3000
    return project


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def _scanning_past(count: int) -> object:
    return lambda stage, done: stage == "Scanning the batch" and done >= count


def test_first_init_interrupted_makes_no_project(batch: Path, tmp_path: Path, spool: Path) -> None:
    project = tmp_path / "new-project"
    result = interrupt_at(
        ["init", batch, "--out", project], when=_scanning_past(2000), tmpdir=spool
    )
    assert_interrupted_cleanly(result, spool)
    assert not project.exists()


def test_rescan_interrupted_leaves_the_project_as_it_was(
    batch: Path, tmp_path: Path, spool: Path
) -> None:
    project = tmp_path / "project"
    init_project(batch, project)
    # Something for the rescan to change: a file gone, one new.
    gone = batch / "Case_001" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    kept = gone.read_bytes()
    gone.unlink()
    added = batch / "Case_150" / "Visit_2" / "XC_CLINICAL" / "img999.jpg"
    added.write_bytes(kept)
    try:
        before = project_state(project)
        result = interrupt_at(
            ["init", batch, "--out", project], when=_scanning_past(2000), tmpdir=spool
        )
        assert_interrupted_cleanly(result, spool)
        assert project_state(project) == before
    finally:
        added.unlink()
        gone.write_bytes(kept)


def test_scan_interrupted(batch: Path, spool: Path) -> None:
    result = interrupt_at(["scan", batch, "--quick"], when=_scanning_past(1000), tmpdir=spool)
    assert_interrupted_cleanly(result, spool)
    assert result.stdout == ""


def test_export_interrupted_writes_no_file(labelled: Path, spool: Path) -> None:
    before = project_state(labelled)
    result = interrupt_at(
        ["export", labelled],
        when=lambda stage, done: stage == "Writing the labels CSV" and done >= 1000,
        tmpdir=spool,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(labelled) == before
    assert not any(p.name.startswith(".clinical_labels") for p in labelled.iterdir())


def test_export_interrupted_after_the_csv_is_staged(labelled: Path, spool: Path) -> None:
    """Caught while the report is gathered: the CSV, complete by then, is not put in place."""
    before = project_state(labelled)
    result = interrupt_at(
        ["export", labelled, "--report"],
        when=lambda stage, done: stage == "Checking the audit trail" and done >= 1000,
        tmpdir=spool,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(labelled) == before


def test_report_interrupted(labelled: Path, spool: Path) -> None:
    before = project_state(labelled)
    result = interrupt_at(
        ["report", labelled],
        when=lambda stage, done: stage == "Checking the audit trail" and done >= 1000,
        tmpdir=spool,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(labelled) == before


def test_audit_verify_interrupted(labelled: Path, spool: Path) -> None:
    before = project_state(labelled)
    result = interrupt_at(
        ["audit", "verify", labelled],
        when=lambda stage, done: stage == "Checking the audit trail" and done >= 1000,
        tmpdir=spool,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(labelled) == before


def test_import_interrupted_imports_nothing(labelled: Path, tmp_path: Path, spool: Path) -> None:
    table = tmp_path / "more.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for case in range(76, 151):
            for number in range(1, 21):
                writer.writerow([f"Case_{case:03d}", "Visit_1", f"img{number}.jpg", "NA", "x"])
    before = project_state(labelled)
    result = interrupt_at(
        ["import", labelled, "--csv", table, "--annotator", "other"],
        when=lambda stage, done: stage == "import" and done >= 500,
        tmpdir=spool,
        slow_import=True,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(labelled) == before
