"""`clinlabel export --csv` without SQLAlchemy (issue 12, `labelling.csv_export`): the plain
export of an SQLite project after a first one writes the very bytes the full path writes, the
same event, and still refuses what the full path refuses; anything else takes the full path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from clinlabel.audit.log import verify_store
from clinlabel.cli.app import cli
from clinlabel.labelling import csv_export
from clinlabel.labelling import outputs as full_outputs
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import meta
from clinlabel.store.engine import DATABASE_FILE

# Cells a spreadsheet or a careless CSV writer gets wrong: the delimiter, quotes, new lines, a
# leading formula character, tabs, text outside ASCII.
AWKWARD_FILES = ("=SUM(A1),x.png", 'say "hi".png', "+1 réf 日本.png", "@me; -2.png", "plain.png")
AWKWARD_COMMENTS = (
    "a, b",
    'he said "no"',
    "first line\nsecond line\r\nthird",
    '=HYPERLINK("http://x")',
    "\tindent, Ünïcödé ✓",
)


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _project(tmp_path: Path, database_url: str | None = None) -> Path:
    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for k, name in enumerate(AWKWARD_FILES):
        Image.new("RGB", (8, 6), (40 * k, 30, 90)).save(folder / name, format="PNG")
    init_project(tmp_path / "Batch", tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as project:
        session = LabellingSession(project, annotator="Dr Ç", interface="test")
        shown = session.start()
        for k, comment in enumerate(AWKWARD_COMMENTS):
            session.save_label(shown.view.id, ("NA", "Suspicious")[k % 2], comment)
            shown = session.next()
        session.close()
    return tmp_path / "project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path)


def full_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every export through `labelling.outputs`, as before this module."""
    monkeypatch.setattr(csv_export, "plan", lambda *_a, **_k: None)


