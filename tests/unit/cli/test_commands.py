"""The command line end to end on a generated batch: happy paths and every kind of bad input.

Bad input must give one line that says what to do, exit status 2, and lose or half-write nothing.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest

from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.engine import DATABASE_FILE

from .cli_run import assert_user_error, run

LAYOUT = {
    "Case_1/Visit_1/XC_CLINICAL": ["img1.jpg", "img2.jpg", "img10.jpg"],
    "Case_1/Visit_2/CLINICAL_IMAGES": ["img1.jpg"],
    "Case_2/Visit_1/XC": ["a.png", "b.png"],
    "Case_2/Visit_1/Dermoscopy": ["d1.jpg"],
}


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    from PIL import Image

    root = tmp_path / "Batch"
    for n, (folder, names) in enumerate(LAYOUT.items()):
        (root / folder).mkdir(parents=True)
        for k, name in enumerate(names):
            Image.new("RGB", (16, 12), (40 * n, 30 * k, 90)).save(root / folder / name)
    return root


@pytest.fixture
def project(tmp_path: Path, batch: Path) -> Path:
    result = run("init", batch, "--out", tmp_path / "project")
    assert result.exit_code == 0, result.output
    return tmp_path / "project"


def label_all(project: Path, labels: list[tuple[str, str | None]]) -> None:
    with open_project(project) as opened:
        session = LabellingSession(opened, annotator="Dr Ā Kumar", interface="test")
        session.start()
        for position, (label, comment) in enumerate(labels, start=1):
            session.save_label(session.show(position).view.id, label, comment)
        session.close()


def test_scan_json_lists_images_in_queue_order_and_skipped_folders(batch: Path) -> None:
    result = run("scan", batch, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["images"][:3] == [
        "Case_1/Visit_1/XC_CLINICAL/img1.jpg",
        "Case_1/Visit_1/XC_CLINICAL/img2.jpg",
        "Case_1/Visit_1/XC_CLINICAL/img10.jpg",
    ]
    assert data["counts"]["images"] == 6
    assert [s["path"] for s in data["skipped"]] == ["Case_2/Visit_1/Dermoscopy"]
    table = run("scan", batch)
    assert "Case_1" in table.output and "skipped" in table.output


def test_export_report_and_verify_end_to_end(project: Path) -> None:
    label_all(
        project,
        [
            ("Suspicious", None),
            ("NA", 'blurred, "retake" =HYPERLINK("x")'),
            ("Non-Suspicious", None),
            ("NA", "=1+1"),
        ],
    )
    result = run("export", project, "--detailed", "--report")
    assert result.exit_code == 0, result.output
    raw = (project / "clinical_labels.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (project / "clinical_labels.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:5] == ["case", "visit", "file", "label", "comment"]
    assert rows[1][:5] == ["Case_1", "Visit_1", "XC_CLINICAL/img1.jpg", "Suspicious", ""]
    assert rows[2][4] == 'blurred, "retake" =HYPERLINK("x")'
    assert rows[4][2] == "CLINICAL_IMAGES/img1.jpg" and rows[4][4] == "'=1+1"
    assert rows[1][5] == "Dr Ā Kumar" and len(rows[1][8]) == 64  # annotator, sha256
    report = (project / "clinical_labels_summary.txt").read_text(encoding="utf-8")
    assert "Dr Ā Kumar" in report and "=1+1" in report
    verify = run("audit", "verify", project)
    assert verify.exit_code == 0 and verify.output.startswith("OK:")


def test_audit_verify_names_the_tampered_event(project: Path) -> None:
    label_all(project, [("Suspicious", None), ("Non-Suspicious", None)])
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        raw.execute("UPDATE events SET data = replace(data, 'Non-Suspicious', 'Suspicious')")
    result = run("audit", "verify", project)
    assert result.exit_code == 1
    assert "BROKEN at event" in result.stderr


def test_import_seed_csv_with_bare_file_names(project: Path, tmp_path: Path) -> None:
    seed = tmp_path / "clinical_labels.csv"
    seed.write_text(
        "case,visit,file,label,comment\n"
        "Case_1,Visit_1,img2.jpg,Suspicious,\n"
        'Case_2,Visit_1,b.png,NA,"poor lighting, retake"\n',
        encoding="utf-8",
    )
    result = run("import", project, "--csv", seed, "--annotator", "Dr B")
    assert result.exit_code == 0, result.output
    assert "Imported 2 labels" in result.output
    run("export", project)
    text = (project / "clinical_labels.csv").read_text(encoding="utf-8-sig")
    assert "XC_CLINICAL/img2.jpg,Suspicious" in text
    assert 'XC/b.png,NA,"poor lighting, retake"' in text


@pytest.mark.parametrize(
    ("content", "encoding", "fragments"),
    [
        ("case,visit,name,label\nCase_1,Visit_1,img1.jpg,NA\n", "utf-8", ("file",)),
        ("case,visit,file,label\nCase_9,Visit_1,img1.jpg,Suspicious\n", "utf-8", ("Case_9",)),
        ("case,visit,file,label\nCase_1,Visit_1,img2.jpg,Maybe\n", "utf-8", ("Maybe",)),
        ("case,visit,file,label,comment\nCase_1,Visit_1,img2.jpg,NA,\n", "utf-8", ("comment",)),
        ("case,visit,file,label\nCase_1,Visit_1,café.jpg,NA\n", "latin-1", ("UTF-8",)),
    ],
)
def test_bad_import_files_import_nothing(
    project: Path, tmp_path: Path, content: str, encoding: str, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content.encode(encoding))
    result = run("import", project, "--csv", path, "--annotator", "Dr B")
    assert_user_error(result, *fragments)
    with open_project(project) as opened, opened.store.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM labels").scalar() == 0


def test_ambiguous_bare_names_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "B"
    for folder in ("Case_1/Visit_1/XC", "Case_1/Visit_1/CLINICAL"):
        (root / folder).mkdir(parents=True)
        (root / folder / "img1.jpg").write_bytes(b"\xff\xd8\xff x")
    run("init", root, "--out", tmp_path / "p")
    seed = tmp_path / "seed.csv"
    seed.write_text("case,visit,file,label\nCase_1,Visit_1,img1.jpg,Suspicious\n", encoding="utf-8")
    result = run("import", tmp_path / "p", "--csv", seed, "--annotator", "x")
    assert_user_error(result, "CLINICAL/img1.jpg", "XC/img1.jpg")


def test_missing_batch(tmp_path: Path) -> None:
    assert_user_error(run("scan", tmp_path / "nowhere"), "not found")
    assert_user_error(run("init", tmp_path / "nowhere", "--out", tmp_path / "p"), "not found")
    assert not (tmp_path / "p").exists()


def test_batch_without_xc_folders_shows_the_layout(tmp_path: Path) -> None:
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos").mkdir(parents=True)
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos" / "x.jpg").write_bytes(b"\xff\xd8\xff x")
    result = run("scan", tmp_path / "B")
    assert_user_error(result, "XC")


def test_output_inside_the_batch_is_refused(batch: Path, project: Path) -> None:
    assert_user_error(run("init", batch, "--out", batch / "out"), "inside the batch")
    label_all(project, [("Suspicious", None)])
    assert_user_error(run("export", project, "--csv", batch / "labels.csv"), "inside the batch")
    assert not (batch / "labels.csv").exists()


def test_not_a_project_damaged_and_newer_databases(tmp_path: Path, project: Path) -> None:
    assert_user_error(run("export", tmp_path), "not a clinlabel project")
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    assert_user_error(run("report", project), "newer clinlabel")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / DATABASE_FILE).write_bytes(b"\x00garbage" * 512)
    assert_user_error(run("export", damaged), "damaged")
    assert (damaged / DATABASE_FILE).read_bytes() == b"\x00garbage" * 512


def test_export_is_atomic_when_the_disk_fails(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    label_all(project, [("Suspicious", None)])
    assert run("export", project, "--no-report").exit_code == 0
    before = (project / "clinical_labels.csv").read_bytes()
    label_all(project, [("Non-Suspicious", None)])

    import errno
    import os

    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    result = run("export", project, "--no-report")
    monkeypatch.setattr(os, "fsync", real_fsync)
    # The message names the file the user asked for, not its hidden staged copy.
    assert_user_error(result, "disk is full", str(project / "clinical_labels.csv") + " was not")
    assert ".pending" not in result.stderr
    assert (project / "clinical_labels.csv").read_bytes() == before
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_verify_catches_an_edited_current_label(project: Path) -> None:
    label_all(project, [("Suspicious", None), ("Non-Suspicious", None)])
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE labels SET label = 'Non-Suspicious' WHERE label = 'Suspicious'")
    result = run("audit", "verify", project)
    assert result.exit_code == 1
    assert "differs from the event it names" in result.stderr
    # The export would have carried the edit: verify is what tells.


def test_verify_with_an_expected_head_catches_cut_off_events(project: Path) -> None:
    label_all(project, [("Suspicious", None)])
    recorded = run("audit", "verify", project).output.split("head ")[1].rstrip(")\n")
    assert run("audit", "verify", project, "--expect-head", recorded).exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_delete")
        raw.execute("DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)")
    # Cutting off the newest event leaves a chain that is intact in itself...
    assert run("audit", "verify", project).exit_code == 0
    # ...but not one that still holds the head a report or an earlier check recorded.
    result = run("audit", "verify", project, "--expect-head", recorded)
    assert result.exit_code == 1 and "expected head" in result.stderr


def test_import_keeps_the_reference_hash_so_a_change_still_shows(
    project: Path, batch: Path, tmp_path: Path
) -> None:
    import os

    label_all(project, [("Suspicious", None)])
    (batch / "Case_1/Visit_1/XC_CLINICAL/img1.jpg").write_bytes(b"\xff\xd8\xff replaced")
    os.utime(batch / "Case_1/Visit_1/XC_CLINICAL/img1.jpg", ns=(9, 9))
    seed = tmp_path / "seed.csv"
    seed.write_text("case,visit,file,label\nCase_1,Visit_1,img1.jpg,Suspicious\n", encoding="utf-8")
    assert run("import", project, "--csv", seed, "--annotator", "Dr B").exit_code == 0
    rescan = run("init", batch, "--out", project)
    assert "1 labelled images changed" in rescan.output


def test_no_output_appears_without_its_audit_event(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinlabel.store import engine

    label_all(project, [("Suspicious", None)])
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(project / DATABASE_FILE, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        result = run("export", project, "--no-report")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_user_error(result, "in use")
    assert not (project / "clinical_labels.csv").exists()
    assert not [p.name for p in project.iterdir() if p.name.endswith((".pending", ".tmp"))]


def test_outputs_are_readable_like_any_saved_file(project: Path) -> None:
    import os
    import stat

    label_all(project, [("Suspicious", None)])
    assert run("export", project, "--report").exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    for name in ("clinical_labels.csv", "clinical_labels_summary.txt"):
        mode = stat.S_IMODE((project / name).stat().st_mode)
        assert mode == 0o666 & ~umask, oct(mode)  # not mkstemp's private 0600


@pytest.mark.parametrize("url", ["notaurl", "mysql://someone@db/labels"])
def test_a_bad_database_url_is_refused_and_not_remembered(
    batch: Path, tmp_path: Path, url: str
) -> None:
    result = run("init", batch, "--out", tmp_path / "p", "--database-url", url)
    assert_user_error(result, "database URL")
    assert not (tmp_path / "p" / "project.toml").exists()


def test_an_unwritable_project_folder_is_a_message(batch: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere but into /proc
        locked = Path("/proc/self")
        if not locked.is_dir():
            pytest.skip("no unwritable folder to try as root")
    assert_user_error(run("init", batch, "--out", locked), "Cannot write")


def test_a_failed_first_scan_leaves_no_project_behind(tmp_path: Path) -> None:
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos").mkdir(parents=True)
    (tmp_path / "B" / "Case_1" / "Visit_1" / "photos" / "x.jpg").write_bytes(b"\xff\xd8\xff x")
    assert_user_error(run("init", tmp_path / "B", "--out", tmp_path / "p"), "XC")
    assert not (tmp_path / "p" / DATABASE_FILE).exists()
    assert_user_error(run("export", tmp_path / "p"), "not a clinlabel project")


def test_a_file_name_that_is_not_utf8_is_a_problem_not_a_crash(batch: Path, tmp_path: Path) -> None:
    folder = os.fsencode(batch / "Case_1" / "Visit_1" / "XC_CLINICAL")
    with open(os.path.join(folder, b"caf\xe9.jpg"), "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 latin-1 name")
    result = run("init", batch, "--out", tmp_path / "p")
    assert result.exit_code == 0, result.output
    assert "not valid UTF-8" in result.output
    assert "6 images" in result.output


def test_scan_lists_medical_images_the_viewer_cannot_show(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "imaging"))
    from dicom_factory import grey_dataset, pattern, write
    from pydicom.uid import ExplicitVRLittleEndian

    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    write(folder / "ok.dcm", grey_dataset(pattern(), signed=False, bits=12), ExplicitVRLittleEndian)
    report = grey_dataset(pattern(), signed=False, bits=12)
    del report.PixelData
    report.save_as(folder / "report.dcm", enforce_file_format=True)
    data = json.loads(run("scan", tmp_path / "Batch", "--json").output)
    # Both stay in the queue (label the unshowable one NA with a comment); one is listed.
    assert data["counts"]["images"] == 2
    assert data["cannot_show"] == [
        {"path": "Case_1/Visit_1/XC/report.dcm", "reason": "has no pixel data (no image to show)"}
    ]
    table = run("scan", tmp_path / "Batch").output
    assert "1 images the viewer cannot show" in table and "report.dcm: has no pixel data" in table
    quick = json.loads(run("scan", tmp_path / "Batch", "--json", "--quick").output)
    assert quick["cannot_show"] == []  # --quick reads no headers
