"""Which folders look like a batch, so that nothing is written inside one."""

from __future__ import annotations

from pathlib import Path

from clinlabel.discovery.batch_like import enclosing_batch, looks_like_batch


def case(folder: Path, clinical: str = "XC_CLINICAL") -> Path:
    images = folder / "Visit_1" / clinical
    images.mkdir(parents=True)
    (images / "img1.jpg").write_bytes(b"\xff\xd8")
    return folder


def test_a_batch_is_a_folder_of_cases(tmp_path: Path) -> None:
    batch = tmp_path / "Batch"
    for name in ("Case_1", "Case_2", "Case_10"):
        case(batch / name)
    (batch / "notes").mkdir()  # a stray folder does not hide a batch
    assert looks_like_batch(batch)
    assert enclosing_batch(batch / "Case_2" / "Visit_1" / "out" / "x.png") == batch.resolve()
    assert enclosing_batch(batch / "new-project") == batch.resolve()
    assert enclosing_batch(tmp_path / "Batch-clinlabel") is None


def test_one_case_shaped_folder_among_many_is_not_a_batch(tmp_path: Path) -> None:
    """A home or scratch folder: every path below it must not become forbidden."""
    scratch = tmp_path / "scratch"
    case(scratch / "downloaded-case")
    for name in ("Documents", "Music", "projects"):
        (scratch / name).mkdir()
    assert not looks_like_batch(scratch)
    assert enclosing_batch(scratch / "projects" / "p") is None


def test_empty_folders_and_xc_folders_without_files_are_not_batches(tmp_path: Path) -> None:
    (tmp_path / "a" / "Case_1" / "Visit_1" / "XC").mkdir(parents=True)
    assert not looks_like_batch(tmp_path / "a")
    assert not looks_like_batch(tmp_path / "missing")
    assert not looks_like_batch(tmp_path)
