"""Incremental verification (a server's "Save progress") never lets a break through unnoticed
in what it checks, and `audit verify` (the whole chain) catches what it leaves out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clinlabel.audit.chain import event_hash
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, verify_store
from clinlabel.audit.verifier import ChainVerifier
from clinlabel.store.engine import DATABASE_FILE
from clinlabel.store.store import Store


def _append(store: Store, n: int, *, start: int = 0) -> None:
    with store.write() as conn:
        for i in range(start, start + n):
            append_event(conn, NewEvent(EventKind.SESSION_OPENED, "ann", {"n": str(i)}))


def _tamper(tmp_path: Path, sql: str) -> None:
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.execute("DROP TRIGGER IF EXISTS events_no_update")
        raw.execute("DROP TRIGGER IF EXISTS events_no_delete")
        raw.execute(sql)


def _rehashed_edit(tmp_path: Path, event_id: int) -> None:
    """Change an event's actor and store the matching hash: only its successor's link shows."""
    with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
        raw.row_factory = sqlite3.Row
        row = dict(raw.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone())
    row["actor"] = "mallory"
    _tamper(
        tmp_path,
        f"UPDATE events SET actor = 'mallory', hash = '{event_hash(row)}' WHERE id = {event_id}",
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open_dir(tmp_path)
    _append(opened, 10)
    return opened


def test_later_checks_cover_the_new_events_and_agree_with_a_full_check(
    tmp_path: Path, store: Store
) -> None:
    verifier = ChainVerifier(store)
    first = verifier.verify()
    assert first.ok and first.events == 10
    assert verifier.head is not None and verifier.head.event_id == 10
    _append(store, 5, start=10)
    again = verifier.verify()
    assert again == verify_store(store)
    assert again.ok and again.events == 15
    _append(store, 5, start=15)
    _tamper(tmp_path, "UPDATE events SET actor = 'mallory' WHERE id = 18")
    broken = verifier.verify()
    assert not broken.ok and broken.first_broken_event == 18
    assert broken == verify_store(store)
    store.close()


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE events SET actor = 'mallory' WHERE id = 10",  # the remembered head's content
        "DELETE FROM events WHERE id = 4",  # an event below it is removed
        "UPDATE events SET hash = '" + "0" * 64 + "' WHERE id = 10",  # the head's stored hash
    ],
)
def test_a_tampered_remembered_head_sends_it_back_to_a_full_check(
    tmp_path: Path, store: Store, tamper: str
) -> None:
    verifier = ChainVerifier(store)
    assert verifier.verify().ok
    _tamper(tmp_path, tamper)
    status = verifier.verify()
    assert not status.ok
    assert status == verify_store(store)
    assert verifier.head is None  # and it stays a full check until the chain verifies again
    store.close()


def test_a_rehashed_old_event_below_the_head_is_caught_by_the_full_check(
    tmp_path: Path, store: Store
) -> None:
    """What incremental checking leaves out (docs/adr/0009): an old event rewritten with a
    matching hash below the remembered head. A fresh verifier (a new server, `export`) and
    `audit verify` recompute everything and name the broken link."""
    verifier = ChainVerifier(store)
    assert verifier.verify().ok
    _rehashed_edit(tmp_path, 3)
    full = verify_store(store)
    assert not full.ok and full.first_broken_event == 4
    assert ChainVerifier(store).verify() == full
    store.close()


@pytest.mark.parametrize("broken", [None, 3, 10, 11, 19])
def test_the_spawned_check_of_a_long_chain_agrees_with_the_one_process_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: int | None
) -> None:
    """`audit verify` and the command-line export split a long chain over spawned processes
    (the parent decides what is long: the children never see this patch)."""
    from clinlabel import spawned as spawned_module
    from clinlabel.audit import verifier

    monkeypatch.setattr(verifier, "PARALLEL_FROM", 4)
    started: list[int] = []
    real_start = spawned_module.start_spawned

    def spy(calls: list[object]) -> object:
        started.append(len(calls))
        return real_start(calls)  # type: ignore[arg-type]

    monkeypatch.setattr(spawned_module, "start_spawned", spy)
    store = Store.open_dir(tmp_path)
    _append(store, 20)
    if broken is not None:
        _tamper(tmp_path, f"UPDATE events SET actor = 'mallory' WHERE id = {broken}")
    spawned = ChainVerifier(store).start(parallel=True)()
    assert started == [3]  # two halves of the chain and the labels
    assert spawned == verify_store(store)
    assert spawned.ok is (broken is None)
    assert spawned.first_broken_event == broken
    store.close()


def test_the_spawned_check_also_checks_the_current_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinlabel.audit import verifier

    monkeypatch.setattr(verifier, "PARALLEL_FROM", 4)
    store = Store.open_dir(tmp_path)
    _append(store, 6)
    with store.write() as conn:  # a current label that no event accounts for
        conn.exec_driver_sql("INSERT INTO annotators (name, created_at) VALUES ('ann', 'now')")
        conn.exec_driver_sql(
            "INSERT INTO images (relpath, case_name, visit, folder, file, kind, size, mtime_ns,"
            " present, changed, first_seen_at) VALUES ('C/V/XC/a.png', 'C', 'V', 'XC',"
            " 'XC/a.png', 'raster', 1, 1, 1, 0, 'now')"
        )
        conn.exec_driver_sql(
            "INSERT INTO labels (image_id, annotator_id, frame, label, comment, labelled_at,"
            " event_id) VALUES (1, 1, 0, 'Suspicious', '', 'now', 2)"
        )
    spawned = ChainVerifier(store).start(parallel=True)()
    assert not spawned.ok and spawned.first_broken_event == 2
    assert spawned == verify_store(store)
    store.close()
