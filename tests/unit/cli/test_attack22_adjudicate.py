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
        check_may_export,
        check_may_see_reads,
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
        for check in (check_may_export, check_may_see_reads):
            with pytest.raises(StudyRuleError, match=f"{sealed} first read"):
                check(project, READER)
    for args in (("export",), ("export", "--detailed"), ("report",)):
        refused = run(*args, project_dir)
        assert_user_error(refused, f"{sealed} first read(s) still sealed", "--include-sealed")
        assert "Suspicious" not in refused.output
    assert not (project_dir / "clinical_labels.csv").exists()
