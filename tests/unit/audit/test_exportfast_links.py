"""The whole-trail check of `clinlabel export --csv` hashes SQLite's own JSON text of each event
(`audit.links.text_or_values_hash`) and falls back to `audit.chain`'s encoding where the two
texts differ: the same verdict as `audit verify` on any content, intact or edited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_store
from clinlabel.labelling import csv_export
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import csv_export as sqlite_rows
from clinlabel.store.engine import DATABASE_FILE

from ..labelling.conftest import make_batch

# Text SQLite's json_array and audit.chain may write differently: escapes, control characters
# (tab is the one a comment may hold), characters outside the BMP, separators, quotes.
ODD = ["tab\there", 'quote " and \\ back', "é ü 日本 😀", "\u2028\u2029", "</script>", "a/b", ""]


def _check(project: Path) -> tuple[bool, int | None, str | None]:
    database = sqlite_rows.open_database(project)
    assert database is not None
    conn = database.connect()
    try:
        with database.read(conn):
            status, *_ = csv_export._check(conn, None)
    finally:
        conn.close()
    return status.ok, status.first_broken_event, status.reason


@pytest.fixture
def project(tmp_path: Path) -> Path:
    init_project(make_batch(tmp_path / "Batch"), tmp_path / "project")
    with open_project(tmp_path / "project") as opened, opened.store.write() as conn:
        for k, text in enumerate(ODD):
            append_event(
                conn,
                NewEvent(
                    EventKind.EXPORT_WRITTEN,
                    f"Dr {text}",
                    {"path": text, "rows": k, "share": k / 7, "big": 2**53 + k, "none": None},
                    tz_offset_min=-330,
                    active_ms=10**12 + k,
                ),
            )
    return tmp_path / "project"


def test_odd_content_verifies_as_audit_verify_says(project: Path) -> None:
    with open_project(project) as opened:
        assert verify_store(opened.store).ok
    assert _check(project)[0]


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE events SET actor = 'Dr tab here' WHERE actor = 'Dr tab\there'",
        "UPDATE events SET data = replace(data, '日本', '日本 ') WHERE actor LIKE 'Dr é%'",
        "UPDATE events SET active_ms = active_ms + 0.5 WHERE actor = 'Dr a/b'",
        "UPDATE events SET tz_offset_min = 60 WHERE actor = 'Dr </script>'",
    ],
)
def test_an_edited_event_is_named_as_audit_verify_names_it(project: Path, edit: str) -> None:
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        assert raw.execute(edit).rowcount == 1
    with open_project(project) as opened:
        full = verify_store(opened.store)
    assert not full.ok
    assert _check(project) == (False, full.first_broken_event, full.reason)


def test_a_blob_in_the_trail_gets_the_same_answer_as_audit_verify(project: Path) -> None:
    """SQLite's json_array refuses a BLOB: the check reads the values instead."""
    with sqlite3.connect(project / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        raw.execute("UPDATE events SET actor = CAST(actor AS BLOB) WHERE actor = 'Dr a/b'")
    with open_project(project) as opened:
        try:
            full: object = verify_store(opened.store)
        except Exception as exc:  # whatever audit verify does, the export's check does too
            full = type(exc)
    try:
        quick: object = _check(project)
    except Exception as exc:
        quick = type(exc)
    if isinstance(full, type):
        assert quick is full
    else:
        assert quick == (full.ok, full.first_broken_event, full.reason)  # type: ignore[attr-defined]
