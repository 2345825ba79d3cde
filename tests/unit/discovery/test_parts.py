"""A batch scanned in parts (one per process) gives exactly the whole scan, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.demo.batch import make_demo_batch
from clinlabel.discovery import scan_batch
from clinlabel.domain import ScanResult


def _tree(root: Path) -> Path:
    make_demo_batch(root / "B", cases=5, visits=2, images_per_visit=3, large_jpegs=0)
    # Findings about the batch folder itself, which only part 0 may report.
    (root / "B" / "stray.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "B" / "Case_000_empty").mkdir()
    return root / "B"


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_parts_add_up_to_the_whole_scan(tmp_path: Path, parts: int) -> None:
    batch = _tree(tmp_path)
    whole = ScanResult()
    expected = list(scan_batch(batch, whole))
    merged = ScanResult()
    got = []
    for k in range(parts):
        result = ScanResult()
        got.extend(scan_batch(batch, result, part=(k, parts)))
        merged.add(result)
    assert got == expected
    assert merged.problems == whole.problems
    assert merged.skipped == whole.skipped
    assert (merged.cases, merged.visits, merged.images) == (whole.cases, whole.visits, whole.images)
    assert merged.clinical_folders == whole.clinical_folders > 0


def test_a_part_without_xc_folders_does_not_raise(tmp_path: Path) -> None:
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos").mkdir(parents=True)
    result = ScanResult()
    assert list(scan_batch(tmp_path / "B", result, part=(0, 2))) == []
    assert result.clinical_folders == 0
