"""Outputs go only where they may: never over an original, inside a batch, or over a user's file.

Also the bounded CSV frame column and a full disk under the CLI's own output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project

from .cli_run import assert_user_error, run, two_case_batch

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return two_case_batch(tmp_path / "Batch")


@pytest.fixture
def project(tmp_path: Path, batch: Path) -> Path:
    result = run("init", batch, "--out", tmp_path / "project")
    assert result.exit_code == 0, result.output
    return tmp_path / "project"


def test_render_never_writes_over_its_own_file(batch: Path) -> None:
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    before = image.read_bytes()
    assert_user_error(run("render", image, "-o", image), "never writes over an original")
    assert image.read_bytes() == before


def test_render_never_writes_inside_a_batch(batch: Path, tmp_path: Path) -> None:
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    for inside in (
        image.with_name("img1.png"),
        batch / "Case_2" / "preview.png",
        batch / "new" / "preview.png",
    ):
        assert_user_error(run("render", image, "-o", inside), "inside the batch folder")
        assert not inside.exists()
    # The file may come from a batch; the picture goes anywhere outside one.
    assert run("render", image, "-o", tmp_path / "preview.png").exit_code == 0


def test_render_replaces_a_file_only_with_force(batch: Path, tmp_path: Path) -> None:
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    target = tmp_path / "preview.png"
    target.write_bytes(b"mine")
    assert_user_error(run("render", image, "-o", target), "already exists", "--force")
    assert target.read_bytes() == b"mine"
    assert run("render", image, "-o", target, "--force").exit_code == 0
    assert target.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["clinlabel.db", "clinlabel.db-wal", "clinlabel.lock"])
def test_no_output_replaces_a_project_file_even_with_force(
    project: Path, batch: Path, name: str
) -> None:
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    target = project / name
    existed = target.exists()
    before = target.read_bytes() if existed else None
    assert_user_error(run("render", image, "-o", target, "--force"), "belongs to the clinlabel")
    assert_user_error(run("report", project, "--txt", target, "--force"), "belongs to the")
    assert (target.read_bytes() if existed else None) == before
    assert target.exists() == existed


def test_export_and_report_keep_a_file_that_is_not_a_clinlabel_output(
    project: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\nwork,here\n", encoding="utf-8")
    thesis = tmp_path / "thesis.txt"
    thesis.write_text("Chapter 1\n", encoding="utf-8")
    assert_user_error(run("export", project, "--csv", notes), "notes.csv", "--force")
    assert_user_error(run("report", project, "--txt", thesis), "thesis.txt", "--force")
    assert notes.read_text(encoding="utf-8") == "my,own\nwork,here\n"
    assert thesis.read_text(encoding="utf-8") == "Chapter 1\n"
    # The summary written beside a CSV is checked too, before anything is written.
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "clinical_labels_summary.txt").write_text("mine\n", encoding="utf-8")
    assert_user_error(
        run("export", project, "--csv", folder / "labels.csv", "--report"),
        "clinical_labels_summary.txt",
    )
    assert not (folder / "labels.csv").exists()
    assert run("export", project, "--csv", notes, "--force").exit_code == 0
    assert notes.read_text(encoding="utf-8-sig").startswith("case,visit,file,label,comment")
    assert run("report", project, "--txt", thesis, "--force").exit_code == 0


def test_clinlabel_outputs_are_replaced_without_force(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "labels.csv"
    for _ in range(2):
        result = run("export", project, "--csv", target, "--detailed")
        assert result.exit_code == 0, result.output
    for _ in range(2):
        assert run("report", project, "--txt", tmp_path / "summary.txt").exit_code == 0


def test_export_says_where_the_summary_goes_before_writing(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "labels.csv"
    result = run("export", project, "--csv", target, "--report")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    summary = (tmp_path / "elsewhere" / "clinical_labels_summary.txt").resolve()
    assert (
        first == f"Writing the labels CSV to {target.resolve()} and the summary report to {summary}"
    )
    assert summary.is_file()
    assert "summary report is written beside it" in " ".join(run("export", "--help").output.split())


def test_a_full_disk_under_stdout_is_one_line_and_no_exception_ignored(project: Path) -> None:
    """/dev/full fails every write with ENOSPC, as a log redirected onto a full disk does."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "clinlabel", "export", str(project)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == "clinlabel: cannot write the output: No space left on device.\n"


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("1180591620717411303424", "more than any image has"),
        ("9223372036854775808", "more than any image has"),
        ("²", "not a whole number"),
        ("-1", "frames are numbered from 1"),
    ],
)
def test_a_csv_frame_column_out_of_range_is_refused(
    project: Path, tmp_path: Path, frame: str, why: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f"case,visit,file,label,comment,frame\nCase_1,Visit_1,img1.jpg,Suspicious,,{frame}\n",
        encoding="utf-8",
    )
    assert_user_error(run("import", project, "--csv", path, "--annotator", "Dr B"), why)
    with open_project(project) as opened, opened.store.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM labels").scalar() == 0


def test_an_imported_frame_label_must_name_a_frame_the_file_has(
    project: Path, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "case,visit,file,label,comment,frame\n"
        "Case_1,Visit_1,img1.jpg,Suspicious,,1\n"
        "Case_1,Visit_1,img2.jpg,Suspicious,,3\n",
        encoding="utf-8",
    )
    result = run("import", project, "--csv", path, "--annotator", "Dr B")
    assert_user_error(result, "line 3", "img2.jpg has 1 frame; frame 3 does not exist")
    skipped = run("import", project, "--csv", path, "--annotator", "Dr B", "--skip-unmatched")
    assert skipped.exit_code == 0 and "Imported 1 labels" in skipped.output


@pytest.mark.parametrize(
    "args", [("--idle-minutes", "nan"), ("--cache-gb", "nan"), ("--cache-gb", "inf")]
)
def test_label_refuses_numbers_that_are_not_finite(batch: Path, args: tuple[str, str]) -> None:
    result = CliRunner().invoke(cli, ["label", str(batch), "--no-browser", *args])
    assert result.exit_code == 2 and args[0] in result.output
