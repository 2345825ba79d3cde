"""The two-process scan (spawned children, for the CLI) gives the same rows and result as a
scan in one process."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from clinlabel.demo.batch import make_demo_batch
from clinlabel.domain import ScanResult
from clinlabel.errors import DatasetError
from clinlabel.labelling import scanning


def _spools() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("clinlabel-scan-*")}


@pytest.fixture(autouse=True)
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spools go to a temporary folder of this test's own, so parallel tests never see them;
    and a small batch is walked by two processes too (the parent decides: no child sees this)."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(scanning, "PARALLEL_FROM_CASES", 0)


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    root = make_demo_batch(tmp_path / "B", cases=5, visits=2, images_per_visit=4, large_jpegs=0)
    (root / "stray.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def test_two_processes_give_the_one_process_scan(
    batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    methods: list[str | None] = []
    real_context = scanning.multiprocessing.get_context

    def spy(method: str | None = None) -> object:
        methods.append(method)
        return real_context(method)

    monkeypatch.setattr(scanning.multiprocessing, "get_context", spy)
    before = _spools()
    alone = ScanResult()
    expected = [row for chunk in scanning._chunks(batch, alone, verify=False) for row in chunk]
    together = ScanResult()
    rows = [
        row
        for chunk in scanning.scan_rows(batch, together, verify=False, parallel=True)
        for row in chunk
    ]
    assert rows == expected
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert (together.problems, together.skipped) == (alone.problems, alone.skipped)
    assert (together.cases, together.visits, together.images) == (
        alone.cases,
        alone.visits,
        alone.images,
    )
    assert _spools() == before
    assert methods == ["spawn"]  # never fork: see the module's docstring


def test_stopping_early_leaves_nothing_behind(batch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanning, "CHUNK", 3)
    before = _spools()
    stream = scanning.scan_rows(batch, ScanResult(), verify=False, parallel=True)
    next(stream)
    stream.close()
    assert _spools() == before


def test_a_batch_without_xc_folders_raises_its_own_message(tmp_path: Path) -> None:
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos").mkdir(parents=True)
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos" / "a.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="XC"):
        list(scanning.scan_rows(tmp_path / "B", ScanResult(), verify=False, parallel=True))
