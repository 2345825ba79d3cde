"""`clinlabel import --csv` in a reading study, under a reader name that only looks like one of the
study's readers ("a" for "A", a full-width or a Cyrillic letter): refused even with
`--outside-worklist`, nothing imported. Taken as given, the rows would become the reads of a
reader nobody assigned, counted apart from the real one's in the agreement."""

from __future__ import annotations

from pathlib import Path

from clinlabel.labelling.project import open_project
from clinlabel.labelling.worklist import reader_worklist
from clinlabel.store import people

from .cli_run import assert_user_error, run, two_case_batch

ROWS = (
    "case,visit,file,label,comment\n"
    "Case_1,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,\n"
    "Case_2,Visit_1,XC_CLINICAL/img1.jpg,Suspicious,\n"
)


def test_attack13b_an_import_under_a_look_alike_of_a_study_reader_is_refused(
    tmp_path: Path,
) -> None:
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", batch, "--out", project).exit_code == 0
    assigned = run("study", "assign", project, "--readers", "Ann,Bob", "--by-case",
                   "--order", "batch", "--seed", "1")  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    csv = tmp_path / "ann.csv"
    csv.write_text(ROWS)
    for name in ("ann", "ANN", "\uff21nn", "\u0410nn"):  # case, full width, Cyrillic A
        refused = run("import", project, "--csv", csv, "--annotator", name, "--outside-worklist")
        assert_user_error(refused, "Nothing was imported", "'Ann'")
    with open_project(project) as opened:
        assert reader_worklist(opened, "Ann").done == 0
        with opened.store.read() as conn:
            assert people.annotator_names(conn) == ["Ann", "Bob"]
    # The reader's own name still imports.
    done = run("import", project, "--csv", csv, "--annotator", "Ann", "--outside-worklist")
    assert done.exit_code == 0, done.output
