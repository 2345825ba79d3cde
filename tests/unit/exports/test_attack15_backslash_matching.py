"""Hostile file names with backslashes: each row goes to the one image it can mean, or is
refused with the images it could mean; never to one of two images picked silently.

A backslash in an imported name is read two ways: as part of a file's name (Linux and macOS
allow it; clinlabel's own export writes it as it is) and as a Windows separator (`XC\\img1.jpg`
from a tool on Windows). When the name means one image as written and another read the Windows
way, nothing tells which one the person meant: a label on the wrong photograph is worse than
none, so the row is ambiguous, as a bare name in two folders is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.exports.csv_import import read_labels_csv
from clinlabel.exports.import_matching import ImportMatch, match_import_rows

CASE, VISIT = "Case_1", "Visit_1"


def _images(*below_visit: str) -> list[tuple[str, str, str, str]]:
    return [(f"{CASE}/{VISIT}/{below}", CASE, VISIT, below) for below in below_visit]


def _match(tmp_path: Path, file: str, images: list[tuple[str, str, str, str]]) -> ImportMatch:
    path = tmp_path / "in.csv"
    quoted = '"' + file.replace('"', '""') + '"'
    path.write_text(f"case,visit,file,label\n{CASE},{VISIT},{quoted},NA\n", encoding="utf-8")
    return match_import_rows(read_labels_csv(path), images)


def _where(result: ImportMatch) -> str | tuple[str, ...] | None:
    """The one image matched, the candidates of an ambiguous row, or None (no image)."""
    if result.matched:
        return result.matched[0][1]
    if result.ambiguous:
        return result.ambiguous[0].candidates
    return None


def _at(*below_visit: str) -> tuple[str, ...]:
    return tuple(f"{CASE}/{VISIT}/{below}" for below in below_visit)


@pytest.mark.parametrize(
    "file, images, expected",
    [
        # A file named `XC\img1.jpg` (in the folder Clinical: a scan takes images in folders)
        # beside the folder XC's img1.jpg: either could be meant, by bare name or Windows path.
        (
            "XC\\img1.jpg",
            ["Clinical/XC\\img1.jpg", "XC/img1.jpg"],
            _at("Clinical/XC\\img1.jpg", "XC/img1.jpg"),
        ),
        (
            "Clinical/XC\\img1.jpg",
            ["Clinical/XC\\img1.jpg", "XC/img1.jpg"],
            _at("Clinical/XC\\img1.jpg")[0],
        ),
        # Either alone: the one image the name can mean.
        ("XC\\img1.jpg", ["Clinical/XC\\img1.jpg"], _at("Clinical/XC\\img1.jpg")[0]),
        ("XC\\img1.jpg", ["XC/img1.jpg"], _at("XC/img1.jpg")[0]),
        # At the visit's own level (not what a scan makes, but the index may be given it).
        ("XC\\img1.jpg", ["XC\\img1.jpg", "XC/img1.jpg"], _at("XC\\img1.jpg", "XC/img1.jpg")),
        # A bare name with a backslash: the base name of one file, a Windows path of another.
        ("a\\b.jpg", ["XC/a\\b.jpg", "a/b.jpg"], _at("XC/a\\b.jpg", "a/b.jpg")),
        ("a\\b.jpg", ["XC/a\\b.jpg", "Other/a\\b.jpg"], _at("XC/a\\b.jpg", "Other/a\\b.jpg")),
        ("a\\b.jpg", ["XC/a\\b.jpg", "XC/b.jpg"], _at("XC/a\\b.jpg")[0]),
        # Mixed separators: a file named `a\b.jpg` in XC, or XC's folder a.
        ("XC/a\\b.jpg", ["XC/a\\b.jpg", "XC/a/b.jpg"], _at("XC/a\\b.jpg", "XC/a/b.jpg")),
        # `..` segments are never walked: no image outside the path as written.
        ("..\\Visit_1\\XC\\img1.jpg", ["XC/img1.jpg"], None),
        ("XC\\..\\XC\\img1.jpg", ["XC/img1.jpg"], None),
        ("..\\img1.jpg", ["img1.jpg", "XC/img1.jpg"], None),
        # Only backslashes, doubled or leading ones: no image but one literally so named.
        ("\\", ["XC/img1.jpg"], None),
        ("\\\\", ["XC/img1.jpg", "XC/\\\\"], _at("XC/\\\\")[0]),
        ("XC\\\\img1.jpg", ["XC/img1.jpg"], None),
        ("\\XC\\img1.jpg", ["XC/img1.jpg"], None),
    ],
)
def test_a_backslash_name_matches_the_one_image_it_can_mean_or_none(
    tmp_path: Path, file: str, images: list[str], expected: str | tuple[str, ...] | None
) -> None:
    result = _match(tmp_path, file, _images(*images))
    assert _where(result) == expected
    if expected is None:
        assert [u.reason for u in result.unknown] == [f"no image {file!r} in {CASE}/{VISIT}"]
