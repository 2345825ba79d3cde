"""The hash chain names the first event that was tampered with."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_chain
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.store import Store


def _trail(tmp_path: Path, n: int) -> Store:
    store = Store.open_dir(tmp_path)
    with store.write() as conn:
        for i in range(n):
            append_event(conn, NewEvent(EventKind.SESSION_OPENED, "ann", {"n": str(i)}))
    return store


def _tamper(tmp_path: Path, sql: str) -> None:
    # A tamperer with file access can drop the triggers; the chain must still tell.
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER events_no_update")
        raw.execute("DROP TRIGGER events_no_delete")
        raw.execute(sql)


def test_intact_chain_verifies(tmp_path: Path) -> None:
    store = _trail(tmp_path, 5)
    with store.read() as conn:
        status = verify_chain(conn)
    assert status.ok and status.events == 5 and len(status.head_hash) == 64


def test_edited_event_is_named(tmp_path: Path) -> None:
    _trail(tmp_path, 5).close()
    _tamper(tmp_path, 'UPDATE events SET data = \'{"new":{"label":"x"}}\' WHERE id = 3')
    with Store.open_dir(tmp_path).read() as conn:
        status = verify_chain(conn)
    assert not status.ok and status.first_broken_event == 3
    assert status.reason is not None and "content" in status.reason


def test_deleted_event_is_named(tmp_path: Path) -> None:
    _trail(tmp_path, 5).close()
    _tamper(tmp_path, "DELETE FROM events WHERE id = 2")
    with Store.open_dir(tmp_path).read() as conn:
        status = verify_chain(conn)
    assert not status.ok and status.first_broken_event == 2


def test_rehashed_edit_breaks_the_next_link(tmp_path: Path) -> None:
    from clinlabel.audit.chain import event_hash

    _trail(tmp_path, 4).close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.row_factory = sqlite3.Row
        row = dict(raw.execute("SELECT * FROM events WHERE id = 2").fetchone())
    row["actor"] = "mallory"
    _tamper(
        tmp_path,
        f"UPDATE events SET actor = 'mallory', hash = '{event_hash(row)}' WHERE id = 2",
    )
    with Store.open_dir(tmp_path).read() as conn:
        status = verify_chain(conn)
    assert not status.ok and status.first_broken_event == 3


def test_canonical_form_is_plain_compact_json() -> None:
    import json

    from clinlabel.audit.chain import canonical_values

    values = (7, "2026-11-22T10:00:00.000000Z", 330, 'Dr "Ā"\n', None, "label_saved", 3.5, True)
    expected = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_values(values) == expected
