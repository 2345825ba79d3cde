"""`clinlabel study assign` from the terminal: what it prints, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

from .cli_run import assert_user_error, run, two_case_batch


def _project(tmp_path: Path) -> Path:
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", batch, "--out", project).exit_code == 0
    return project


def test_assign_prints_each_readers_share_and_seed(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = run("study", "assign", project, "--readers", "Dr A, Dr B", "--per-image", "2",
                 "--repeats", "0.5", "--seed", "7")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "seed 7" in result.output
    assert "Dr A: 4 images + 2 repeats" in result.output
    assert "Dr B: 4 images + 2 repeats" in result.output
    log = run("audit", "log", project, "--json")
    assert "study_assigned" in log.output


def test_assign_refuses_two_designs_bad_fractions_and_a_second_study(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert_user_error(
        run("study", "assign", project, "--readers", "A", "--by-case", "--sample", "2"),
        "Choose one design",
    )
    assert_user_error(
        run("study", "assign", project, "--readers", "A", "--by-case", "--repeats", "2"),
        "--repeats is a fraction",
    )
    assert_user_error(
        run("study", "assign", project, "--readers", "A,B", "--per-image", "3"), "more readers"
    )
    assert run("study", "assign", project, "--readers", "A", "--by-case").exit_code == 0
    assert_user_error(
        run("study", "assign", project, "--readers", "A", "--by-case"), "already has a study"
    )
    assert_user_error(run("study", "assign", tmp_path / "none", "--readers", "A", "--by-case"))


def test_agreement_json_has_an_empty_intra_block_without_repeats(tmp_path: Path) -> None:
    project = _project(tmp_path)
    for reader in ("A", "B"):
        csv = tmp_path / f"{reader}.csv"
        csv.write_text(
            "case,visit,file,label,comment\n"
            "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,\n"
            "Case_1,Visit_1,XC_CLINICAL/img2.jpg,Non-Suspicious,\n"
        )
        assert run("import", project, "--csv", csv, "--annotator", reader).exit_code == 0
    result = run("agreement", project, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["intra"] == []
