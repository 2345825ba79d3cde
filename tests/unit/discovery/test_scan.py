"""scan_batch: what a user relies on when a batch folder becomes a labelling queue."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from clinlabel.discovery import EXPECTED_LAYOUT, scan_batch
from clinlabel.domain import ImageKind, ScanResult
from clinlabel.errors import DatasetError

JPG = b"\xff\xd8\xff\xe0 tiny"  # a name and a few bytes are all the scan looks at without verify
NII = (348).to_bytes(4, "little") + bytes(340) + b"n+1\0"  # a NIfTI-1 header's size and magic
needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def test_queue_order_is_natural_at_every_level(kit) -> None:
    root = kit.batch(
        {
            "Case_10/Visit_1/XC/img1.jpg": JPG,
            "Case_2/Visit_10/XC/img1.jpg": JPG,
            "Case_2/Visit_2/XC/img10.jpg": JPG,
            "Case_2/Visit_2/XC/img2.jpg": JPG,
            "Case_2/Visit_2/XC/IMG3.JPG": JPG,
            "Case_2/Visit_2/XC/sub/img1.jpg": JPG,
            "Case_2/Visit_2/CLINICAL_2/img1.jpg": JPG,
        }
    )
    refs, result = kit.scan(root)
    assert [ref.relpath for ref in refs] == [
        "Case_2/Visit_2/CLINICAL_2/img1.jpg",
        "Case_2/Visit_2/XC/img2.jpg",
        "Case_2/Visit_2/XC/IMG3.JPG",
        "Case_2/Visit_2/XC/img10.jpg",
        "Case_2/Visit_2/XC/sub/img1.jpg",  # a folder's files first, then its subfolders
        "Case_2/Visit_10/XC/img1.jpg",
        "Case_10/Visit_1/XC/img1.jpg",
    ]
    assert (result.cases, result.visits, result.images) == (2, 3, 7)


def test_relpath_is_the_identity_and_fields_describe_the_place(kit) -> None:
    root = kit.batch(
        {
            "Case_1/Visit_1/XC_CLINICAL/img1.jpg": JPG,
            "Case_1/Visit_2/xc photos/deeper/img1.jpg": JPG + b"more",
        }
    )
    first, second = kit.scan(root)[0]
    assert first.relpath != second.relpath
    assert (first.case, first.visit, first.folder, first.file) == (
        "Case_1",
        "Visit_1",
        "XC_CLINICAL",
        "XC_CLINICAL/img1.jpg",
    )
    assert (second.folder, second.file) == ("xc photos", "xc photos/deeper/img1.jpg")
    assert second.relpath == "Case_1/Visit_2/xc photos/deeper/img1.jpg"
    info = os.stat(root / second.relpath)
    assert (second.size, second.mtime_ns) == (info.st_size, info.st_mtime_ns)


def test_extensions_in_any_case_and_dicom_by_content(kit) -> None:
    root = kit.batch(
        {
            "C/V/XC/a.JPG": JPG,
            "C/V/XC/b.Jpeg": JPG,
            "C/V/XC/c.PNG": JPG,
            "C/V/XC/d.tif": JPG,
            "C/V/XC/e.TIFF": JPG,
            "C/V/XC/f.bmp": JPG,
            "C/V/XC/g.DCM": kit.DICOM,
            "C/V/XC/h.dicom": kit.DICOM,
            "C/V/XC/IM0001": kit.DICOM,
            "C/V/XC/1.2.840.113619.2.55": kit.DICOM,
            "C/V/XC/brain.nii": NII,
            "C/V/XC/brain2.NII.GZ": b"\x1f\x8b\x08 gzipped nifti",
            "C/V/XC/README": "just some notes, long enough to be sniffed" * 5,
            "C/V/XC/notes.txt": "text",
            "C/V/XC/archive.gz": b"gz",
        }
    )
    kinds = {ref.file.split("/")[-1]: ref.kind for ref in kit.scan(root)[0]}
    assert kinds == {
        "1.2.840.113619.2.55": ImageKind.DICOM,
        "a.JPG": ImageKind.RASTER,
        "b.Jpeg": ImageKind.RASTER,
        "brain.nii": ImageKind.NIFTI,
        "brain2.NII.GZ": ImageKind.NIFTI,
        "c.PNG": ImageKind.RASTER,
        "d.tif": ImageKind.RASTER,
        "e.TIFF": ImageKind.RASTER,
        "f.bmp": ImageKind.RASTER,
        "g.DCM": ImageKind.DICOM,
        "h.dicom": ImageKind.DICOM,
        "IM0001": ImageKind.DICOM,
    }


def test_hidden_appledouble_and_system_files_are_ignored(kit) -> None:
    root = kit.batch(
        {
            "C/V/XC/img1.jpg": JPG,
            "C/V/XC/._img1.jpg": b"\x00\x05\x16\x07",
            "C/V/XC/.hidden.jpg": JPG,
            "C/V/XC/.thumbnails/img1.jpg": JPG,
            "C/V/XC/Thumbs.db": b"x" * 200,
            "C/V/XC/desktop.ini": b"x" * 200,
            "C/V/XC/DICOMDIR": kit.DICOM,
            "C/.V/XC/img1.jpg": JPG,
            ".Case/V/XC/img1.jpg": JPG,
        }
    )
    refs, result = kit.scan(root)
    assert [ref.relpath for ref in refs] == ["C/V/XC/img1.jpg"]
    assert result.problems == [] and result.skipped == []


def test_empty_file_is_a_problem_and_not_queued(kit) -> None:
    root = kit.batch({"C/V/XC/img1.jpg": kit.image(), "C/V/XC/img2.jpg": b""})
    for verify in (False, True):
        refs, result = kit.scan(root, verify=verify)
        assert [ref.file for ref in refs] == ["XC/img1.jpg"]
        assert [(p.relpath, p.reason) for p in result.problems] == [
            ("C/V/XC/img2.jpg", "empty file (0 bytes)")
        ]


@pytest.mark.parametrize("verify", [False, True])
def test_text_named_png_is_a_problem_with_or_without_verify(kit, *, verify: bool) -> None:
    # Before: without verify (as `init` scans) the text file was queued, labelled and exported.
    root = kit.batch({"C/V/XC/good.png": kit.image("PNG"), "C/V/XC/bad.png": "not an image\n"})
    refs, result = kit.scan(root, verify=verify)
    assert [ref.file for ref in refs] == ["XC/good.png"]
    (problem,) = result.problems
    assert problem.relpath == "C/V/XC/bad.png"
    assert problem.reason == "not an image: extension says PNG but the content is text"
    assert result.images == 1 and result.unshowable == []


@pytest.mark.parametrize(
    ("name", "content", "queued", "reason"),
    [
        ("pdf.jpg", b"%PDF-1.7 scanned letter", False, "content is a PDF document"),
        ("zip.png", b"PK\x03\x04 archive", False, "content is a ZIP archive"),
        ("noise.jpg", bytes(range(7, 250)) * 3, False, "content is not recognised"),
        ("gz.png", b"\x1f\x8b\x08 archive", False, "content is a gzip archive"),
        ("ct.png", bytes(128) + b"DICM\x02\x00", True, "content is DICOM (rename it .dcm)"),
        ("photo.dcm", b"\x89PNG\r\n\x1a\n" + bytes(30), True, "content is PNG"),
        ("cut.png", b"\x89PNG\r", True, "truncated: the file ends inside the PNG signature"),
        ("renamed.jpg", b"\x89PNG\r\n\x1a\n" + bytes(30), True, None),  # Pillow reads it
    ],
)
def test_what_is_queued_is_decided_from_the_first_bytes(
    kit, name: str, content: bytes, *, queued: bool, reason: str | None
) -> None:
    root = kit.batch({f"C/V/XC/{name}": content, "C/V/XC/zz.jpg": JPG})
    refs, result = kit.scan(root)
    files = [ref.file for ref in refs]
    if queued:
        assert files == [f"XC/{name}", "XC/zz.jpg"]
        assert [(p.relpath, p.reason) for p in result.unshowable] == (
            [] if reason is None else [(f"C/V/XC/{name}", result.unshowable[0].reason)]
        )
        if reason is not None:
            assert reason in result.unshowable[0].reason
        assert result.problems == []
    else:
        assert files == ["XC/zz.jpg"]
        (problem,) = result.problems
        assert problem.relpath == f"C/V/XC/{name}" and problem.reason.startswith("not an image")
        assert reason is not None and reason in problem.reason


def test_images_the_viewer_cannot_show_stay_queued_and_marked_in_verify_mode(kit) -> None:
    whole = kit.image("PNG")
    root = kit.batch({"C/V/XC/cut.png": whole[: len(whole) - 12], "C/V/XC/ok.png": whole})
    for verify in (False, True):
        refs, result = kit.scan(root, verify=verify)
        assert [ref.file for ref in refs] == ["XC/cut.png", "XC/ok.png"]
        assert result.problems == []
    assert [(p.relpath, p.reason) for p in result.unshowable] == [
        ("C/V/XC/cut.png", "truncated: the PNG end chunk (IEND) is missing (an incomplete copy?)")
    ]


def test_folders_and_files_left_out_are_reported_with_image_counts(kit) -> None:
    root = kit.batch(
        {
            "Case_1/Visit_1/XC/img1.jpg": JPG,
            "Case_1/Visit_1/Dermoscopy/d1.jpg": JPG,
            "Case_1/Visit_1/Dermoscopy/more/d2.png": JPG,
            "Case_1/Visit_1/Dermoscopy/more/IM1": kit.DICOM,
            "Case_1/Visit_1/Dermoscopy/notes.txt": "notes",
            "Case_1/Visit_1/Notes/": b"",
            "Case_1/Visit_1/loose.jpg": JPG,
            "Case_1/stray1.jpg": JPG,
            "Case_1/stray2.png": JPG,
            "Case_1/readme.txt": "not an image",
            "top.jpg": JPG,
            "Case_2/Visit_1/Photos/p.jpg": JPG,
        }
    )
    refs, result = kit.scan(root)
    assert [ref.relpath for ref in refs] == ["Case_1/Visit_1/XC/img1.jpg"]
    skipped = {s.relpath: (s.image_count, s.reason) for s in result.skipped}
    assert {relpath: count for relpath, (count, _) in skipped.items()} == {
        ".": 1,
        "Case_1": 2,
        "Case_1/Visit_1": 1,
        "Case_1/Visit_1/Dermoscopy": 3,
        "Case_1/Visit_1/Notes": 0,
        "Case_2/Visit_1/Photos": 1,
    }
    assert "not an XC or CLINICAL folder" in skipped["Case_1/Visit_1/Dermoscopy"][1]
    assert "directly in a case folder" in skipped["Case_1"][1]
    assert EXPECTED_LAYOUT in skipped["Case_1"][1]
    # Case_2 has no image in the queue: counted neither as a case nor a visit.
    assert (result.cases, result.visits, result.images) == (1, 1, 1)


@needs_symlinks
def test_links_leaving_the_batch_are_not_followed(kit, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "XC").mkdir(parents=True)
    (outside / "secret.jpg").write_bytes(JPG)
    (outside / "XC" / "img9.jpg").write_bytes(JPG)
    root = kit.batch({"C/V/XC/img1.jpg": JPG})
    (root / "C" / "V" / "XC" / "linked").symlink_to(outside)
    (root / "C" / "V" / "XC" / "secret.jpg").symlink_to(outside / "secret.jpg")
    (root / "C" / "V2").symlink_to(outside)
    refs, result = kit.scan(root)
    assert [ref.relpath for ref in refs] == ["C/V/XC/img1.jpg"]
    reasons = {s.relpath: s.reason for s in result.skipped}
    assert set(reasons) == {"C/V/XC/linked", "C/V/XC/secret.jpg", "C/V2"}
    assert all("outside the batch" in reason for reason in reasons.values())


@needs_symlinks
def test_links_inside_the_batch_are_followed_without_looping(kit) -> None:
    root = kit.batch({"C/V/XC/sub/img1.jpg": JPG, "C/V/XC/img2.jpg": JPG, "Shared/x.jpg": JPG})
    (root / "C" / "V" / "XC" / "sub" / "loop").symlink_to(root / "C" / "V" / "XC")
    (root / "C" / "V" / "XC" / "shared").symlink_to(root / "Shared")
    (root / "C" / "V" / "XC" / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    refs, result = kit.scan(root)
    assert [ref.file for ref in refs] == ["XC/img2.jpg", "XC/shared/x.jpg", "XC/sub/img1.jpg"]
    loops = [s.relpath for s in result.skipped if "loop" in s.reason]
    assert loops == ["C/V/XC/sub/loop"]
    assert [(p.relpath, p.reason) for p in result.problems] == [
        ("C/V/XC/dangling.jpg", "broken symbolic link")
    ]


def test_missing_batch_fails_before_the_first_image(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found") as info:
        scan_batch(tmp_path / "nope", ScanResult())  # no next(): the check is eager
    assert "\n" not in str(info.value)


def test_a_file_is_not_a_batch(tmp_path: Path) -> None:
    (tmp_path / "batch.zip").write_bytes(b"PK")
    with pytest.raises(DatasetError, match=r"not a folder.*unzip"):
        scan_batch(tmp_path / "batch.zip", ScanResult())


def test_unreadable_batch_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    (tmp_path / "Batch").mkdir()
    monkeypatch.setattr(os, "scandir", denied)  # chmod 000 does not stop root
    with pytest.raises(DatasetError, match=r"permission denied.*read access"):
        scan_batch(tmp_path / "Batch", ScanResult())


def test_batch_without_xc_folders_explains_the_layout(kit) -> None:
    root = kit.batch({"Case_1/Visit_1/Photos/img1.jpg": JPG})
    result = ScanResult()
    images = scan_batch(root, result)
    with pytest.raises(DatasetError) as info:
        list(images)
    message = str(info.value)
    assert EXPECTED_LAYOUT in message and "XC or CLINICAL" in message
    assert "Case_1/Visit_1/Photos" in message  # where the images are
    assert result.skipped[0].image_count == 1


def test_choosing_a_case_folder_instead_of_the_batch_is_explained(kit) -> None:
    root = kit.batch({"Visit_1/XC_CLINICAL/img1.jpg": JPG})
    with pytest.raises(DatasetError, match="wrong depth"):
        kit.scan(root)


def test_xc_folders_without_images_are_not_an_error(kit) -> None:
    refs, result = kit.scan(kit.batch({"C/V/XC/": b""}))
    assert refs == [] and result.images == 0


def test_result_fills_while_streaming(kit) -> None:
    root = kit.batch({"C1/V/XC/a.jpg": JPG, "C2/V/XC/b.jpg": JPG})
    result = ScanResult()
    images = scan_batch(root, result)
    next(images)
    assert (result.cases, result.visits, result.images) == (1, 1, 1)
    list(images)
    assert (result.cases, result.visits, result.images) == (2, 2, 2)


def test_files_and_folders_vanishing_during_the_scan_do_not_crash(kit) -> None:
    root = kit.batch(
        {
            "C1/V/XC/a.jpg": JPG,
            "C1/V/XC/b.jpg": JPG,
            "C1/V/XC/c.jpg": JPG,
            "C2/V/XC/d.jpg": JPG,
            "C3/V/XC/e.jpg": JPG,
        }
    )
    result = ScanResult()
    images = scan_batch(root, result)
    assert next(images).file == "XC/a.jpg"
    (root / "C1/V/XC/b.jpg").unlink()  # already listed, not yet stat-ed
    (root / "C2/V/XC/d.jpg").unlink()
    (root / "C2/V/XC").rmdir()  # C2 is listed later: simply gone
    rest = [ref.relpath for ref in images]
    assert rest == ["C1/V/XC/c.jpg", "C3/V/XC/e.jpg"]
    assert [(p.relpath, p.reason) for p in result.problems] == [
        ("C1/V/XC/b.jpg", "disappeared during the scan")
    ]


def test_a_case_folder_deleted_after_listing_is_reported(kit) -> None:
    root = kit.batch({"C1/V/XC/a.jpg": JPG, "C2/V/XC/b.jpg": JPG})
    result = ScanResult()
    images = scan_batch(root, result)
    next(images)
    for path in sorted((root / "C2").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "C2").rmdir()
    assert list(images) == []
    assert [(s.relpath, s.reason) for s in result.skipped] == [
        ("C2", "folder disappeared during the scan")
    ]


def test_unreadable_folders_are_reported(kit, monkeypatch: pytest.MonkeyPatch) -> None:
    root = kit.batch({"C/V/XC/a.jpg": JPG, "C/V/XC/locked/c.jpg": JPG})
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path.endswith("locked"):  # chmod 000 does not stop root, so refuse here
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    refs, result = kit.scan(root)
    assert [ref.file for ref in refs] == ["XC/a.jpg"]
    assert [(s.relpath, s.reason) for s in result.skipped] == [
        ("C/V/XC/locked", "cannot read this folder: permission denied")
    ]


def test_unreadable_file_is_a_problem_in_verify_mode(kit, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinlabel.discovery import sniff

    real_open = sniff.open_for_reading

    def open_for_reading(path: str) -> int:
        if path.endswith("b.jpg"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    root = kit.batch({"C/V/XC/a.jpg": kit.image(), "C/V/XC/b.jpg": kit.image()})
    monkeypatch.setattr(sniff, "open_for_reading", open_for_reading)
    refs, result = kit.scan(root, verify=True)
    assert [ref.file for ref in refs] == ["XC/a.jpg"]
    assert [(p.relpath, p.reason) for p in result.problems] == [
        ("C/V/XC/b.jpg", "cannot read: permission denied")
    ]


def test_choosing_the_xc_folder_itself_is_explained(kit) -> None:
    root = kit.batch({"XC_CLINICAL/img1.jpg": JPG})
    with pytest.raises(DatasetError, match="XC/CLINICAL folder itself"):
        kit.scan(root / "XC_CLINICAL")


@needs_symlinks
def test_a_link_to_images_the_walk_lists_anyway_does_not_list_them_twice(kit) -> None:
    root = kit.batch(
        {
            "C1/V/XC/a.jpg": JPG,
            "C1/V/XC/sub/b.jpg": JPG,
            "C1/V/raw/r.jpg": JPG,  # not an XC folder: skipped by the walk
            "C2/V/XC/c.jpg": JPG,
        }
    )
    xc = root / "C2" / "V" / "XC"
    (xc / "same_sub").symlink_to(root / "C1" / "V" / "XC" / "sub")  # listed under C1 already
    (xc / "raw").symlink_to(root / "C1" / "V" / "raw")  # reachable only through the link
    (root / "C3").symlink_to(root / "C1")  # a whole case again
    (root / "C2" / "V2").symlink_to(root / "C1" / "V")  # a whole visit again
    refs, result = kit.scan(root)
    assert [ref.relpath for ref in refs] == [
        "C1/V/XC/a.jpg",
        "C1/V/XC/sub/b.jpg",
        "C2/V/XC/c.jpg",
        "C2/V/XC/raw/r.jpg",
    ]
    twice = {s.relpath: s.reason for s in result.skipped if "already" in s.reason}
    assert set(twice) == {"C2/V/XC/same_sub", "C3", "C2/V2"}
    assert "C1/V/XC/sub" in twice["C2/V/XC/same_sub"]
    assert result.images == 4


def test_dual_personality_dicom_is_dicom_to_scan_and_verify(kit) -> None:
    """A TIFF header in the DICOM preamble (PS3.10 7.1): queued as DICOM, with or without
    verify, and never reported as "content is TIFF"."""
    dual = b"II*\x00\x08\x00\x00\x00".ljust(128, b"\x00") + kit.DICOM[128:]
    root = kit.batch({"C/V/XC/a.dcm": dual, "C/V/XC/IM0002": dual})
    for verify in (False, True):
        refs, result = kit.scan(root, verify=verify)
        assert {ref.file.split("/")[-1]: ref.kind for ref in refs} == {
            "a.dcm": ImageKind.DICOM,
            "IM0002": ImageKind.DICOM,
        }
        assert result.problems == []
