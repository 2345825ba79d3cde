"""The demo batch: every case the scan and the viewers must handle, made in seconds, repeatably."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from PIL import Image

from clinlabel.demo.batch import (
    EMPTY_FILE,
    FAKE_PNG,
    LARGE_SIZE,
    SKIPPED_FOLDER,
    image_numbers,
    make_bench_tree,
    make_demo_batch,
)
from clinlabel.discovery import scan_batch
from clinlabel.domain import ImageKind, ImageRef, ScanResult
from clinlabel.errors import OutputError


def _scan(root: Path, *, verify: bool = False) -> tuple[list[ImageRef], ScanResult]:
    result = ScanResult()
    return list(scan_batch(root, result, verify=verify)), result


def _digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_batch(tmp_path_factory.mktemp("demo") / "Batch")


def test_default_demo_scans_as_designed(demo: Path) -> None:
    refs, result = _scan(demo)
    photos = [ref for ref in refs if ref.kind is ImageKind.RASTER]
    # Every visit's photos; the fake PNG (text) is not queued, with or without verify (issue 10:
    # `scan` listed 44 images while the project queued 45).
    assert len(photos) == 4 * 2 * 5
    assert (result.cases, result.visits) == (4, 8)
    assert {ref.folder for ref in refs} == {"XC_CLINICAL", "CLINICAL_IMAGES", "XC", "xc photos"}
    reasons = {p.relpath.rsplit("/", 1)[-1]: p.reason for p in result.problems}
    assert reasons == {
        FAKE_PNG: "not an image: extension says PNG but the content is text",
        EMPTY_FILE: "empty file (0 bytes)",
    }
    (skipped,) = result.skipped
    assert skipped.relpath == f"Case_001/Visit_1/{SKIPPED_FOLDER}" and skipped.image_count == 2
    names = [ref.file for ref in refs if ref.visit == "Visit_1" and ref.case == "Case_001"]
    stems = [name.rsplit(".", 1)[0] for name in names]
    assert stems == [f"XC_CLINICAL/img{n}" for n in (1, 2, 3, 4, 10)]  # natural order
    assert not any("._" in ref.relpath or "Thumbs" in ref.relpath for ref in refs)


def test_verify_finds_the_fake_png_and_passes_everything_else(demo: Path) -> None:
    refs, result = _scan(demo, verify=True)
    reasons = {p.relpath.rsplit("/", 1)[-1]: p.reason for p in result.problems}
    assert set(reasons) == {EMPTY_FILE, FAKE_PNG}
    assert "not an image" in reasons[FAKE_PNG]
    assert len([ref for ref in refs if ref.kind is ImageKind.RASTER]) == 40
    assert result.unshowable == []


def test_special_images_exercise_each_decoding_path(demo: Path) -> None:
    folder = demo / "Case_001" / "Visit_1" / "XC_CLINICAL"
    with Image.open(folder / "img2.jpg") as image:
        assert image.getexif().get(0x0112) == 6
        assert image.size == (480, 640)  # stored on its side
    with Image.open(folder / "img3.png") as image:
        assert image.mode == "I;16" and image.getextrema()[1] > 255  # type: ignore[operator]
    with Image.open(folder / "img4.jpg") as image:
        assert image.mode == "CMYK"
    with Image.open(folder / "img10.png") as image:
        assert image.mode == "P"
    large = [p for p in demo.rglob("img*.jpg") if p.stat().st_size and _size(p) == LARGE_SIZE]
    assert len(large) == 2


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_medical_files_join_one_visit_when_available(demo: Path) -> None:
    pytest.importorskip("clinlabel.demo.medical")
    refs, _ = _scan(demo)
    medical = {ref.kind for ref in refs if ref.kind is not ImageKind.RASTER}
    assert medical == {ImageKind.DICOM, ImageKind.NIFTI}
    assert {(ref.case, ref.visit) for ref in refs if ref.kind is not ImageKind.RASTER} == {
        ("Case_004", "Visit_1")
    }


def test_same_seed_same_bytes_other_seed_other_pictures(tmp_path: Path) -> None:
    small = {"cases": 1, "visits": 2, "images_per_visit": 3, "large_jpegs": 0, "medical": False}
    first = _digest(make_demo_batch(tmp_path / "a", seed=3, **small))  # type: ignore[arg-type]
    again = _digest(make_demo_batch(tmp_path / "b", seed=3, **small))  # type: ignore[arg-type]
    other = _digest(make_demo_batch(tmp_path / "c", seed=4, **small))  # type: ignore[arg-type]
    assert first == again
    assert first.keys() == other.keys() and first != other


def test_missing_medical_module_is_skipped_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "clinlabel.demo.medical", None)  # import now fails
    root = make_demo_batch(tmp_path / "b", cases=1, visits=1, images_per_visit=2, large_jpegs=0)
    refs, _ = _scan(root)
    assert {ref.kind for ref in refs} == {ImageKind.RASTER}


def test_refuses_a_folder_with_content(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        make_demo_batch(tmp_path, medical=False)


def test_image_numbers_differ_in_text_and_natural_order() -> None:
    assert image_numbers(5) == [1, 2, 3, 4, 10]
    assert image_numbers(12) == list(range(1, 13))
    assert image_numbers(1) == [1]


def test_bench_tree_has_the_asked_number_of_images(tmp_path: Path) -> None:
    make_bench_tree(tmp_path, images=1001, cases=3)
    refs, result = _scan(tmp_path)
    assert len(refs) == 1001 and (result.cases, result.visits) == (3, 6)
    assert {ref.size for ref in refs} == {refs[0].size} and refs[0].size > 0
