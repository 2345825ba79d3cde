"""Where `export --csv` and `report --txt` still write (found by the attack on issue 9).

README: clinlabel refuses to put any output inside the batch "or inside any folder that holds
Case/Visit/XC images"; `render -o` does refuse another batch, but `export` and `report` only
refuse their own project's batch. With `--force` they replace an original image of another
batch, and a project's database (this one's or another's, even while its server runs): the
labels and the audit trail are gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import cli_run
from .cli_run import two_case_batch


def run(*args: object) -> tuple[int, str]:
    result = cli_run.run(*args)
    return result.exit_code, result.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    code, output = run("init", two_case_batch(tmp_path / "Batch"), "--out", tmp_path / "project")
    assert code == 0, output
    return tmp_path / "project"


@pytest.mark.parametrize("command", ["export", "report"])
def test_an_output_never_replaces_an_image_of_another_batch(
    project: Path, tmp_path: Path, command: str
) -> None:
    other = two_case_batch(tmp_path / "OtherBatch")
    image = other / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    before = image.read_bytes()
    option = "--csv" if command == "export" else "--txt"
    code, _ = run(command, project, option, image, "--force")
    assert image.read_bytes() == before, f"{command} {option} --force replaced an original image"
    assert code == 2


def test_a_report_is_not_written_inside_another_batch(project: Path, tmp_path: Path) -> None:
    other = two_case_batch(tmp_path / "OtherBatch")
    target = other / "Case_1" / "report.txt"
    code, _ = run("report", project, "--txt", target)
    assert not target.exists(), "the report was written inside another batch"
    assert code == 2


@pytest.mark.parametrize("whose", ["own", "other"])
def test_export_force_never_replaces_a_project_database(
    project: Path, tmp_path: Path, whose: str
) -> None:
    if whose == "own":
        database = project / "clinlabel.db"
    else:
        code, output = run("init", two_case_batch(tmp_path / "B2"), "--out", tmp_path / "p2")
        assert code == 0, output
        database = tmp_path / "p2" / "clinlabel.db"
    before = database.read_bytes()[:16]
    code, _ = run("export", project, "--csv", database, "--force")
    assert database.read_bytes()[:16] == before, "export --force replaced a project's database"
    assert code == 2
