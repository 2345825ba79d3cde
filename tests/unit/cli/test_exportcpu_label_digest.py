"""`clinlabel export --csv` again compares with the trail only the labels that changed since the
last full check (issue 12, by CPU time: `audit.label_digest`): what a first export found right is
kept as a digest beside the verified head, and every edit behind the trail's back between two
exports is still refused, with the full path's one line, and no new head or digest kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clinlabel.audit import label_digest
from clinlabel.audit.chain import VerifiedHead
from clinlabel.audit.label_digest import KeptLabels
from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import csv_export as sqlite_rows
from clinlabel.store import events as event_rows
from clinlabel.store import label_checks, meta
from clinlabel.store.engine import DATABASE_FILE

from .test_exportfast_csv import _project, full_path_only, quick_path_only

ANNOTATOR = "Dr Ç"  # the annotator of `_project`


def run(*args: object) -> Result:
    # Exceptions caught: a traceback is the defect, reported as the result's exception.
    return CliRunner().invoke(cli, [str(a) for a in args])


@contextmanager
def _session(project: Path) -> Iterator[LabellingSession]:
    with open_project(project) as opened:
        session = LabellingSession(opened, annotator=ANNOTATOR, interface="test")
        session.start()
        try:
            yield session
        finally:
            session.close()


def _image_id(project: Path, file_like: str) -> int:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = raw.execute("SELECT id FROM images WHERE file LIKE ?", (file_like,)).fetchone()
    return int(found[0])


def _kept(project: Path) -> tuple[str | None, str | None]:
    """The kept head and labels' digest, as stored."""
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        found = dict(raw.execute("SELECT key, value FROM meta").fetchall())
    return found.get(meta.VERIFIED_HEAD), found.get(meta.VERIFIED_LABELS)


def _sql(project: Path, *statements: str) -> None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        for statement in statements:
            raw.execute(statement)


def _label_row(project: Path, file_like: str) -> tuple[list[str], tuple[object, ...]]:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        cursor = raw.execute(
            "SELECT labels.* FROM labels JOIN images ON images.id = labels.image_id "
            "WHERE images.file LIKE ?",
            (file_like,),
        )
        return [d[0] for d in cursor.description], tuple(cursor.fetchone())


def _put_back(project: Path, row: tuple[list[str], tuple[object, ...]]) -> None:
    """The label row as it was, same id and every column: what the digest saw."""
    columns, values = row
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute(
            "DELETE FROM labels WHERE id = ? OR (image_id, annotator_id, frame) = (?, ?, ?)",
            (values[0], *values[1:4]),
        )
        raw.execute(
            f"INSERT INTO labels ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            values,
        )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Five images, four labelled (one label was cleared), exported once: head and digest kept."""
    made = _project(tmp_path)
    with _session(made) as session:
        session.clear_label(_image_id(made, "%plain%"))
    assert run("export", made, "--csv", tmp_path / "first.csv").exit_code == 0
    head, digest = _kept(made)
    assert head is not None and digest is not None
    return made


def _afters(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The `after` of every label check the quick export runs (None: every label)."""
    seen: list[int | None] = []
    real = sqlite_rows.label_mismatch

    def spy(conn: sqlite3.Connection, *, after: int | None = None) -> tuple[int, str] | None:
        seen.append(after)
        return real(conn, after=after)

    monkeypatch.setattr(sqlite_rows, "label_mismatch", spy)
    return seen


