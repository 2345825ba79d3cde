"""A team project's exports: the default CSV carries the adjudicated label (and the report says
so), `--readers` puts every reader's label side by side; a single reader's CSV is unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from clinlabel.labelling.adjudication import adjudicate, adjudication_queue
from clinlabel.labelling.project import open_project

from .cli_run import assert_user_error, run, two_case_batch

FILES = [("Case_1", "XC_CLINICAL/img1.jpg"), ("Case_1", "XC_CLINICAL/img2.jpg"),
         ("Case_2", "XC_CLINICAL/img1.jpg")]  # fmt: skip


def _import(project: Path, tmp_path: Path, reader: str, labels: list[str]) -> None:
    path = tmp_path / f"{reader}.csv"
    lines = ["case,visit,file,label,comment"]
    for (case, file), label in zip(FILES, labels, strict=True):
        lines.append(f"{case},Visit_1,{file},{label},{'blurred' if label == 'NA' else ''}")
    path.write_text("\n".join(lines) + "\n")
    result = run("import", project, "--csv", path, "--annotator", reader)
    assert result.exit_code == 0, result.output


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _team(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    assert run("init", two_case_batch(tmp_path / "Batch"), "--out", project).exit_code == 0
    _import(project, tmp_path, "Dr A", ["Suspicious", "NA", "Suspicious"])
    _import(project, tmp_path, "Dr B", ["Suspicious", "Non-Suspicious", "Non-Suspicious"])
    with open_project(project) as opened:
        image_id = next(
            i.image_id
            for i in adjudication_queue(opened).items
            if i.relpath == "Case_1/Visit_1/XC_CLINICAL/img2.jpg"
        )
        adjudicate(opened, reviewer="Dr Lead", image_id=image_id, label="NA", reason="too blurred")
    return project


def test_a_team_projects_csv_has_the_adjudicated_label_and_the_report_says_so(
    tmp_path: Path,
) -> None:
    project = _team(tmp_path)
    assert run("export", project, "--report").exit_code == 0
    rows = _rows(project / "clinical_labels.csv")
    assert rows[0] == ["case", "visit", "file", "label", "comment"]
    assert rows[1:] == [
        ["Case_1", "Visit_1", "XC_CLINICAL/img1.jpg", "Suspicious", ""],
        ["Case_1", "Visit_1", "XC_CLINICAL/img2.jpg", "NA", "too blurred"],
        ["Case_2", "Visit_1", "XC_CLINICAL/img1.jpg", "",
         "readers disagree; not adjudicated (Dr A: Suspicious; Dr B: Non-Suspicious)"],
    ]  # fmt: skip
    report = " ".join((project / "clinical_labels_summary.txt").read_text().split())
    assert "team project has one row per image with its adjudicated label: 1 images" in report
    assert "1 on which every reader who read it agreed" in report
    assert "1 on which the readers disagree" in report


def test_readers_puts_each_readers_label_beside_the_final_one(tmp_path: Path) -> None:
    project = _team(tmp_path)
    target = tmp_path / "readers.csv"
    result = run("export", project, "--readers", "--csv", target, "--no-report")
    assert result.exit_code == 0, result.output
    rows = _rows(target)
    assert rows[0] == ["case", "visit", "file", "Dr A", "Dr B", "adjudicated_label",
                       "adjudication_reason"]  # fmt: skip
    assert rows[2] == ["Case_1", "Visit_1", "XC_CLINICAL/img2.jpg", "NA", "Non-Suspicious", "NA",
                       "too blurred"]  # fmt: skip
    assert rows[3][-2:] == ["", ""]
    assert_user_error(run("export", project, "--readers", "--detailed"), "choose one")


def test_a_single_readers_csv_keeps_one_row_per_label_as_before(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert run("init", two_case_batch(tmp_path / "Batch"), "--out", project).exit_code == 0
    _import(project, tmp_path, "Dr A", ["Suspicious", "NA", "Suspicious"])
    assert run("export", project, "--report").exit_code == 0
    rows = _rows(project / "clinical_labels.csv")
    assert rows[2] == ["Case_1", "Visit_1", "XC_CLINICAL/img2.jpg", "NA", "blurred"]
    assert "team project" not in (project / "clinical_labels_summary.txt").read_text()


def test_adjudicate_lists_disagreements_and_records_a_final_label(tmp_path: Path) -> None:
    project = _team(tmp_path)
    listed = run("adjudicate", project)
    assert listed.exit_code == 0, listed.output
    assert "2 images, 1 still to adjudicate" in listed.output
    assert "Case_2/Visit_1/XC_CLINICAL/img1.jpg: Dr A: Suspicious; Dr B: Non-Suspicious" in (
        listed.output
    )
    assert_user_error(
        run("adjudicate", project, "--image", "Case_2/Visit_1/XC_CLINICAL/img1.jpg",
            "--label", "Suspicious"),
        "reason",
    )  # fmt: skip
    image = "Case_2/Visit_1/XC_CLINICAL/img1.jpg"
    given = run("adjudicate", project, "--image", image, "--label", "Suspicious",
                "--reason", "seen at 2x", "--reviewer", "Dr Lead")  # fmt: skip
    assert given.exit_code == 0, given.output
    data = json.loads(run("adjudicate", project, "--json", "--all").output)
    finals = {item["image"]: item["final"] for item in data["items"]}
    assert finals["Case_2/Visit_1/XC_CLINICAL/img1.jpg"] == "Suspicious"
    assert len(finals) == 3
    assert_user_error(run("adjudicate", project, "--image", "Case_9/x.jpg", "--label", "NA"),
                      "No image")  # fmt: skip
