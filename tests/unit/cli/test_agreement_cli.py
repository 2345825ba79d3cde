"""`clinlabel agreement` end to end: three readers' CSVs imported into one project with
`clinlabel import --annotator`, then the JSON gives the kappas statsmodels gives for the same
tables, and the alpha the krippendorff package gives."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from PIL import Image
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

from .cli_run import assert_user_error, run

LABELS = ["Suspicious", "Non-Suspicious", "NA"]
READERS = ["Dr A", "Dr Ā Kumar", "Dr C"]


def _batch(root: Path) -> list[tuple[str, str, str]]:
    images = []
    for c in range(1, 4):
        folder = root / f"Case_{c}" / "Visit_1" / "XC_CLINICAL"
        folder.mkdir(parents=True)
        for i in range(1, 9):
            Image.new("RGB", (8, 8), (30 * c, 20 * i, 5)).save(folder / f"img{i}.jpg")
            images.append((f"Case_{c}", "Visit_1", f"XC_CLINICAL/img{i}.jpg"))
    return images


def _reads(images: list[tuple[str, str, str]]) -> dict[str, list[str | None]]:
    """Readers who mostly agree with a shared truth; Dr C skips some images."""
    rng = random.Random(13)
    truth = [rng.choice(LABELS) for _ in images]
    reads: dict[str, list[str | None]] = {}
    for reader in READERS:
        row: list[str | None] = []
        for label in truth:
            read: str | None = label if rng.random() < 0.7 else rng.choice(LABELS)
            if reader == "Dr C" and rng.random() < 0.25:
                read = None
            row.append(read)
        reads[reader] = row
    return reads


def _write_csv(path: Path, images: list[tuple[str, str, str]], labels: list[str | None]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for (case, visit, file), label in zip(images, labels, strict=True):
            if label is not None:
                comment = "not assessable" if label == "NA" else ""
                writer.writerow([case, visit, file, label, comment])


@pytest.fixture
def study(tmp_path: Path) -> tuple[Path, dict[str, list[str | None]]]:
    images = _batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", tmp_path / "Batch", "--out", project).exit_code == 0
    reads = _reads(images)
    for n, reader in enumerate(READERS):
        path = tmp_path / f"reader{n}.csv"
        _write_csv(path, images, reads[reader])
        result = run("import", project, "--csv", path, "--annotator", reader)
        assert result.exit_code == 0, result.output
    return project, reads


def _table(a: list[str | None], b: list[str | None]) -> np.ndarray:
    table = np.zeros((3, 3), dtype=np.int64)
    for x, y in zip(a, b, strict=True):
        if x is not None and y is not None:
            table[LABELS.index(x), LABELS.index(y)] += 1
    return table


def test_agreement_json_gives_statsmodels_and_krippendorff_figures(
    study: tuple[Path, dict[str, list[str | None]]],
) -> None:
    project, reads = study
    result = run("agreement", project, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "clinlabel-agreement/1"
    assert doc["readers"] == READERS
    assert doc["labels"] == LABELS
    assert doc["intra"] == []
    assert [(p["a"], p["b"]) for p in doc["pairs"]] == [
        ("Dr A", "Dr Ā Kumar"),
        ("Dr A", "Dr C"),
        ("Dr Ā Kumar", "Dr C"),
    ]
    for pair in doc["pairs"]:
        table = _table(reads[pair["a"]], reads[pair["b"]])
        ref = cohens_kappa(table)
        assert pair["matrix"] == table.tolist()
        assert pair["n"] == int(table.sum())
        assert abs(pair["kappa"] - ref.kappa) < 1e-9
        # The interval is kappa +- 1.96 ASE, clipped to kappa's range [-1, 1].
        assert abs(pair["ci"][0] - max(-1.0, ref.kappa_low)) < 1e-9
        assert abs(pair["ci"][1] - min(1.0, ref.kappa_upp)) < 1e-9
        assert abs(pair["percent"] - 100 * np.trace(table) / table.sum()) < 1e-9
        assert pair["band"] in {"poor", "slight", "fair", "moderate", "substantial"} | {
            "almost perfect"
        }
    complete = [i for i in range(24) if all(reads[r][i] is not None for r in READERS)]
    counts = np.array(
        [[sum(reads[r][i] == label for r in READERS) for label in LABELS] for i in complete]
    )
    assert doc["fleiss"]["n"] == len(complete) < 24
    assert abs(doc["fleiss"]["kappa"] - fleiss_kappa(counts)) < 1e-9
    reliability = [[np.nan if v is None else LABELS.index(v) for v in reads[r]] for r in READERS]
    ref_alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert abs(doc["krippendorff"]["alpha"] - ref_alpha) < 1e-9
    assert doc["krippendorff"]["n"] == 24
    lo, hi = doc["krippendorff"]["ci"]
    assert lo < doc["krippendorff"]["alpha"] < hi
    assert [c["case"] for c in doc["per_case"]] == ["Case_1", "Case_2", "Case_3"]
    assert [m["reader"] for m in doc["majority"]] == READERS
    assert [item["label"] for item in doc["per_label"]] == LABELS


def test_seed_makes_the_interval_reproducible(
    study: tuple[Path, dict[str, list[str | None]]],
) -> None:
    project, _ = study
    first = json.loads(run("agreement", project, "--json", "--seed", "7").stdout)
    again = json.loads(run("agreement", project, "--json", "--seed", "7").stdout)
    other = json.loads(run("agreement", project, "--json", "--seed", "8").stdout)
    assert first == again
    assert first["krippendorff"]["ci"] != other["krippendorff"]["ci"]
    assert first["krippendorff"]["bootstrap"]["seed"] == 7


def test_terminal_table_and_labels_option(
    study: tuple[Path, dict[str, list[str | None]]],
) -> None:
    project, reads = study
    table = run("agreement", project)
    assert table.exit_code == 0
    assert "Cohen's kappa per pair of readers" in table.output
    assert "Fleiss' kappa" in table.output and "Krippendorff's alpha" in table.output
    assert "Confusion matrix: rows Dr A, columns Dr Ā Kumar" in table.output
    assert not re.search(r"\bnan\b", table.output, flags=re.IGNORECASE)
    only = json.loads(run("agreement", project, "--json", "--labels", "Suspicious, NA").stdout)
    assert only["labels"] == ["Suspicious", "NA"]
    kept = [None if v not in ("Suspicious", "NA") else v for v in reads["Dr A"]]
    other = [None if v not in ("Suspicious", "NA") else v for v in reads["Dr C"]]
    table2 = np.zeros((2, 2), dtype=np.int64)
    for x, y in zip(kept, other, strict=True):
        if x is not None and y is not None:
            table2[["Suspicious", "NA"].index(x), ["Suspicious", "NA"].index(y)] += 1
    pair = only["pairs"][1]
    assert pair["matrix"] == table2.tolist()
    assert abs(pair["kappa"] - cohens_kappa(table2).kappa) < 1e-9


def test_bad_labels_option_is_one_line_and_exit_2(
    study: tuple[Path, dict[str, list[str | None]]],
) -> None:
    project, _ = study
    assert_user_error(run("agreement", project, "--labels", "Benign"), "Unknown label", "Benign")
    assert_user_error(run("agreement", project, "--labels", " , "), "--labels")


def test_one_reader_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    images = _batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", tmp_path / "Batch", "--out", project).exit_code == 0
    assert_user_error(run("agreement", project), "no reader")
    _write_csv(tmp_path / "a.csv", images, ["Suspicious"] * len(images))
    assert run("import", project, "--csv", tmp_path / "a.csv", "--annotator", "Dr A").exit_code == 0
    assert_user_error(run("agreement", project, "--json"), "one reader (Dr A)", "clinlabel import")


def test_everyone_reads_one_label_kappa_is_undefined_in_words(tmp_path: Path) -> None:
    images = _batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", tmp_path / "Batch", "--out", project).exit_code == 0
    for reader in ("Dr A", "Dr B"):
        _write_csv(tmp_path / f"{reader}.csv", images, ["Suspicious"] * len(images))
        run("import", project, "--csv", tmp_path / f"{reader}.csv", "--annotator", reader)
    doc = json.loads(run("agreement", project, "--json").stdout)
    pair = doc["pairs"][0]
    assert pair["kappa"] is None and pair["ci"] is None and pair["percent"] == 100.0
    assert "same label" in pair["note"]
    assert doc["fleiss"]["kappa"] is None and "same label" in doc["fleiss"]["note"]
    text = run("agreement", project).output
    assert "undefined" in text and not re.search(r"\bnan\b", text, flags=re.IGNORECASE)


def test_written_summary_report_has_the_agreement_appendix(
    study: tuple[Path, dict[str, list[str | None]]], tmp_path: Path
) -> None:
    project, _ = study
    target = tmp_path / "summary.txt"
    result = run("report", project, "--txt", target)
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "APPENDIX A. AGREEMENT BETWEEN READERS" in text
    assert "Fleiss' kappa" in text and "Dr Ā Kumar" in text
    assert text.endswith("End of report.\n")
    assert "agreement" in run("--help").output
