"""The verified head kept in `meta` (issue 12: `clinlabel export` again checks only what was
added since the last check, in a new process): the next verifier starts from it, agrees with a
full check on what it covers, falls back to a full check when the head was tampered with, and
`audit verify` never uses it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import clinlabel.audit.verifier as verifier_module
from clinlabel.audit.chain import GENESIS
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_store
from clinlabel.audit.verifier import ChainVerifier
from clinlabel.store import meta
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.store import Store


def _append(store: Store, n: int, *, start: int = 0) -> None:
    with store.write() as conn:
        for i in range(start, start + n):
            append_event(conn, NewEvent(EventKind.SESSION_OPENED, "ann", {"n": str(i)}))


def _tamper(tmp_path: Path, sql: str) -> None:
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER IF EXISTS events_no_update")
        raw.execute(sql)


def _kept(store: Store) -> dict[str, object] | None:
    with store.read() as conn:
        text = meta.get_meta(conn, meta.VERIFIED_HEAD)
    return None if text is None else dict(json.loads(text))


def _firsts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first event id of every range the verifiers check."""
    seen: list[int] = []
    real = verifier_module.verify_range

    def spy(conn: object, *, first: int, prev_hash: str, **kwargs: object) -> object:
        seen.append(first)
        return real(conn, first=first, prev_hash=prev_hash, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verifier_module, "verify_range", spy)
    # A whole check is the range from the first event.
    monkeypatch.setattr(
        verifier_module,
        "verify_chain",
        lambda conn, **kw: spy(conn, first=1, prev_hash=GENESIS, **kw),
    )
    return seen


def test_the_next_process_checks_only_the_events_since_the_kept_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open_dir(tmp_path)
    _append(store, 10)
    firsts = _firsts(monkeypatch)
    assert ChainVerifier(store, remember=True).verify().ok
    assert firsts == [1] and _kept(store) == {"event_id": 10, "hash": _hash_of(tmp_path, 10)}
    _append(store, 5, start=10)
    # A new verifier (another process, as the next `clinlabel export`): only 11..15.
    status = ChainVerifier(store, remember=True).verify()
    assert status == verify_store(store) and status.events == 15
    assert firsts == [1, 11] and _kept(store) == {"event_id": 15, "hash": _hash_of(tmp_path, 15)}
    # A break after the kept head is found.
    _append(store, 3, start=15)
    _tamper(tmp_path, "UPDATE events SET actor = 'mallory' WHERE id = 17")
    broken = ChainVerifier(store, remember=True).verify()
    assert not broken.ok and broken.first_broken_event == 17
    assert broken == verify_store(store)
    store.close()


def _hash_of(tmp_path: Path, event_id: int) -> str:
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        return str(raw.execute("SELECT hash FROM events WHERE id = ?", (event_id,)).fetchone()[0])


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE events SET actor = 'mallory' WHERE id = 12",  # the kept head's content
        "DELETE FROM events WHERE id = 4",  # an event below it removed
        'UPDATE meta SET value = \'{"event_id": 12, "hash": "' + "1" * 64 + "\"}' "
        "WHERE key = 'verified_head'",  # the kept head itself, pointing at no such event
        "UPDATE meta SET value = 'not json' WHERE key = 'verified_head'",
    ],
)
def test_a_kept_head_that_does_not_match_its_event_means_a_full_check(
    tmp_path: Path, tamper: str
) -> None:
    store = Store.open_dir(tmp_path)
    _append(store, 12)
    assert ChainVerifier(store, remember=True).verify().ok
    _tamper(tmp_path, "DROP TRIGGER IF EXISTS events_no_delete")
    _tamper(tmp_path, tamper)
    status = ChainVerifier(store, remember=True).verify()
    assert status == verify_store(store)
    store.close()


def test_audit_verify_checks_the_whole_chain_whatever_head_is_kept(tmp_path: Path) -> None:
    from clinlabel.labelling.audit_trail import verify_project
    from clinlabel.labelling.project import init_project, open_project

    batch = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    batch.mkdir(parents=True)
    (batch / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    init_project(tmp_path / "Batch", tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        _append(project.store, 6)
        assert project.chain.verify().ok
        kept = _kept(project.store)
    assert kept is not None and int(str(kept["event_id"])) >= 6
    # An early event edited in place: below the kept head, so only a whole check sees it.
    _tamper(tmp_path / "project", "UPDATE events SET actor = 'mallory' WHERE id = 2")
    status = verify_project(tmp_path / "project")
    assert not status.ok and status.first_broken_event == 2
