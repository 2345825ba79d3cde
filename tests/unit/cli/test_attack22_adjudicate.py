"""`clinlabel adjudicate` in a blinded test-retest study: its list is every reader's label of
each image, so while a first read is sealed it refuses from a terminal as `export` does (a
terminal cannot tell whether a reader runs it), unless `--include-sealed`; and so does giving
a final label, whose refusals ("give the reason: the readers disagree") would tell a read."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.errors import StudyRuleError

from .cli_run import assert_user_error, run
from .test_sealed_export import READER, _read_the_repeats, _study_with_sealed_reads


def test_attack22_adjudicate_refuses_to_list_sealed_first_reads(tmp_path: Path) -> None:
    project_dir, sealed = _study_with_sealed_reads(tmp_path)
    for args in ((), ("--all",), ("--all", "--json")):
        refused = run("adjudicate", project_dir, *args)
        assert_user_error(refused)
        assert "Suspicious" not in refused.output
        assert f"{sealed} first read(s) still sealed" in refused.output
        assert READER in refused.output and "--include-sealed" in refused.output
    guessed = run("adjudicate", project_dir, "--image", "Case_1/Visit_1/XC_CLINICAL/img1.jpg",
                  "--label", "NA")  # fmt: skip
    assert_user_error(guessed)
    assert "sealed" in guessed.output and "disagree" not in guessed.output

    lead = run("adjudicate", project_dir, "--all", "--include-sealed")
    assert lead.exit_code == 0, lead.output
    assert f"{READER}: Suspicious" in lead.output

    _read_the_repeats(project_dir)
    listed = run("adjudicate", project_dir, "--all")
    assert listed.exit_code == 0, listed.output

    assert f"{READER}: Suspicious" in listed.output


def test_attack22_export_counts_a_sealed_read_of_an_image_gone_from_disk(tmp_path: Path) -> None:
    """Every sealed first read's file gone from the batch (moved, a disk not mounted) and the
    batch rescanned: the labels CSV still writes their labels (the gone images' rows come
    last), and the repeats are read once the files are back, so the reads are still sealed:
    the terminal's export refuses as before."""
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.rescan import DONE, BackgroundRescan
    from clinlabel.labelling.worklist import (
        ADJUDICATION,
        EXPORT,
        check_may_export,
        reader_worklist,
    )

    project_dir, sealed = _study_with_sealed_reads(tmp_path)
    with open_project(project_dir) as project:
        for item in reader_worklist(project, READER).items:
            if item.repeat:
                (project.batch / item.relpath).unlink()
        rescan = BackgroundRescan(project, write=lambda step: step())
        rescan.start()
        status = rescan.wait(120)
        assert status.state == DONE and status.missing == sealed, status
        # The local server's page refuses its reader the same export, and the adjudication.
        for output in (EXPORT, ADJUDICATION):
            with pytest.raises(StudyRuleError, match=f"{sealed} first read"):
                check_may_export(project, READER, output=output)
    for args in (("export",), ("export", "--detailed"), ("report",)):
        refused = run(*args, project_dir)
        assert_user_error(refused, f"{sealed} first read(s) still sealed", "--include-sealed")
        assert "Suspicious" not in refused.output
    assert not (project_dir / "clinical_labels.csv").exists()


def test_attack22_agreement_refuses_while_a_first_read_is_sealed(tmp_path: Path) -> None:
    """Two readers read every image; Dr A's first reads are given, her repeats not: the
    agreement's matrices and per-case figures count her sealed reads (the report, which holds
    them too, refuses), so it refuses from a terminal unless --include-sealed."""
    from clinlabel.labelling.project import init_project, open_project
    from clinlabel.labelling.service import LabellingSession
    from clinlabel.labelling.worklist import reader_worklist

    from .cli_run import two_case_batch

    project_dir = tmp_path / "project"
    init_project(two_case_batch(tmp_path / "Batch"), project_dir)
    design = ("--per-image", "2", "--repeats", "0.5", "--order", "batch", "--seed", "7")
    assigned = run("study", "assign", project_dir, "--readers", f"{READER},Dr B", *design)
    assert assigned.exit_code == 0, assigned.output
    with open_project(project_dir) as project:
        for reader, label in ((READER, "Suspicious"), ("Dr B", "Non-Suspicious")):
            session = LabellingSession(project, annotator=reader, interface="test")
            session.start()
            for item in reader_worklist(project, reader).items:
                if not item.repeat:
                    session.save_label(item.image_id, label, position=item.position)
            session.close()
    for args in ((), ("--json",)):
        refused = run("agreement", project_dir, *args)
        assert_user_error(refused, "still sealed", READER, "--include-sealed")
        assert "kappa" not in refused.output.lower()
    lead = run("agreement", project_dir, "--include-sealed")
    assert lead.exit_code == 0, lead.output
    assert "kappa" in lead.output.lower()
