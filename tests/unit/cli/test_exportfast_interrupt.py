"""Ctrl+C during `clinlabel export --csv` on the path without SQLAlchemy (`labelling.csv_export`,
taken once an earlier export kept its verified head) leaves the project, the kept head and the
earlier CSV exactly as they were (the harness: `interrupting`)."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.demo.batch import make_bench_tree
from clinlabel.labelling import csv_export
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import init_project, open_project

from .interrupting import assert_interrupted_cleanly, interrupt_at, project_state


def test_a_quick_export_interrupted_changes_nothing(tmp_path: Path) -> None:
    make_bench_tree(tmp_path / "Batch", images=1200, cases=30)
    project = tmp_path / "project"
    init_project(tmp_path / "Batch", project)
    table = tmp_path / "labels.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for case in range(1, 31):
            for visit in (1, 2):
                for number in range(1, 21):
                    writer.writerow([f"Case_{case:03d}", f"Visit_{visit}", f"img{number}.jpg",
                                     "NA", f"note {case}, {number}"])  # fmt: skip
    with open_project(project) as opened:
        assert import_labels(opened, table, annotator="ann").imported == 1200
    assert CliRunner().invoke(cli, ["export", str(project)]).exit_code == 0
    assert csv_export.plan(project, None, force=False) is not None  # the quick path is taken
    before = project_state(project)
    written = (project / "clinical_labels.csv").read_bytes()
    spool = tmp_path / "tmp"
    spool.mkdir()
    result = interrupt_at(
        ["export", project],
        when=lambda stage, done: stage == "Writing the labels CSV" and done >= 1000,
        tmpdir=spool,
    )
    assert_interrupted_cleanly(result, spool)
    assert project_state(project) == before  # no event, the same kept head
    assert (project / "clinical_labels.csv").read_bytes() == written
    assert not any(p.name.startswith(".clinical_labels") for p in project.iterdir())