def _refused_as_the_full_path_refuses(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Result:
    before = _kept(project)
    with monkeypatch.context() as patched:
        quick_path_only(patched)
        quick = run("export", project, "--csv", tmp_path / "quick.csv")
    assert quick.exception is None or isinstance(quick.exception, SystemExit), quick.exception
    assert _kept(project) == before  # neither the head nor the digest moves past a break
    with monkeypatch.context() as patched:
        full_path_only(patched)
        full = run("export", project, "--csv", tmp_path / "full.csv")
    assert quick.exit_code == full.exit_code == 1
    said = [line for line in quick.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and said[0].startswith("Error: the audit trail is BROKEN at event ")
    assert quick.stderr == full.stderr  # the same event and reason
    return quick


def _kept_labels(project: Path) -> KeptLabels:
    found = KeptLabels.from_kept_text(_kept(project)[1])
    assert found is not None
    return found


def _kept_head(project: Path) -> VerifiedHead:
    found = VerifiedHead.from_kept_text(_kept(project)[0])
    assert found is not None
    return found


def _whole_digest(project: Path) -> str:
    database = sqlite_rows.open_database(project)
    assert database is not None
    conn = database.connect()
    try:
        with database.read(conn):
            whole = sqlite_rows.labels_digest(conn)
    finally:
        conn.close()
    assert whole is not None
    return whole


def test_the_repeat_export_compares_only_what_changed_since_the_kept_head(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afters = _afters(monkeypatch)
    # Here "few" is under half of the (four, then five) labels.
    monkeypatch.setattr(label_digest, "REFRESH_SHARE", 2)
    first = _kept_head(project)
    assert _kept_labels(project) == KeptLabels(first, _whole_digest(project))
    assert run("export", project, "--csv", tmp_path / "again.csv").exit_code == 0
    assert afters == [first.event_id]  # the labels up to the kept head: shown by their digest
    second = _kept_head(project)
    assert second.event_id > first.event_id
    assert _kept_labels(project) == KeptLabels(second, _whole_digest(project))  # moved on
    # A label changed after it: compared in full, the others shown by the digest, the changed
    # one as it was put back from the trail; the digest stays at its head while few change.
    with _session(project) as session:
        session.save_label(_image_id(project, "%say%"), "Suspicious", "changed")
    for name in ("third", "fourth"):
        assert run("export", project, "--csv", tmp_path / f"{name}.csv").exit_code == 0
        assert afters[-1] == second.event_id
        assert _kept_labels(project).head == second and _kept_head(project) != second
    # As many given or changed since as half of all: the digest is taken again at the newest
    # head.
    with _session(project) as session:
        session.save_label(_image_id(project, "%plain%"), "NA", "again")
        session.save_label(_image_id(project, "%=SUM%"), "Suspicious", "changed too")
    assert run("export", project, "--csv", tmp_path / "fifth.csv").exit_code == 0
    assert afters[-1] == second.event_id
    third = _kept_head(project)
    assert _kept_labels(project) == KeptLabels(third, _whole_digest(project))
    # A label cleared: it cannot be put back from the newer events, so every label is compared
    # once, and a new digest taken.
    with _session(project) as session:
        session.clear_label(_image_id(project, "%@me%"))
    assert run("export", project, "--csv", tmp_path / "sixth.csv").exit_code == 0
    assert afters[-1] is None
    assert _kept_labels(project) == KeptLabels(_kept_head(project), _whole_digest(project))
    assert run("export", project, "--csv", tmp_path / "seventh.csv").exit_code == 0
    assert afters[-1] is not None and afters[-1] > third.event_id
    # And the full path wrote the same file.
    full_path_only(monkeypatch)
    assert run("export", project, "--csv", tmp_path / "full.csv").exit_code == 0
    assert (tmp_path / "seventh.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()


def test_the_full_path_keeps_and_uses_the_same_digest(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--report` (and the page's Finish) check through `audit.verifier`: the same rule."""
    seen: list[int | None] = []
    real = event_rows.first_label_mismatch

    def spy(conn: object, *, after: int | None = None) -> tuple[int, str] | None:
        seen.append(after)
        return real(conn, after=after)  # type: ignore[arg-type]

    monkeypatch.setattr(event_rows, "first_label_mismatch", spy)
    kept = _kept_head(project)
    reported = run("export", project, "--csv", tmp_path / "r" / "a.csv", "--report")
    assert reported.exit_code == 0, reported.output
    assert seen == [kept.event_id]
    assert _kept_labels(project) == KeptLabels(_kept_head(project), _whole_digest(project))
    _sql(project, "UPDATE labels SET comment = 'forged' WHERE comment = 'a, b'")
    before = _kept(project)
    refused = run("export", project, "--csv", tmp_path / "r" / "b.csv", "--report")
    assert refused.exit_code == 1
    assert "the audit trail is BROKEN at event " in refused.stderr
    assert seen[-1] is None and _kept(project) == before


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE labels SET label = 'Non-Suspicious' WHERE comment = 'a, b'",
        "UPDATE labels SET comment = 'forged' WHERE comment = 'a, b'",
        "UPDATE labels SET labelled_at = '2020-01-01T00:00:00.000000Z' WHERE comment = 'a, b'",
        "UPDATE labels SET sha256 = '" + "0" * 64 + "' WHERE comment = 'a, b'",
        "UPDATE labels SET event_id = event_id - 1 WHERE comment = 'a, b'",
        "UPDATE labels SET event_id = (SELECT max(id) FROM events) WHERE comment = 'a, b'",
        # Past the head: put back from the trail as it was, but compared with no event.
        "UPDATE labels SET event_id = 999999 WHERE comment = 'a, b'",
        "DELETE FROM labels WHERE comment = 'a, b'",
        # A label inserted on the image whose label was cleared, naming another's event.
        "INSERT INTO labels (image_id, annotator_id, frame, label, comment, labelled_at, sha256,"
        " event_id) SELECT (SELECT id FROM images WHERE file LIKE '%plain%'), annotator_id,"
        " frame, label, comment, labelled_at, sha256, event_id FROM labels"
        " WHERE comment = 'a, b'",
        # Two images' paths swapped, each row still consistent with itself.
        "UPDATE images SET relpath = relpath || '#', file = file || '#' WHERE file LIKE '%say%'"
        " ;; UPDATE images SET relpath = replace(relpath, '=SUM(A1),x.png', 'say \"hi\".png'),"
        " file = replace(file, '=SUM(A1),x.png', 'say \"hi\".png') WHERE file LIKE '%=SUM%'"
        " ;; UPDATE images SET relpath = replace(relpath, 'say \"hi\".png#', '=SUM(A1),x.png'),"
        " file = replace(file, 'say \"hi\".png#', '=SUM(A1),x.png') WHERE file LIKE '%#'",
        # An image moved to another case, its path along with it.
        "UPDATE images SET case_name = 'Case_2', relpath = replace(relpath, 'Case_1', 'Case_2')"
        " WHERE file LIKE '%say%'",
        "UPDATE annotators SET name = 'Mallory'",
        "UPDATE labels SET comment = CAST(comment AS BLOB) WHERE comment = 'a, b'",
    ],
)
def test_a_label_edited_between_two_exports_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    # As someone with sqlite3 and the schema at hand would.
    _sql(project, "DROP TRIGGER images_identity_fixed", *edit.split(" ;; "))
    _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)


def test_a_label_cleared_in_the_trail_but_left_in_the_table_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row put back exactly as the digest saw it: only the trail's newer events show it."""
    row = _label_row(project, "%say%")
    with _session(project) as session:
        session.clear_label(_image_id(project, "%say%"))
    _put_back(project, row)
    quick = _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)
    assert "do not match the newest label event" in quick.stderr


def test_a_label_changed_in_the_trail_but_put_back_in_the_table_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _label_row(project, "%say%")
    with _session(project) as session:
        session.save_label(_image_id(project, "%say%"), "Non-Suspicious", "changed")
    _put_back(project, row)
    _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)


def test_a_label_given_after_the_kept_head_and_then_edited_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _session(project) as session:
        session.save_label(_image_id(project, "%plain%"), "NA", "given later")
    _sql(project, "UPDATE labels SET comment = 'forged' WHERE comment = 'given later'")
    _refused_as_the_full_path_refuses(project, tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"head": {"event_id": 1, "hash": "x"}, "digest": "short"}',
        '{"head": {"event_id": 1e400, "hash": "x"}, "digest": "%s"}' % ("0" * 64),
        '{"digest": "%s"}' % ("0" * 64),
    ],
)
def test_a_kept_digest_edited_by_hand_means_checking_every_label(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    _sql(project, f"UPDATE meta SET value = '{value}' WHERE key = '{meta.VERIFIED_LABELS}'")
    afters = _afters(monkeypatch)
    result = run("export", project, "--csv", tmp_path / "again.csv")
    assert result.exit_code == 0, result.output
    assert afters == [None]
    assert KeptLabels.from_kept_text(_kept(project)[1]) is not None  # a good one kept again


def test_a_digest_whose_head_was_edited_means_checking_every_label(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = _kept_labels(project)
    moved = KeptLabels(VerifiedHead(kept.head.event_id - 1, kept.head.hash), kept.digest)
    _sql(project, f"UPDATE meta SET value = '{moved.kept_text()}' WHERE key = 'verified_labels'")
    afters = _afters(monkeypatch)
    assert run("export", project, "--csv", tmp_path / "again.csv").exit_code == 0
    assert afters == [None]


def test_both_paths_take_the_same_digest_however_the_labels_are_read_in_ranges(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _whole_digest(project)
    monkeypatch.setattr(label_checks, "DIGEST_RANGE", 2)  # labels 1..5 read as 1-2, 3-4, 5
    assert _whole_digest(project) == whole
    for size in (3, 16_384):
        monkeypatch.setattr(label_checks, "DIGEST_RANGE", size)
        with open_project(project) as opened, opened.store.read() as conn:
            assert event_rows.labels_digest(conn) == whole
    assert _kept_labels(project).digest == whole
