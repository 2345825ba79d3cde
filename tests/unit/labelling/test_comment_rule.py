"""One rule for comments, whichever way they come in (the page, the API, a CSV import):
control characters other than tab and line feed are refused, line breaks are kept as `\\n`, and
a comment of only whitespace or invisible characters is no comment. What is stored verifies and
exports as it was given (issue 9, part 2)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.domain.labels import clean_comment
from clinlabel.errors import ImportFileError, ValidationError
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.outputs import export_csv
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_are_refused(char: str) -> None:
    with pytest.raises(ValidationError, match=f"control character \\(U\\+{ord(char):04X}\\)"):
        clean_comment(f"blurred{char}retake")


@pytest.mark.parametrize("blank", ["", "   ", "\u200b", " \u200b\u200c\u200d\u2060\ufeff ", "\t\n"])
def test_whitespace_and_zero_width_only_is_no_comment(blank: str) -> None:
    assert clean_comment(blank) == ""


def test_tabs_and_line_breaks_are_kept_and_crlf_becomes_lf() -> None:
    assert clean_comment(" a\tb\r\nc\rd ") == "a\tb\nc\nd"


def test_the_rule_holds_through_the_session_verify_and_export(
    project: Project, tmp_path: Path
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    image = session.start().view
    with pytest.raises(ValidationError, match="control character"):
        session.save_label(image.id, "NA", "lesion\x00 hidden")
    with pytest.raises(ValidationError, match="needs a comment"):
        session.save_label(image.id, "NA", "\u200b\u200d \ufeff")
    assert session.image(image.id).label is None
    saved = session.save_label(image.id, "NA", "out of focus\tleft\r\nretake")
    assert saved.comment == "out of focus\tleft\nretake"
    session.close()
    assert verify_store(project.store).ok
    out = tmp_path / "labels.csv"
    export_csv(project, out, actor="t")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][3:5] == ["NA", "out of focus\tleft\nretake"]


def _csv(tmp_path: Path, comment: str) -> Path:
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        writer.writerow(["Case_1", "Visit_1", "img2.jpg", "NA", comment])
    return path


@pytest.mark.parametrize(
    ("comment", "message"),
    [("poor\x1b[31m light", "control character"), ("\u200b", "needs a comment")],
)
def test_an_import_names_the_line_and_imports_nothing(
    project: Project, tmp_path: Path, comment: str, message: str
) -> None:
    with pytest.raises(ImportFileError, match=f"line 2 \\(.*{message}"):
        import_labels(project, _csv(tmp_path, comment), annotator="Dr B")
    with project.store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM labels").scalar() == 0
    assert verify_store(project.store).ok


def test_an_imported_multiline_comment_verifies(project: Project, tmp_path: Path) -> None:
    report = import_labels(project, _csv(tmp_path, "two\r\nlines\tand a tab"), annotator="Dr B")
    assert report.imported == 1
    assert verify_store(project.store).ok
