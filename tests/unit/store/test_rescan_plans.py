"""A rescan is a set of indexed joins: no table is scanned once per image (issue 14).

The rescan (every second `init`, every `clinlabel label` on an existing project) used
`NOT EXISTS (SELECT ... FROM scan_staging WHERE relpath = images.relpath)` without an index on
the staging table's paths: a full scan of the staging table per image, 283 s at 100,000 images.
Each statement the rescan runs is checked with SQLite's EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event

from clinlabel.store import images as image_rows
from clinlabel.store.sort_keys import natural_sort_key
from clinlabel.store.store import Store


def _rows(count: int, *, offset: int = 0) -> list[image_rows.ScanRow]:
    rows = []
    for index in range(offset, offset + count):
        case, visit = f"Case_{index // 100}", f"Visit_{index // 10 % 10}"
        relpath = f"{case}/{visit}/XC/img{index}.jpg"
        file = f"img{index}.jpg"
        keys = (natural_sort_key(case), natural_sort_key(visit), natural_sort_key(file))
        rows.append((index + 1, relpath, case, visit, "XC", file, "raster", 9, 1, *keys))
    return rows


def _plans(store: Store, statements: list[tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """For each statement, its plan as `detail` lines prefixed by their ancestors' details."""
    found = []
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            parents = {row[0]: (row[1], row[3]) for row in rows}
            found.append((sql, [_lineage(parents, row[0]) for row in rows]))
    return found


def _lineage(parents: dict[int, tuple[int, str]], node: int) -> str:
    parent, detail = parents[node]
    return f"{_lineage(parents, parent)} > {detail}" if parent in parents else detail


def test_every_statement_of_a_rescan_is_an_indexed_join() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open_dir(Path(folder))
        first = _rows(300)
        with store.write() as conn:
            image_rows.sync_scan(conn, [first], now="t0")
        statements: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
            if not many and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
                statements.append((sql, params))

        event.listen(store.engine, "before_cursor_execute", record)
        try:
            # 10 % gone, 10 % new, the rest unchanged: every branch of the rescan runs.
            with store.write() as conn:
                image_rows.sync_scan(conn, [first[30:] + _rows(30, offset=300)], now="t1")
        finally:
            event.remove(store.engine, "before_cursor_execute", record)
        plans = _plans(store, statements)
        store.close()
    assert len(plans) >= 5
    per_image_scans = [
        (sql.split()[0:6], line)
        for sql, lines in plans
        for line in lines
        if ("CORRELATED" in line or "LIST SUBQUERY" in line)
        and line.rsplit(" > ", 1)[-1].startswith("SCAN")
    ]
    assert per_image_scans == []
    # The staging table is looked up by path through an index wherever it is probed.
    staging_lookups = [
        line for _, lines in plans for line in lines if "scan_staging" in line or " s " in line
    ]
    assert staging_lookups, "the rescan reads the staging table"