def quick_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if an export goes through `labelling.outputs`."""

    def refused(*_a: object, **_k: object) -> None:
        raise AssertionError("the full path was taken")

    monkeypatch.setattr(full_outputs, "export_csvs", refused)


def _events(project: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = raw.execute("SELECT kind, actor, data FROM events ORDER BY id").fetchall()
    return [(str(k), str(a), str(d)) for k, a, d in found]


def _kept(project: Path) -> dict[str, object] | None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = raw.execute("SELECT value FROM meta WHERE key = 'verified_head'").fetchone()
    return None if found is None else dict(json.loads(found[0]))


def test_the_quick_export_writes_the_full_paths_bytes_and_event(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        full_path_only(patched)
        first = run("export", project, "--csv", tmp_path / "full.csv")
    assert first.exit_code == 0, first.output
    assert csv_export.plan(project, tmp_path / "quick.csv", force=False) is not None
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    assert quick.exit_code == 0, quick.output
    assert quick.output == first.output.replace("full.csv", "quick.csv")
    written = (tmp_path / "quick.csv").read_bytes()
    assert written == (tmp_path / "full.csv").read_bytes()
    assert written.startswith(b"\xef\xbb\xbfcase,visit,file,label,comment\r\n")
    assert "'=HYPERLINK" in written.decode("utf-8-sig")  # the formula guard applied
    *_, full_event, quick_event = _events(project)
    assert full_event[:2] == quick_event[:2] == ("export_written", full_event[1])
    full_data, quick_data = json.loads(full_event[2]), json.loads(quick_event[2])
    assert quick_data["path"] == str((tmp_path / "quick.csv").resolve())
    assert {**full_data, "path": ""} == {**quick_data, "path": ""}
    with open_project(project) as opened:
        assert verify_store(opened.store).ok  # its event chained as the store chains them
    # The head this export checked (the trail up to the full export's event) is kept.
    assert _kept(project) == {"event_id": len(_events(project)) - 1, "hash": _kept(project)["hash"]}


def test_the_quick_and_full_exports_agree_on_every_project_here(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exported again and again, each path after the other: always the same file."""
    assert run("export", project, "--csv", tmp_path / "a.csv").exit_code == 0
    for round_ in range(2):
        assert run("export", project, "--csv", tmp_path / f"quick{round_}.csv").exit_code == 0
        with monkeypatch.context() as patched:
            full_path_only(patched)
            assert run("export", project, "--csv", tmp_path / f"full{round_}.csv").exit_code == 0
        quick = (tmp_path / f"quick{round_}.csv").read_bytes()
        assert quick == (tmp_path / f"full{round_}.csv").read_bytes()
        assert quick == (tmp_path / "a.csv").read_bytes()


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE labels SET label = 'Non-Suspicious' WHERE label = 'NA'",
        "UPDATE labels SET comment = 'forged' WHERE comment = 'a, b'",
        "DELETE FROM labels WHERE comment = 'a, b'",
        "UPDATE images SET seq = NULL, present = 0 WHERE file LIKE '%plain%'",
    ],
)
def test_a_label_edited_behind_the_trail_is_refused_as_the_full_path_refuses_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute(edit)
    kept = _kept(project)
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    with monkeypatch.context() as patched:
        full_path_only(patched)
        full = run("export", project, "--csv", tmp_path / "full.csv")
    assert quick.exit_code == full.exit_code == 1
    said = [line for line in quick.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and said[0].startswith("Error: the audit trail is BROKEN at event ")
    assert quick.stderr == full.stderr  # the same event and reason
    assert "Traceback" not in quick.output
    assert _kept(project) == kept  # a broken check keeps no new head


@pytest.mark.parametrize("kept_first", [True, False])
def test_a_first_export_checks_the_whole_trail_as_the_full_path_does(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept_first: bool
) -> None:
    if kept_first:  # an earlier export kept a head, and then the trail below it was edited
        assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        raw.execute("UPDATE events SET actor = 'Mallory' WHERE id = 3")
        raw.execute("DELETE FROM meta WHERE key = ?", (meta.VERIFIED_HEAD,))
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    with monkeypatch.context() as patched:
        full_path_only(patched)
        full = run("export", project, "--csv", tmp_path / "full.csv")
    assert quick.exit_code == full.exit_code == 1
    assert "BROKEN at event 3 (its content does not match its hash)" in quick.stderr
    assert quick.stderr == full.stderr
    assert _kept(project) is None
    assert (tmp_path / "quick.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()


def test_a_kept_head_that_no_longer_matches_means_the_whole_trail(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        # An early event rewritten, and the kept head pointed at it with its new hash: the
        # head's own checks pass only if the chain leading to it is checked too.
        raw.execute("UPDATE events SET actor = 'Mallory' WHERE id = 2")
        raw.execute(
            "UPDATE meta SET value = ? WHERE key = ?",
            (json.dumps({"event_id": 3, "hash": "0" * 64}), meta.VERIFIED_HEAD),
        )
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    assert quick.exit_code == 1
    assert "BROKEN at event 2 " in quick.stderr


def test_an_interrupted_quick_export_leaves_the_project_and_the_file_as_they_were(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "labels.csv"
    assert run("export", project, "--csv", target).exit_code == 0
    before, events, kept = target.read_bytes(), _events(project), _kept(project)
    real = csv_export.write_labels_csv_batches

    def interrupted(batches: object, path: Path, **kwargs: object) -> int:
        real(batches, path, **kwargs)  # type: ignore[arg-type]
        path.write_text("half", encoding="utf-8")  # as if stopped while staging
        raise KeyboardInterrupt

    monkeypatch.setattr(csv_export, "write_labels_csv_batches", interrupted)
    planned = csv_export.plan(project, target, force=False)
    assert planned is not None
    with pytest.raises(KeyboardInterrupt):
        csv_export.export(planned, actor="me")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert _events(project) == events and _kept(project) == kept


def test_what_the_quick_export_does_not_take_goes_the_full_way(
    project: Path, tmp_path: Path
) -> None:
    assert csv_export.plan(project, None, force=False) is not None
    frames = project / "clinical_frame_labels.csv"
    frames.write_bytes(b"\xef\xbb\xbfcase,visit,file,frame,label,comment\r\n")
    assert csv_export.plan(project, None, force=False) is None  # a frame file to keep in step
    frames.unlink()
    (project / "project.toml").write_text("", encoding="utf-8")
    assert csv_export.plan(project, None, force=False) is None  # settings may name a server


def test_the_meta_keys_are_the_stores() -> None:
    assert (csv_export.BATCH_ROOT, csv_export.VERIFIED_HEAD) == (
        meta.BATCH_ROOT,
        meta.VERIFIED_HEAD,
    )


@pytest.mark.postgres
def test_a_postgresql_project_exports_the_same_bytes(
    tmp_path: Path, postgres_server: object
) -> None:
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    on_server = _project(tmp_path / "pg", database_url=url)
    local = _project(tmp_path / "local")
    for project in (on_server, local):
        for name in ("first.csv", "again.csv"):  # the second: the quick path where it applies
            assert run("export", project, "--csv", project / name).exit_code == 0
    assert csv_export.plan(on_server, None, force=False) is None
    assert (on_server / "again.csv").read_bytes() == (local / "again.csv").read_bytes()
    assert (on_server / "first.csv").read_bytes() == (local / "again.csv").read_bytes()


def test_a_label_whose_event_id_was_made_null_is_named_as_the_full_path_names_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("export", project, "--csv", tmp_path / "first.csv").exit_code == 0
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("PRAGMA writable_schema = ON")
        raw.execute(
            "UPDATE sqlite_master SET sql = replace(sql, 'event_id INTEGER NOT NULL', "
            "'event_id INTEGER') WHERE name = 'labels'"
        )
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("UPDATE labels SET event_id = NULL WHERE comment = 'a, b'")
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    with monkeypatch.context() as patched:
        full_path_only(patched)
        full = run("export", project, "--csv", tmp_path / "full.csv")
    assert quick.exit_code == full.exit_code == 1
    assert "BROKEN at event " in quick.stderr and quick.stderr == full.stderr
