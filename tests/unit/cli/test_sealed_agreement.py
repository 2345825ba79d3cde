"""`clinlabel agreement` in a blinded test-retest study: the figures count every first read (per
pair, label and case, each reader against the majority), so while one is sealed (given, its
repeat still to be read) the command refuses in one line (exit 2), as a terminal export does,
unless told the person is not a reader (`--include-sealed`, said again on stderr); once the
repeats are read it prints as before, the test-retest block included. `clinlabel adjudicate`'s
list (each reader's label side by side) follows the same rule."""

from __future__ import annotations

import json
from pathlib import Path

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from .cli_run import assert_user_error, run, two_case_batch

READERS = {"Dr A": "Suspicious", "Dr B": "Non-Suspicious"}


def _reads(project_dir: Path, reader: str, label: str, *, repeats: bool) -> int:
    """`reader` reads their first reads (or their repeats) as `label`; returns how many."""
    with open_project(project_dir) as project:
        items = [i for i in reader_worklist(project, reader).items if i.repeat == repeats]
        session = LabellingSession(project, annotator=reader, interface="test")
        session.start()
        for item in items:
            session.save_label(item.image_id, label, position=item.position)
        session.close()
    return len(items)


def _study_with_sealed_reads(tmp_path: Path, database_url: str | None) -> tuple[Path, int]:
    """Two readers of every case, each with repeats to come, who have given every first read:
    returns the project and how many first reads are sealed."""
    batch = two_case_batch(tmp_path / "Batch")
    project_dir = tmp_path / "project"
    init_project(batch, project_dir, database_url=database_url)
    with open_project(project_dir) as project:
        design = StudyDesign("by-case", overlap=1.0, repeats=0.5, order="batch")
        assign_study(project, list(READERS), design, seed=7)
    for reader, label in READERS.items():
        _reads(project_dir, reader, label, repeats=False)
    with open_project(project_dir) as project:
        sealed = sum(
            1 for reader in READERS for i in reader_worklist(project, reader).items if i.repeat
        )
    assert sealed
    return project_dir, sealed


def test_sealed_agreement_from_a_terminal_is_refused_until_the_repeats_are_read(
    tmp_path: Path, database_url: str | None
) -> None:
    project_dir, sealed = _study_with_sealed_reads(tmp_path, database_url)
    for args in ((), ("--json",), ("--labels", "Suspicious,Non-Suspicious")):
        refused = run("agreement", project_dir, *args)
        assert_user_error(
            refused,
            f"{sealed} first read(s) still sealed",
            "Dr A, Dr B",
            "repeats",
            "--include-sealed",
        )
        assert "Suspicious" not in refused.output and "kappa" not in refused.output.lower()

    # The study's lead, who reads nothing, sees the figures and is told what they hold.
    lead = run("agreement", project_dir, "--json", "--include-sealed")
    assert lead.exit_code == 0, lead.output
    document = json.loads(lead.stdout)
    assert document["readers"] == ["Dr A", "Dr B"] and document["intra"] == []
    assert f"count {sealed} first read(s) still sealed" in lead.stderr

    for reader, label in READERS.items():
        _reads(project_dir, reader, label, repeats=True)
    after = run("agreement", project_dir, "--json")
    assert after.exit_code == 0, after.output
    assert after.stderr == ""
    document = json.loads(after.stdout)
    assert [entry["reader"] for entry in document["intra"]] == ["Dr A", "Dr B"]


def test_sealed_adjudication_list_from_a_terminal_is_refused_as_the_figures_are(
    tmp_path: Path,
) -> None:
    """`clinlabel adjudicate` lists each reader's label of each image: the same rule."""
    project_dir, sealed = _study_with_sealed_reads(tmp_path, None)
    for args in ((), ("--all",), ("--json",)):
        refused = run("adjudicate", project_dir, *args)
        assert_user_error(
            refused, f"{sealed} first read(s) still sealed", "Dr A, Dr B", "--include-sealed"
        )
        assert "Suspicious" not in refused.output

    lead = run("adjudicate", project_dir, "--json", "--all", "--include-sealed")
    assert lead.exit_code == 0, lead.output
    items = json.loads(lead.stdout)["items"]
    assert items and all(item["reads"] == READERS for item in items)
    assert f"holds {sealed} first read(s) still sealed" in lead.stderr

    for reader, label in READERS.items():
        _reads(project_dir, reader, label, repeats=True)
    after = run("adjudicate", project_dir, "--all")
    assert after.exit_code == 0, after.output
    assert "Dr A: Suspicious" in after.stdout and after.stderr == ""
