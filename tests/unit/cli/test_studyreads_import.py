"""`clinlabel import --csv FILE --annotator NAME` in a reading study: rows for images outside
that reader's worklist are refused (one line: how many, and the first few) unless the user says
`--outside-worklist`; imported so, they count as that reader's reads in the agreement."""

from __future__ import annotations

import json
from pathlib import Path

from clinlabel.labelling.project import open_project
from clinlabel.labelling.worklist import reader_worklist

from .cli_run import assert_user_error, run, two_case_batch

ALL_FOUR = (
    "case,visit,file,label,comment\n"
    "Case_1,Visit_1,XC_CLINICAL/img1.jpg,{0},\n"
    "Case_1,Visit_1,XC_CLINICAL/img2.jpg,{0},\n"
    "Case_2,Visit_1,XC_CLINICAL/img1.jpg,{0},\n"
    "Case_2,Visit_1,XC_CLINICAL/img2.jpg,{0},\n"
)


def test_studyreads_an_import_outside_the_readers_worklist_is_refused_unless_asked(
    tmp_path: Path,
) -> None:
    batch = two_case_batch(tmp_path / "Batch")
    project = tmp_path / "project"
    assert run("init", batch, "--out", project).exit_code == 0
    assigned = run("study", "assign", project, "--readers", "A,B", "--by-case",
                   "--order", "batch", "--seed", "1")  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    with open_project(project) as opened:
        mine = {item.relpath for item in reader_worklist(opened, "A").items}
    assert len(mine) == 2
    outside = sorted(f"Case_{c}/Visit_1/XC_CLINICAL/img{i}.jpg" for c in (1, 2) for i in (1, 2))
    outside = [relpath for relpath in outside if relpath not in mine]
    csv_a = tmp_path / "a.csv"
    csv_a.write_text(ALL_FOUR.format("Suspicious"))
    csv_b = tmp_path / "b.csv"
    csv_b.write_text(ALL_FOUR.format("Non-Suspicious"))

    refused = run("import", project, "--csv", csv_a, "--annotator", "A")
    assert_user_error(refused, "Nothing was imported", "2 row(s)", "A's worklist", *outside)
    # A name the study does not know has no worklist: all of its rows are outside it.
    assert_user_error(run("import", project, "--csv", csv_a, "--annotator", "C"), "4 row(s)")
    with open_project(project) as opened:
        assert reader_worklist(opened, "A").done == 0  # not even A's own two

    for csv, reader in ((csv_a, "A"), (csv_b, "B")):
        done = run("import", project, "--csv", csv, "--annotator", reader, "--outside-worklist")
        assert done.exit_code == 0, done.output
        assert f"Imported 4 labels for {reader}" in done.output
        assert "2 row(s) for images outside" in done.output
    # Each reader's two images outside their worklist are the other's: with them, every image
    # is read by both, and the agreement rests on all four.
    agreement = json.loads(run("agreement", project, "--json").output)
    assert agreement["readers"] == ["A", "B"]
    assert agreement["pairs"][0]["n"] == 4
