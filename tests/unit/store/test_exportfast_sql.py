"""The queries `clinlabel export --csv` of an SQLite project runs as text, without SQLAlchemy
(`store.csv_export_sql`), are the store's own queries compiled for SQLite: a change to those
(`store.events`, `store.exports`) fails here until the text is written again.

    PYTHONPATH=src python tests/unit/store/test_exportfast_sql.py   # rewrites the module
    ruff format src/clinlabel/store/csv_export_sql.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Select

from clinlabel.store import csv_export_sql
from clinlabel.store import events as event_rows
from clinlabel.store import exports as export_rows

MODULE = Path(csv_export_sql.__file__)

_HEAD = '''# ruff: noqa: E501
"""The store's queries that `clinlabel export --csv` of an SQLite project runs, compiled for
SQLite as text (`store.csv_export` runs them with the standard library's sqlite3, so that
command never imports SQLAlchemy). Written by `tests/unit/store/test_exportfast_sql.py` from
`store.events` and `store.exports`, which stay the queries' one definition: that test fails
when either changes and this text was not written again. Do not edit by hand."""

from __future__ import annotations

from typing import NamedTuple


class Query(NamedTuple):
    sql: str
    params: tuple[object, ...]

'''


def _sources() -> dict[str, Select[Any]]:
    scan, queue = event_rows.queue_queries("sqlite")
    named, stale = event_rows.label_mismatch_queries("sqlite")
    present, gone = export_rows.label_queries(frames=False, detailed=False)
    return {
        "NEWEST_SCAN": scan,
        "QUEUE": queue,
        "NAMED_LABEL": named,
        "STALE_LABEL": stale,
        "PRESENT_LABELS": present,
        "GONE_LABELS": gone,
    }


def _compiled(query: Select[Any]) -> tuple[str, tuple[object, ...]]:
    done = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return str(done), tuple(done.params[name] for name in done.positiontup or ())


def module_text() -> str:
    parts = [_HEAD]
    for name, query in _sources().items():
        sql, params = _compiled(query)
        parts.append(f"\n{name} = Query(\n    {sql!r},\n    {params!r},\n)\n")
    return "".join(parts)


def test_the_text_is_the_store_queries_compiled_for_sqlite() -> None:
    for name, query in _sources().items():
        assert getattr(csv_export_sql, name) == _compiled(query), (
            f"{name} changed: rewrite {MODULE.name} (run this file with python)"
        )


if __name__ == "__main__":
    MODULE.write_text(module_text(), encoding="utf-8")
