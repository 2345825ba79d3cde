"""`clinlabel export` and `report` from a terminal in a blinded test-retest study: while a first
read is sealed (given, its repeat still to be read) the files would show it, and a terminal does
not know whether a reader runs it, so they refuse in one line (exit 2) unless told the person is
not a reader (`--include-sealed`, recorded in the export's event); once the repeats are read
they write as before. The page refuses its reader in the same case
(tests/api/test_studyreads_blinding.py)."""

from __future__ import annotations

import json
from pathlib import Path

from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from .cli_run import assert_user_error, run, two_case_batch

READER = "Dr A"


def _study_with_sealed_reads(tmp_path: Path, database_url: str | None = None) -> tuple[Path, int]:
    """A project whose reader Dr A has given every first read, none of the repeats: returns
    it and how many first reads are sealed."""
    batch = two_case_batch(tmp_path / "Batch")
    project_dir = tmp_path / "project"
    init_project(batch, project_dir, database_url=database_url)
    assigned = run("study", "assign", project_dir, "--readers", READER, "--by-case",
                   "--repeats", "0.5", "--order", "batch", "--seed", "7")  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    with open_project(project_dir) as project:
        items = reader_worklist(project, READER).items
        session = LabellingSession(project, annotator=READER, interface="test")
        session.start()
        for item in items:
            if not item.repeat:
                session.save_label(item.image_id, "Suspicious", position=item.position)
        session.close()
    sealed = sum(1 for item in items if item.repeat)
    assert sealed
    return project_dir, sealed


def _read_the_repeats(project_dir: Path) -> None:
    with open_project(project_dir) as project:
        items = reader_worklist(project, READER).items
        session = LabellingSession(project, annotator=READER, interface="test")
        session.start()
        for item in items:
            if item.repeat:
                session.save_label(item.image_id, "Non-Suspicious", position=item.position)
        session.close()


def _exports(project_dir: Path) -> list[dict[str, object]]:
    return [
        json.loads(str(event["data"]))
        for event in read_events(project_dir, limit=0)
        if event["kind"] == "export_written"
    ]


def test_sealed_export_from_a_terminal_is_refused_until_the_repeats_are_read(
    tmp_path: Path, database_url: str | None
) -> None:
    project_dir, sealed = _study_with_sealed_reads(tmp_path, database_url)
    csv = project_dir / "clinical_labels.csv"
    report = project_dir / "clinical_labels_summary.txt"
    for args in (
        ("export", project_dir),  # the plain CSV of one reader: the quick path's case
        ("export", project_dir, "--detailed"),
        ("export", project_dir, "--readers"),
        ("export", project_dir, "--report"),
        ("export", project_dir, "--csv", tmp_path / "elsewhere.csv"),
        ("report", project_dir),
        ("report", project_dir, "--print"),
    ):
        result = run(*args)
        assert_user_error(
            result, f"{sealed} first read(s) still sealed", READER, "--include-sealed"
        )
        assert "Suspicious" not in result.output
    assert not csv.exists() and not report.exists()
    assert not (tmp_path / "elsewhere.csv").exists()
    assert _exports(project_dir) == []

    _read_the_repeats(project_dir)
    assert run("export", project_dir).exit_code == 0
    assert run("report", project_dir).exit_code == 0
    assert "Suspicious" in csv.read_text(encoding="utf-8")
    assert all("sealed_first_reads" not in data for data in _exports(project_dir))


def test_sealed_export_include_sealed_writes_them_and_the_trail_says_so(tmp_path: Path) -> None:
    project_dir, sealed = _study_with_sealed_reads(tmp_path)
    written = run("export", project_dir, "--include-sealed")
    assert written.exit_code == 0, written.output
    assert "Suspicious" in (project_dir / "clinical_labels.csv").read_text(encoding="utf-8")
    assert run("report", project_dir, "--include-sealed").exit_code == 0
    assert run("report", project_dir, "--print", "--include-sealed").exit_code == 0
    exports = _exports(project_dir)
    assert [data["output"] for data in exports] == ["labels_csv", "summary_report"]
    assert all(data["sealed_first_reads"] == sealed for data in exports)


def test_sealed_export_of_regions_is_refused_as_the_labels_are(tmp_path: Path) -> None:
    """The regions drawn at a sealed first read are part of it: hidden with it."""
    from clinlabel.labelling.assignments import StudyDesign, assign_study

    from ..exports.region_project import PHOTO, SCHEMA, Drawer, make_region_batch

    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    batch = make_region_batch(tmp_path / "Batch", photo_cases=2)
    project_dir = tmp_path / "project"
    init_project(batch, project_dir, schema_path=schema)
    with open_project(project_dir) as project:
        assign_study(project, [READER], StudyDesign("by-case", order="batch", repeats=1.0), seed=3)
        drawer = Drawer(project, annotator=READER)
        drawer.draw(PHOTO, "Lesion", "box", {"x": 1, "y": 2, "w": 6, "h": 4})
        drawer.close()
        items = reader_worklist(project, READER).items
        session = LabellingSession(project, annotator=READER, interface="test")
        session.start()
        for item in items:
            if not item.repeat:
                session.save_label(item.image_id, "Suspicious", position=item.position)
        session.close()
    sealed = sum(1 for item in items if item.repeat)
    out = tmp_path / "coco"
    refused = run("export", project_dir, "--format", "coco", "--out", out)
    assert_user_error(refused, f"{sealed} first read(s) still sealed", "--include-sealed")
    assert not out.exists()
    assert_user_error(
        run("export", project_dir, "--format", "coco", "--out", out, "--annotator", READER),
        "still sealed",
    )
    written = run("export", project_dir, "--format", "coco", "--out", out, "--include-sealed")
    assert written.exit_code == 0, written.output
    assert [data.get("sealed_first_reads") for data in _exports(project_dir)] == [sealed]
