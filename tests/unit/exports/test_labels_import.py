"""Reading a labels CSV back in and matching its rows to the images of a project."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.errors import ImportFileError
from clinlabel.exports.csv_import import ImportRow, read_labels_csv
from clinlabel.exports.import_matching import match_import_rows

# What the seed tool writes: bare file names, no BOM, \n line ends.
SEED_CSV = (
    "case,visit,file,label,comment\n"
    "Case_001,Visit_1,img1.jpg,Suspicious,\n"
    'Case_001,Visit_1,img2.png,NA,"blurred, retake"\n'
    "Case_002,Visit_1,scan.jpg,Non-Suspicious,\n"
)

IMAGES = [
    ("Case_001/Visit_1/XC_CLINICAL/img1.jpg", "Case_001", "Visit_1", "XC_CLINICAL/img1.jpg"),
    ("Case_001/Visit_1/XC_CLINICAL/img2.png", "Case_001", "Visit_1", "XC_CLINICAL/img2.png"),
    ("Case_001/Visit_2/XC/img1.jpg", "Case_001", "Visit_2", "XC/img1.jpg"),
    ("Case_002/Visit_1/XC/scan.jpg", "Case_002", "Visit_1", "XC/scan.jpg"),
    ("Case_002/Visit_1/CLINICAL/scan.jpg", "Case_002", "Visit_1", "CLINICAL/scan.jpg"),
]


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def test_seed_csv_is_read_with_line_numbers(tmp_path: Path) -> None:
    rows = read_labels_csv(write(tmp_path, SEED_CSV))
    assert rows[0] == ImportRow(2, "Case_001", "Visit_1", "img1.jpg", "Suspicious", "")
    assert rows[1].comment == "blurred, retake"
    assert [r.line for r in rows] == [2, 3, 4]


def test_line_numbers_count_physical_lines_of_multiline_comments(tmp_path: Path) -> None:
    text = 'case,visit,file,label,comment\nC,V,a.jpg,NA,"two\nlines"\n\nC,V,b.jpg,NA,x\n'
    rows = read_labels_csv(write(tmp_path, text))
    assert [(r.file, r.line) for r in rows] == [("a.jpg", 2), ("b.jpg", 5)]
    assert rows[0].comment == "two\nlines"


def test_bom_is_accepted_and_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + SEED_CSV.encode())
    assert read_labels_csv(path)[0].case == "Case_001"


def test_bare_names_are_matched_within_their_visit(tmp_path: Path) -> None:
    result = match_import_rows(read_labels_csv(write(tmp_path, SEED_CSV)), IMAGES)
    assert [(r.file, relpath) for r, relpath in result.matched] == [
        ("img1.jpg", "Case_001/Visit_1/XC_CLINICAL/img1.jpg"),
        ("img2.png", "Case_001/Visit_1/XC_CLINICAL/img2.png"),
    ]
    # Case_002/Visit_1 holds scan.jpg in two XC/CLINICAL folders: never guess.
    [ambiguous] = result.ambiguous
    assert ambiguous.row.file == "scan.jpg"
    assert ambiguous.candidates == (
        "Case_002/Visit_1/XC/scan.jpg",
        "Case_002/Visit_1/CLINICAL/scan.jpg",
    )
    assert not result.unknown
    assert not result.clean


def test_paths_below_the_visit_match_exactly_even_with_backslashes(tmp_path: Path) -> None:
    text = "case,visit,file,label\nCase_002,Visit_1,CLINICAL\\scan.jpg,NA\n"
    result = match_import_rows(read_labels_csv(write(tmp_path, text)), IMAGES)
    assert [relpath for _, relpath in result.matched] == ["Case_002/Visit_1/CLINICAL/scan.jpg"]
    assert result.clean


def test_a_backslash_that_is_part_of_a_file_name_matches_that_file(tmp_path: Path) -> None:
    """On Linux and macOS `a\\b.jpg` is one file's name; clinlabel's export writes it as it is,
    and reading it back must find that file, by path or by bare name (a backslash is also read
    as a Windows separator: a name that means two images so is refused, never guessed)."""
    images = [
        *IMAGES,
        ("Case_003/Visit_1/XC/a\\b.jpg", "Case_003", "Visit_1", "XC/a\\b.jpg"),
        ("Case_003/Visit_1/CLINICAL/a/b.jpg", "Case_003", "Visit_1", "CLINICAL/a/b.jpg"),
    ]
    text = (
        "case,visit,file,label\n"
        "Case_003,Visit_1,XC/a\\b.jpg,NA\n"
        "Case_003,Visit_1,CLINICAL\\a\\b.jpg,Suspicious\n"
        "Case_002,Visit_1,XC\\scan.jpg,NA\n"
    )
    result = match_import_rows(read_labels_csv(write(tmp_path, text)), images)
    assert result.clean
    assert [relpath for _, relpath in result.matched] == [
        "Case_003/Visit_1/XC/a\\b.jpg",
        "Case_003/Visit_1/CLINICAL/a/b.jpg",
        "Case_002/Visit_1/XC/scan.jpg",
    ]
    bare = "case,visit,file,label\nCase_003,Visit_1,a\\b.jpg,NA\n"
    result = match_import_rows(read_labels_csv(write(tmp_path, bare, "bare.csv")), images)
    assert [relpath for _, relpath in result.matched] == ["Case_003/Visit_1/XC/a\\b.jpg"]


def test_unknown_rows_say_what_is_missing(tmp_path: Path) -> None:
    text = (
        "case,visit,file,label,comment\n"
        "Case_009,Visit_1,img1.jpg,NA,x\n"
        "Case_001,Visit_7,img1.jpg,NA,x\n"
        "Case_001,Visit_1,nope.jpg,NA,x\n"
        "Case_001,Visit_1,XC/img1.jpg,NA,x\n"
    )
    result = match_import_rows(read_labels_csv(write(tmp_path, text)), IMAGES)
    assert result.matched == []
    reasons = [u.reason for u in result.unknown]
    assert "no case 'Case_009'" in reasons[0]
    assert "no visit 'Visit_7'" in reasons[1]
    assert "no image 'nope.jpg'" in reasons[2]
    assert "no image 'XC/img1.jpg'" in reasons[3]  # a wrong folder is not rescued by the name


def test_duplicate_rows_for_one_image_keep_the_last_and_are_reported(tmp_path: Path) -> None:
    text = (
        "case,visit,file,label,comment\n"
        "Case_001,Visit_1,img1.jpg,Suspicious,\n"
        "Case_001,Visit_1,img2.png,Suspicious,\n"
        "Case_001,Visit_1,XC_CLINICAL/img1.jpg,NA,second thoughts\n"
    )
    result = match_import_rows(read_labels_csv(write(tmp_path, text)), IMAGES)
    assert [(r.line, r.label) for r, _ in result.matched] == [(3, "Suspicious"), (4, "NA")]
    [dup] = result.duplicates
    assert dup.relpath == "Case_001/Visit_1/XC_CLINICAL/img1.jpg"
    assert dup.kept.line == 4
    assert [r.line for r in dup.superseded] == [2]


def test_frames_of_one_file_are_not_duplicates(tmp_path: Path) -> None:
    text = (
        "case,visit,file,label,frame\n"
        "Case_001,Visit_1,img1.jpg,NA,1\n"
        "Case_001,Visit_1,img1.jpg,NA,2\n"
    )
    result = match_import_rows(read_labels_csv(write(tmp_path, text)), IMAGES)
    assert [r.frame for r, _ in result.matched] == [1, 2]
    assert result.duplicates == []


def test_detailed_export_columns_are_allowed_and_comment_is_optional(tmp_path: Path) -> None:
    text = "Case ,VISIT,file,label,annotator,sha256\nCase_001,Visit_1,img1.jpg,Suspicious,a,ff\n"
    [only] = read_labels_csv(write(tmp_path, text))
    assert (only.case, only.label, only.comment) == ("Case_001", "Suspicious", "")


def test_semicolon_csv_from_a_european_excel_is_read(tmp_path: Path) -> None:
    text = "case;visit;file;label;comment\r\nCase_001;Visit_1;img1.jpg;NA;a, b\r\n"
    [only] = read_labels_csv(write(tmp_path, text))
    assert (only.file, only.comment) == ("img1.jpg", "a, b")


def test_wrong_columns_name_what_was_found_and_what_is_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "patient,visit,image,label\nA,B,C,D\n")
    with pytest.raises(ImportFileError) as caught:
        read_labels_csv(path)
    message = str(caught.value)
    assert "lacks case, file" in message
    assert "'patient', 'visit', 'image', 'label'" in message
    assert "Expected case, visit, file, label, comment" in message


def test_repeated_required_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "case,visit,file,label,label\nA,B,C,D,E\n")
    with pytest.raises(ImportFileError, match="repeats label"):
        read_labels_csv(path)


def test_latin1_bytes_give_a_clear_encoding_error(tmp_path: Path) -> None:
    text = "case,visit,file,label,comment\nCase_001,Visit_1,img1.jpg,NA,lésion pâle\n"
    path = write(tmp_path, text.encode("latin-1"))
    with pytest.raises(ImportFileError) as caught:
        read_labels_csv(path)
    message = str(caught.value)
    assert "not UTF-8" in message
    assert "0xE9 on line 2" in message
    assert "CSV UTF-8" in message  # how to re-save it


def test_utf16_is_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, "case\tvisit\tfile\tlabel\n".encode("utf-16"))
    with pytest.raises(ImportFileError, match="UTF-16"):
        read_labels_csv(path)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \n"])
def test_empty_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ImportFileError, match="is empty"):
        read_labels_csv(write(tmp_path, content))


def test_header_without_rows_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no label rows"):
        read_labels_csv(write(tmp_path, "case,visit,file,label,comment\n"))


def test_short_rows_and_bad_frames_are_listed_by_line(tmp_path: Path) -> None:
    text = "case,visit,file,label,frame\nA,B,c.jpg\nA,B,c.jpg,NA,two\nA,B,d.jpg,NA,1\n"
    with pytest.raises(ImportFileError) as caught:
        read_labels_csv(write(tmp_path, text))
    assert "line 2 has 3 fields" in str(caught.value)
    assert "line 3 has frame 'two'" in str(caught.value)


def test_unclosed_quote_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="not a well-formed CSV"):
        read_labels_csv(write(tmp_path, 'case,visit,file,label\nA,B,"c.jpg,NA\n'))


def test_missing_file_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="Cannot read"):
        read_labels_csv(tmp_path / "absent.csv")


def test_our_detailed_export_imports_back_with_frames_and_originals(tmp_path: Path) -> None:
    from clinlabel.exports import LabelRow
    from clinlabel.exports.csv import write_frame_labels_csv, write_labels_csv

    whole = [
        LabelRow("Case_001", "Visit_1", "XC_CLINICAL/img2.png", "NA", "-ve, \"odd\"\n2", "a", "t",
                 None, None),
    ]  # fmt: skip
    frames = [
        LabelRow("Case_001", "Visit_1", "XC_CLINICAL/img1.jpg", "NA", "=SUM(A1)", "a", "t", 1.0,
                 None, 3),
    ]  # fmt: skip
    out = tmp_path / "detailed.csv"
    frame_out = tmp_path / "clinical_frame_labels.csv"
    write_labels_csv(whole, out, detailed=True)
    write_frame_labels_csv(frames, frame_out, detailed=True)
    imported = read_labels_csv(out) + read_labels_csv(frame_out)
    assert [(r.file, r.comment, r.frame) for r in imported] == [
        ("XC_CLINICAL/img2.png", '-ve, "odd"\n2', 0),
        ("XC_CLINICAL/img1.jpg", "=SUM(A1)", 3),
    ]
    result = match_import_rows(imported, IMAGES)
    assert result.clean and len(result.matched) == 2
