"""A bulk import's events, appended from text templates (`audit.bulk_log`, issue 12), are the
events `append_events` writes for the same changes: every stored column, every hash, and a
chain `audit verify` accepts, whatever characters the paths and data hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinlabel.audit import bulk_log, log, rows
from clinlabel.audit.bulk_log import append_image_events
from clinlabel.audit.chain import encode_data
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, append_events, verify_chain
from clinlabel.audit.status import ChainStatus
from clinlabel.store.store import Store

TS = "2026-12-06T10:00:00.000000Z"
TRICKY = ['plain', 'quote " and \\ backslash', "ünïcödé — ✓", "line\nbreak\ttab\x07bell",
          "\u2028\u2029 separators", "emoji 🩻", "", "'=SUM(A1)"]  # fmt: skip


def _changes() -> list[tuple[EventKind, int, str, int, dict[str, Any]]]:
    found = []
    for k, text in enumerate(TRICKY):
        data = {
            "old": None if k % 2 else {"label": text, "comment": "was"},
            "new": {"label": "NA", "comment": text},
            "sha256": None if k == 3 else f"{k:064x}",
            "source": {"import": f"/in/{text}.csv", "line": k + 2},
        }
        kind = EventKind.LABEL_SAVED if k % 2 else EventKind.LABEL_CHANGED
        found.append((kind, k + 1, f"Case {text}/Visit_1/XC/img{k}.png", k % 3, data))
    return found


def _chain(store: Store) -> ChainStatus:
    """The chain as `audit verify` checks it. Not the current labels: these label events name
    images, labels and an annotator the project does not hold, which that check refuses."""
    with store.read() as conn:
        return verify_chain(conn)


def _events(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM events ORDER BY id")]


def test_bulk_appended_events_are_the_events_append_events_writes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    generic, bulk = Store.open_dir(tmp_path / "a"), Store.open_dir(tmp_path / "b")
    try:
        for store in (generic, bulk):  # the chain does not start at the genesis link
            with store.write() as conn:
                append_event(conn, NewEvent(EventKind.SESSION_OPENED, "Dr Ü", ts_utc=TS))
        with generic.write() as conn:
            append_events(
                conn,
                [
                    NewEvent(kind, 'Dr "Ü"', data, image_id=i, image=path, frame=f, ts_utc=TS)
                    for kind, i, path, f, data in _changes()
                ],
            )
        with bulk.write() as conn:
            ids = append_image_events(
                conn,
                actor='Dr "Ü"',
                ts_utc=TS,
                new=[(kind, i, path, f, encode_data(d)) for kind, i, path, f, d in _changes()],
            )
        assert ids == list(range(2, 2 + len(TRICKY)))
        assert _events(bulk) == _events(generic)
        assert _chain(bulk).ok
    finally:
        generic.close()
        bulk.close()


def test_nothing_to_append_writes_nothing(tmp_path: Path) -> None:
    store = Store.open_dir(tmp_path)
    try:
        with store.write() as conn:
            assert append_image_events(conn, actor="a", ts_utc=TS, new=[]) == []
        assert _events(store) == []
    finally:
        store.close()


@pytest.mark.parametrize("text", TRICKY)
def test_the_chain_breaks_where_a_bulk_appended_event_is_changed(tmp_path: Path, text: str) -> None:
    import sqlite3

    from clinlabel.store.engine import DATABASE_FILE

    store = Store.open_dir(tmp_path)
    try:
        with store.write() as conn:
            append_image_events(
                conn,
                actor="a",
                ts_utc=TS,
                new=[(EventKind.LABEL_SAVED, 1, f"x/{text}", 0, encode_data({"c": text}))] * 3,
            )
        assert _chain(store).ok
        with sqlite3.connect(tmp_path / DATABASE_FILE) as raw:
            raw.execute("DROP TRIGGER events_no_update")
            changed = encode_data({"c": text + "!"})
            raw.execute("UPDATE events SET data = ? WHERE id = 2", (changed,))
        broken = _chain(store)
        assert not broken.ok and broken.first_broken_event == 2
    finally:
        store.close()


ODD = ["100% 'sure' \\ %s %(x)s ü — ✓", "it's", "%", "\\'", "‮rtl 🩻"]
"""Text for the fields every bulk event shares, written as the INSERT's constants (SQL string
literals, where a quote, a backslash or a percent sign means something to SQL or a driver)."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    if request.param == "sqlite":
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        stores = (Store.open_dir(tmp_path / "a"), Store.open_dir(tmp_path / "b"))
    else:
        server = request.getfixturevalue("postgres_server")
        stores = (
            Store.open_url(server.create_database()),
            Store.open_url(server.create_database()),
        )
    try:
        yield stores
    finally:
        for store in stores:
            store.close()


@pytest.mark.parametrize("odd", ODD)
def test_the_shared_fields_written_as_constants_are_stored_as_append_events_stores_them(
    two_stores: tuple[Store, Store], odd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time, the offset, the actor and the app version hold quotes, backslashes, percent
    signs (psycopg's placeholders) and non-ASCII: stored and hashed exactly as the generic
    path stores them, on SQLite and PostgreSQL, and the chain verifies."""
    generic, bulk = two_stores
    version = f"9.9 {odd}"
    for module in (bulk_log, rows):
        monkeypatch.setattr(module, "__version__", version)
    for module in (bulk_log, log):
        monkeypatch.setattr(module, "local_offset_minutes", lambda: -330)
    ts = odd  # a column of 40 characters on PostgreSQL
    actor = f"Dr {odd}"
    with generic.write() as conn:
        append_events(
            conn,
            [
                NewEvent(kind, actor, data, image_id=i, image=path, frame=f, ts_utc=ts)
                for kind, i, path, f, data in _changes()
            ],
        )
    with bulk.write() as conn:
        append_image_events(
            conn,
            actor=actor,
            ts_utc=ts,
            new=[(kind, i, path, f, encode_data(d)) for kind, i, path, f, d in _changes()],
        )
    stored = _events(bulk)
    assert stored == _events(generic)
    assert {(r[1], r[2], r[3], r[-3]) for r in stored} == {(ts, -330, actor, version)}
    assert _chain(bulk).ok
