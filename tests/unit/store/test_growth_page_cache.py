"""Whole-table statements run with a large SQLite page cache, and the connection goes back to
the pool with its own (issue 14: with the default 2 MB, a rescan that renumbers a million-image
queue and the audit check's grouped read of every label event spilled and re-read pages, and
grew faster than the project)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from clinlabel.audit.verifier import ChainVerifier
from clinlabel.store import images as image_rows
from clinlabel.store.page_cache import LARGE_CACHE_KIB, large_cache
from clinlabel.store.sort_keys import natural_sort_key
from clinlabel.store.store import Store


def _rows(count: int, *, offset: int = 0) -> list[image_rows.ScanRow]:
    rows = []
    for index in range(offset, offset + count):
        case, visit = f"Case_{index // 100}", f"Visit_{index // 10 % 10}"
        file = f"img{index}.jpg"
        keys = (natural_sort_key(case), natural_sort_key(visit), natural_sort_key(file))
        rows.append(
            (index + 1, f"{case}/{visit}/XC/{file}", case, visit, "XC", file, "raster", 9, 1, *keys)
        )
    return rows


@pytest.fixture
def store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open_dir(Path(folder))
        yield store
        store.close()


class CacheSeen:
    """The page cache (`PRAGMA cache_size`) in force when statements starting with `prefix` ran."""

    def __init__(self, store: Store, prefix: str) -> None:
        self.store, self.prefix, self.seen = store, prefix, list[int]()

    def __enter__(self) -> CacheSeen:
        event.listen(self.store.engine, "before_cursor_execute", self._look)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.store.engine, "before_cursor_execute", self._look)

    def _look(self, _c: Any, cursor: Any, sql: str, _p: Any, _x: Any, _many: bool) -> None:
        if " ".join(sql.split()).startswith(self.prefix):
            self.seen.append(int(cursor.connection.execute("PRAGMA cache_size").fetchone()[0]))


def _cache_now(store: Store) -> int:
    with store.read() as conn:
        return int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())


def test_a_rescan_renumbers_the_queue_with_the_large_cache(store: Store) -> None:
    with store.write() as conn:
        image_rows.sync_scan(conn, [_rows(300)], now="t0")
    default = _cache_now(store)
    assert default != -LARGE_CACHE_KIB
    with CacheSeen(store, "UPDATE images") as seen, store.write() as conn:
        # 10 % gone and 10 % new: every later image moves.
        counts = image_rows.sync_scan(
            conn, [_rows(270, offset=30) + _rows(30, offset=300)], now="t1"
        )
    assert (counts.removed, counts.new) == (30, 30)
    assert seen.seen and set(seen.seen) == {-LARGE_CACHE_KIB}
    assert _cache_now(store) == default


def test_the_audit_checks_current_labels_with_the_large_cache(store: Store) -> None:
    with store.write() as conn:
        image_rows.sync_scan(conn, [_rows(50)], now="t0")
    default = _cache_now(store)
    with CacheSeen(store, "SELECT labels.event_id FROM labels") as seen:
        status = ChainVerifier(store).verify()
    assert status.ok
    assert seen.seen == [-LARGE_CACHE_KIB]
    assert _cache_now(store) == default


def test_the_cache_is_given_back_when_the_block_fails(store: Store) -> None:
    default = _cache_now(store)
    with pytest.raises(RuntimeError), store.read() as conn, large_cache(conn):
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -LARGE_CACHE_KIB
        raise RuntimeError("interrupted")
    assert _cache_now(store) == default
